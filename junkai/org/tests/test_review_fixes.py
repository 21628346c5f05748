"""Rules found missing in review: same-day transfers, who may end what, officer records,
the 幹部交番's own 管理責任者."""

from __future__ import annotations

from junkai.access.roles import posts_visible_to
from junkai.org.models import Assignment, Role, today
from junkai.testing import PersonaTestCase


class SameDayTransferTests(PersonaTestCase):
    def transfer(self, username: str, post_code: str) -> None:
        self.client_for("kacho").post(
            f"/org/stations/{self.station.id}/assignments/new/",
            {
                "officer": self.officer(username).staff_number,
                "role": Role.BEAT_OFFICER,
                "post": self.post(post_code).id,
                "valid_from": today().isoformat(),
                "end_current": "on",
            },
        )

    def test_second_transfer_on_the_same_day_leaves_one_scope(self) -> None:
        self.transfer("officer3a", "K1")
        self.transfer("officer3a", "K2")
        officer = self.officer("officer3a")
        self.assertEqual(set(posts_visible_to(officer).values_list("code", flat=True)), {"K2"})
        self.assertTrue(Assignment.objects.get(officer=officer, post=self.post("K1")).cancelled)
        self.assertEqual(
            self.client_for("officer3a").get(f"/households/{self.aoki.id}/").status_code, 404
        )


class WhoMayEndWhatTests(PersonaTestCase):
    def test_manager_cannot_end_the_chiefs_assignment(self) -> None:
        chief = self.officer("chief").current_assignments()[0]
        response = self.client_for("kacho").post(
            f"/org/assignments/{chief.id}/end/", {"valid_to": today().isoformat()}
        )
        self.assertContains(response, "署長の配置の終了はシステム管理者が行います")
        self.assertTrue(Assignment.objects.get(id=chief.id).is_valid_on(today()))

    def test_manager_cannot_end_a_custodian_designation(self) -> None:
        custodian = Assignment.objects.current().get(post=self.post("K1"), role=Role.CUSTODIAN)
        response = self.client_for("kacho").post(
            f"/org/assignments/{custodian.id}/end/", {"valid_to": today().isoformat()}
        )
        self.assertContains(response, "統括管理責任者（署長）")

    def test_manager_cannot_pull_an_officer_from_another_station(self) -> None:
        response = self.client_for("kacho").post(
            f"/org/stations/{self.station.id}/assignments/new/",
            {
                "officer": "OTHER-9001",
                "role": Role.BEAT_OFFICER,
                "post": self.post("K1").id,
                "valid_from": today().isoformat(),
                "end_current": "on",
            },
        )
        self.assertContains(response, "所属をまたぐ異動はシステム管理者（本部）が行います")
        self.assertTrue(self.other["chief_assignment"].is_valid_on(today()))


class OfficerRecordTests(PersonaTestCase):
    def test_a_future_assignment_does_not_open_the_record(self) -> None:
        import datetime as dt

        from junkai.org import actions

        # A transfer announced for next year, done by the system: not yet the station's officer.
        actions.do_assign(
            self.other["officer"],
            acting_officer=None,
            role=Role.BEAT_OFFICER,
            post=self.post("K1"),
            valid_from=today() + dt.timedelta(days=365),
            end_current=False,
        )
        page = self.client_for("kacho").get(f"/org/officers/{self.other['officer'].id}/")
        self.assertEqual(page.status_code, 404)


class KanbuKobanManagerTests(PersonaTestCase):
    def test_the_kanbu_koban_head_designates_its_key_deputy(self) -> None:
        kb = self.post("KB")
        self.assertEqual(
            self.client_for("kacho").get(f"/org/posts/{kb.id}/key-deputy/").status_code, 404
        )
        response = self.client_for("kanbucho").post(
            f"/org/posts/{kb.id}/key-deputy/",
            {"officer": self.officer("kanbu_b").id, "valid_from": today().isoformat()},
        )
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        self.assertContains(self.client_for("kanbucho").get("/"), "保管庫の鍵の代理保管者を指定")
