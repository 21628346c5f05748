"""Organisation pages: transfers, designations, the scope each assignment gives."""

from __future__ import annotations

import datetime as dt

from junkai.access.roles import beats_visible_to, own_beats, posts_visible_to
from junkai.audit.models import AuditEvent, EventType
from junkai.org.models import Assignment, KeyDeputy, Role, today
from junkai.testing import PersonaTestCase


class ScopeTests(PersonaTestCase):
    def visible_codes(self, username: str) -> set[str]:
        return set(posts_visible_to(self.officer(username)).values_list("code", flat=True))

    def test_scope_of_each_persona(self) -> None:
        everything = {"K1", "K2", "K3", "KB", "C1", "C2", "P1"}
        expected = {
            "chief": everything,
            "kacho": everything,
            "dairi": everything,
            "kobancho1": {"K1"},
            "officer1a": {"K1"},
            "officer1b": {"K1"},
            "officer2a": {"K2"},
            "chuzai1": {"C1"},
            "kanbucho": {"KB"},
            "hq": set(),
            "staff": set(),
        }
        for username, codes in expected.items():
            with self.subTest(username=username):
                self.assertEqual(self.visible_codes(username), codes)

    def test_beat_officer_sees_the_beats_of_his_post(self) -> None:
        beats = set(beats_visible_to(self.officer("officer1a")).values_list("code", flat=True))
        self.assertEqual(beats, {"K1-1", "K1-2", "K1-3"})
        own = set(own_beats(self.officer("officer1a")).values_list("code", flat=True))
        self.assertEqual(own, {"K1-1"})

    def test_home_page_states_the_scope(self) -> None:
        self.assertContains(self.client_for("officer1a").get("/"), "駅前交番")
        staff_home = self.client_for("staff").get("/")
        self.assertContains(staff_home, "巡回連絡個人情報を直接閲覧する権限はありません")
        self.assertNotContains(staff_home, "駅前交番")


class TransferTests(PersonaTestCase):
    def test_manager_transfers_an_officer_and_his_sessions_end(self) -> None:
        officer = self.officer("officer1a")
        officer_client = self.client_for("officer1a")
        self.assertEqual(officer_client.get("/").status_code, 200)
        kacho = self.client_for("kacho")
        response = kacho.post(
            f"/org/stations/{self.station.id}/assignments/new/",
            {
                "officer": officer.staff_number,
                "role": Role.BEAT_OFFICER,
                "post": self.post("K2").id,
                "beats": [self.beat("K2-1").id],
                "valid_from": today().isoformat(),
                "end_current": "on",
            },
        )
        self.assertRedirects(response, f"/org/stations/{self.station.id}/")
        # Scope follows the new assignment at once; the old one ended yesterday.
        officer.refresh_from_db()
        self.assertEqual(set(posts_visible_to(officer).values_list("code", flat=True)), {"K2"})
        old = Assignment.objects.get(officer=officer, post=self.post("K1"))
        self.assertEqual(old.valid_to, today() - dt.timedelta(days=1))
        # His open session has ended.
        self.assertRedirects(
            officer_client.get("/"), "/login/?next=/", fetch_redirect_response=False
        )
        types = set(
            AuditEvent.objects.filter(actor=self.officer("kacho")).values_list(
                "event_type", flat=True
            )
        )
        self.assertLessEqual(
            {EventType.ASSIGNMENT_CREATED, EventType.ASSIGNMENT_ENDED, EventType.SESSIONS_ENDED},
            types,
        )

    def test_future_transfer_ends_sessions_the_day_it_takes_effect(self) -> None:
        import time_machine
        from django.utils import timezone

        officer = self.officer("officer1b")
        start = today() + dt.timedelta(days=3)
        kacho = self.client_for("kacho")
        kacho.post(
            f"/org/stations/{self.station.id}/assignments/new/",
            {
                "officer": officer.staff_number,
                "role": Role.BEAT_OFFICER,
                "post": self.post("K3").id,
                "valid_from": start.isoformat(),
                "end_current": "on",
            },
        )
        with time_machine.travel(timezone.now(), tick=False) as clock:
            signed = self.officer("officer1b").get_session_auth_hash()
            clock.shift(dt.timedelta(days=2))
            # Not yet in force: his sessions stand and his scope is still 駅前交番.
            self.assertEqual(self.officer("officer1b").get_session_auth_hash(), signed)
            clock.shift(dt.timedelta(days=1))
            # The day it takes effect, every session signed under the old scope is void.
            officer.refresh_from_db()
            self.assertNotEqual(self.officer("officer1b").get_session_auth_hash(), signed)
            self.assertEqual(
                set(posts_visible_to(self.officer("officer1b")).values_list("code", flat=True)),
                {"K3"},
            )

    def test_bad_input_is_named_in_japanese_and_changes_nothing(self) -> None:
        kacho = self.client_for("kacho")
        before = (Assignment.objects.count(), AuditEvent.objects.count())
        response = kacho.post(
            f"/org/stations/{self.station.id}/assignments/new/",
            {
                "officer": "NO-SUCH",
                "role": Role.BEAT_OFFICER,
                "post": self.post("K1").id,
                "valid_from": "2025-13-40",
            },
        )
        self.assertContains(response, "職員番号「NO-SUCH」の職員は見つかりません")
        self.assertContains(response, "「2025-13-40」は存在しない日付です")
        self.assertEqual((Assignment.objects.count(), AuditEvent.objects.count()), before)

    def test_beat_of_another_post_is_refused(self) -> None:
        before = Assignment.objects.count()
        response = self.client_for("kacho").post(
            f"/org/stations/{self.station.id}/assignments/new/",
            {
                "officer": self.officer("officer2a").staff_number,
                "role": Role.BEAT_OFFICER,
                "post": self.post("K2").id,
                "beats": [self.beat("K1-1").id],
                "valid_from": today().isoformat(),
                "end_current": "on",
            },
        )
        self.assertContains(response, "受持区「駅前一区」は本町交番の受持区ではありません")
        self.assertEqual(Assignment.objects.count(), before)

    def test_beat_officer_cannot_open_the_organisation_pages(self) -> None:
        client = self.client_for("officer1a")
        self.assertEqual(client.get(f"/org/stations/{self.station.id}/").status_code, 404)
        self.assertEqual(
            client.post(
                f"/org/stations/{self.station.id}/assignments/new/", {"officer": "D00001"}
            ).status_code,
            404,
        )
        denied = AuditEvent.objects.filter(
            event_type=EventType.ACCESS_DENIED, actor=self.officer("officer1a")
        )
        self.assertEqual(denied.count(), 2)


class DesignationTests(PersonaTestCase):
    def test_chief_designates_the_custodian_of_a_chuzaisho(self) -> None:
        post = self.post("C2")
        response = self.client_for("chief").post(
            f"/org/posts/{post.id}/custodian/",
            {"officer": self.officer("chuzai2b").id, "valid_from": today().isoformat()},
        )
        self.assertRedirects(response, f"/org/stations/{self.station.id}/")
        custodians = Assignment.objects.current().filter(post=post, role=Role.CUSTODIAN)
        self.assertEqual([a.officer.username for a in custodians], ["chuzai2b"])
        self.assertTrue(
            AuditEvent.objects.filter(event_type=EventType.CUSTODIAN_DESIGNATED).exists()
        )

    def test_manager_may_not_designate_a_custodian(self) -> None:
        post = self.post("C2")
        kacho = self.client_for("kacho")
        before = AuditEvent.objects.count()
        response = kacho.post(
            f"/org/posts/{post.id}/custodian/",
            {"officer": self.officer("chuzai2b").id, "valid_from": today().isoformat()},
        )
        self.assertContains(response, "取扱責任者の指定は統括管理責任者（署長）が行います")
        self.assertEqual(AuditEvent.objects.count(), before)

    def test_koban_custodian_must_be_its_head(self) -> None:
        response = self.client_for("chief").post(
            f"/org/posts/{self.post('K1').id}/custodian/",
            {"officer": self.officer("officer1a").id, "valid_from": today().isoformat()},
        )
        self.assertContains(response, "交番の取扱責任者は当該交番の所長です")

    def test_manager_designates_the_key_deputy(self) -> None:
        post = self.post("K1")
        response = self.client_for("kacho").post(
            f"/org/posts/{post.id}/key-deputy/",
            {
                "officer": self.officer("officer1b").id,
                "valid_from": today().isoformat(),
                "valid_to": (today() + dt.timedelta(days=2)).isoformat(),
            },
        )
        self.assertRedirects(response, f"/org/stations/{self.station.id}/")
        deputy = KeyDeputy.objects.get(post=post)
        self.assertEqual(deputy.officer.username, "officer1b")
        self.assertEqual(deputy.designated_by.username, "kacho")
        page = self.client_for("kacho").get(f"/org/stations/{self.station.id}/")
        self.assertContains(page, "北川 美咲（")

    def test_key_deputy_must_serve_at_the_post(self) -> None:
        response = self.client_for("kacho").post(
            f"/org/posts/{self.post('K1').id}/key-deputy/",
            {"officer": self.officer("officer2a").id, "valid_from": today().isoformat()},
        )
        self.assertContains(response, "代理保管者はこの交番等に配置された職員から指定してください")
        self.assertFalse(KeyDeputy.objects.exists())

    def test_officer_record_read_is_audited(self) -> None:
        target = self.officer("officer1a")
        page = self.client_for("kacho").get(f"/org/officers/{target.id}/")
        self.assertContains(page, target.police_phone)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.READ_OFFICER, object_id=str(target.id)
            ).exists()
        )

    def test_station_page_query_count_is_bounded(self) -> None:
        client = self.client_for("kacho")
        client.get(f"/org/stations/{self.station.id}/")
        # The session, the officer with his assignments (one query), the page's own. The nav
        # costs none (junkai.web.tests.test_nav).
        with self.assertNumQueries(9):
            client.get(f"/org/stations/{self.station.id}/")
