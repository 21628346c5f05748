"""The cabinet key (第5-3(4)), a post's binders page, and inspections (巡視・点検) with their
follow-up, through the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from junkai.audit.models import AuditEvent, EventType
from junkai.households.models import ContactCard
from junkai.org import actions as org_actions
from junkai.registers.models import (
    Binder,
    FollowUpStatus,
    Inspection,
    InspectionStatus,
    KeyCustody,
)
from junkai.registers.testing import DAY, RegistersTestCase


@time_machine.travel(DAY, tick=False)
class KeyCustodyTests(RegistersTestCase):
    def url(self) -> str:
        return f"/registers/posts/{self.k1.id}/key/"

    def hand_over(self, username: str, to: str, reason: str = "所長の休暇") -> Any:
        return self.client_for(username).post(
            self.url(),
            {
                "cabinet": self.k1_cabinet.id,
                "to_officer": self.officer(to).id,
                "reason": reason,
            },
        )

    def test_custodian_holds_it_and_hands_it_to_the_designated_deputy(self) -> None:
        page = self.client_for("officer1a").get(self.url())
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "村瀬 健司")  # kobancho1, the custodian
        # No deputy yet: officer1c cannot receive it.
        refused = self.hand_over("kobancho1", "officer1c")
        self.assertEqual(refused.status_code, 422)
        self.assertIn("管理責任者が指定した代理保管者", refused.content.decode())
        org_actions.do_designate_key_deputy(
            self.k1, self.officer("officer1c"), acting_officer=self.officer("kacho")
        )
        self.assertRedirects(self.hand_over("kobancho1", "officer1c"), self.url())
        custody = KeyCustody.objects.order_by("-id").first()
        assert custody is not None
        self.assertEqual(
            (custody.from_officer.username, custody.to_officer.username),  # type: ignore[union-attr]
            ("kobancho1", "officer1c"),
        )
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.KEY_HANDED_OVER, object_id=str(custody.id)
            ).exists()
        )
        # The deputy gives it back; the history shows both handovers, newest first.
        self.hand_over("officer1c", "kobancho1", "所長の帰所")
        page = self.client_for("officer1b").get(self.url())
        history = page.context["history"]
        self.assertEqual([h.reason for h in history[:2]], ["所長の帰所", "所長の休暇"])

    def test_officers_without_a_part_in_it_may_not_record(self) -> None:
        org_actions.do_designate_key_deputy(
            self.k1, self.officer("officer1c"), acting_officer=self.officer("kacho")
        )
        self.assertEqual(self.hand_over("officer1a", "officer1c").status_code, 403)
        self.assertEqual(self.hand_over("officer2a", "officer1c").status_code, 404)
        self.assertEqual(KeyCustody.objects.filter(cabinet=self.k1_cabinet).count(), 1)

    def test_reason_is_required(self) -> None:
        response = self.hand_over("kobancho1", "kobancho1", reason="")
        self.assertEqual(response.status_code, 422)
        self.assertIn("引継ぎの理由を入力してください", response.content.decode())


@time_machine.travel(DAY, tick=False)
class BinderPageTests(RegistersTestCase):
    def test_binders_with_their_cards_and_state(self) -> None:
        # The sample card of 青木 (駅前交番) names binder 1.
        self.assertEqual(
            ContactCard.objects.get(household=self.aoki).binder_number,
            "1",
        )
        page = self.client_for("officer1a").get(f"/registers/posts/{self.k1.id}/")
        self.assertEqual(page.status_code, 200)
        binders = {b.number: b for b in page.context["binders"]}
        self.assertEqual(binders["1"].card_info["n"], 1)
        self.assertIsNone(binders["2"].out_entry)
        self.assertContains(page, "保管中")
        self.assertNotContains(page, "簿冊を登録")  # a beat officer does not register binders

    def test_custodian_registers_a_binder_and_a_beat_officer_may_not(self) -> None:
        url = f"/registers/posts/{self.k1.id}/binders/new/"
        data = {"number": "4", "title": "駅前三区", "cabinet": self.k1_cabinet.id}
        self.assertEqual(self.client_for("officer1a").post(url, data).status_code, 403)
        self.assertRedirects(
            self.client_for("kobancho1").post(url, data), f"/registers/posts/{self.k1.id}/"
        )
        duplicate = self.client_for("kobancho1").post(url, data)
        self.assertEqual(duplicate.status_code, 422)
        self.assertContains(
            duplicate, "簿冊番号 4 はこの交番等で既に登録されています", status_code=422
        )
        self.assertEqual(Binder.objects.filter(post=self.k1).count(), 4)


@time_machine.travel(DAY, tick=False)
class InspectionTests(RegistersTestCase):
    def record(self, username: str = "dairi", **overrides: object) -> Any:
        data: dict[str, object] = {
            "inspected_on": "2026-06-09",
            "cards_created": "on",
            "cards_corrected": "on",
            "cabinet_locked": "on",
            "monthly_review_signed": "on",
            "findings": "返却確認者欄の記載漏れ1件",
            "guidance": "返却時は必ず他の勤務員の確認を受けること",
            "follow_ups": "記載漏れの是正\n勤務員への周知",
        }
        data.update(overrides)
        return self.client_for(username).post(
            f"/registers/posts/{self.k1.id}/inspections/new/", data
        )

    def test_inspection_stays_open_until_each_item_is_dealt_with_and_closed(self) -> None:
        response = self.record()
        inspection = Inspection.objects.get()
        self.assertRedirects(response, f"/registers/inspections/{inspection.id}/")
        self.assertEqual(inspection.status, InspectionStatus.OPEN)
        self.assertFalse(inspection.register_complete)
        items = list(inspection.follow_ups.all())
        self.assertEqual([i.text for i in items], ["記載漏れの是正", "勤務員への周知"])

        detail = f"/registers/inspections/{inspection.id}/"
        dairi = self.client_for("dairi")
        # Not closed while items are open.
        dairi.post(f"{detail}close/")
        inspection.refresh_from_db()
        self.assertEqual(inspection.status, InspectionStatus.OPEN)
        officer = self.client_for("officer1a")
        self.assertContains(officer.get(detail), "措置を報告")
        empty = officer.post(f"{detail}follow-up/", {"item": items[0].id, "action_taken": ""})
        self.assertContains(empty, "措置の内容を入力してください", status_code=422)
        for item in items:
            officer.post(f"{detail}follow-up/", {"item": item.id, "action_taken": "是正し周知した"})
        self.assertEqual(
            set(inspection.follow_ups.values_list("status", flat=True)), {FollowUpStatus.DONE}
        )
        # A beat officer reports; he does not close the inspection.
        self.assertEqual(officer.post(f"{detail}close/").status_code, 403)
        dairi.post(f"{detail}close/")
        inspection.refresh_from_db()
        self.assertEqual(inspection.status, InspectionStatus.CLOSED)
        self.assertEqual(
            list(
                AuditEvent.objects.filter(object_type="registers.inspection")
                .filter(event_type__in=[630, 631, 632])
                .values_list("event_type", flat=True)
            ),
            [630, 631, 631, 632],
        )
        self.assertContains(dairi.get("/registers/inspections/"), "完了")

    def test_a_failed_check_needs_findings(self) -> None:
        response = self.record(findings="")
        self.assertContains(response, "指摘事項を記入してください", status_code=422)
        self.assertFalse(Inspection.objects.exists())

    def test_who_may_inspect(self) -> None:
        self.assertEqual(self.record("officer1a").status_code, 403)
        self.assertEqual(self.record("officer2a").status_code, 404)
        self.assertEqual(self.record("chief").status_code, 403)
        self.assertEqual(self.record("kacho").status_code, 302)
        self.assertEqual(self.record("kobancho1").status_code, 302)
        self.assertEqual(Inspection.objects.count(), 2)

    def test_without_follow_ups_it_is_complete_as_recorded(self) -> None:
        self.record(register_complete="on", findings="", follow_ups="")
        inspection = Inspection.objects.get()
        self.assertEqual(inspection.status, InspectionStatus.CLOSED)
        self.assertEqual(inspection.inspected_on, dt.date(2026, 6, 9))

    def test_other_posts_officers_see_nothing(self) -> None:
        self.record()
        inspection = Inspection.objects.get()
        client = self.client_for("officer2a")
        self.assertEqual(client.get(f"/registers/inspections/{inspection.id}/").status_code, 404)
        self.assertEqual(list(client.get("/registers/inspections/").context["rows"]), [])
