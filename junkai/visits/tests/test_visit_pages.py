"""The work list, recording visits and the inbox, through the pages."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions as household_actions
from junkai.households.models import CardRevision
from junkai.lib.dates import add_months
from junkai.testing import PersonaTestCase
from junkai.visits.models import (
    Concern,
    InfoReport,
    NightApprovalStatus,
    NightVisitApproval,
    RefusalReport,
    Visit,
)

JST = ZoneInfo("Asia/Tokyo")
DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=JST)
NIGHT = dt.datetime(2026, 6, 10, 21, 0, tzinfo=JST)


def visit_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "outcome": "MET",
        "method": "VISIT",
        "guidance_topics": ["1", "2"],
        "started_at": "",
        "refusal_explanation": "",
        "concern_kind": "",
        "concern_text": "",
        "observation": "",
        "note": "",
    }
    data.update(overrides)
    return data


@time_machine.travel(DAY, tick=False)
class WorklistTests(PersonaTestCase):
    def test_unknown_first_then_by_due_date(self) -> None:
        page = self.client_for("officer1a").get("/worklist/")
        rows = page.context["rows"]
        # 未把握 (no card: HIGH) is due now and comes before 青木 (HOME, MEDIUM).
        self.assertEqual(rows[0].id, self.no_card.id)
        self.assertIn(self.aoki.id, [r.id for r in rows])
        self.assertTrue(all(r.next_due for r in rows))
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.LIST_HOUSEHOLDS, purpose="作業リスト"
            ).exists()
        )

    def test_ordinary_visit_moves_the_due_date(self) -> None:
        client = self.client_for("officer1a")
        response = client.post(
            f"/households/{self.aoki.id}/visit/", visit_post(started_at="2026-06-10T09:30")
        )
        self.assertRedirects(response, "/worklist/")
        visit = Visit.objects.get(household=self.aoki)
        self.assertEqual(visit.guidance_topics, [1, 2])
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.next_due, add_months(dt.date(2026, 6, 10), 12))
        rows = client.get("/worklist/").context["rows"]
        self.assertNotIn(self.aoki.id, [r.id for r in rows])

    def test_absent_brings_it_back_soon(self) -> None:
        self.client_for("officer1a").post(
            f"/households/{self.no_card.id}/visit/",
            visit_post(outcome="ABSENT", guidance_topics=[], started_at="2026-06-10T09:30"),
        )
        self.no_card.refresh_from_db()
        self.assertEqual(self.no_card.next_due, dt.date(2026, 6, 24))

    def test_phone_only_for_community_leaders(self) -> None:
        client = self.client_for("officer1a")
        refused = client.post(
            f"/households/{self.aoki.id}/visit/",
            visit_post(method="PHONE", started_at="2026-06-10T09:30"),
        )
        self.assertContains(refused, "自治委員・区長・班長・組長の世帯", status_code=422)
        self.assertFalse(Visit.objects.exists())
        household_actions.do_update_household(self.aoki, acting_officer=None, leader_role="KUCHO")
        accepted = client.post(
            f"/households/{self.aoki.id}/visit/",
            visit_post(method="PHONE", started_at="2026-06-10T09:30"),
        )
        self.assertRedirects(accepted, "/worklist/")
        self.aoki.refresh_from_db()
        # A leader's interval is 3 months.
        self.assertEqual(self.aoki.next_due, dt.date(2026, 9, 10))

    def test_refusal_needs_the_explanation_and_reaches_both_superiors(self) -> None:
        client = self.client_for("officer1a")
        missing = client.post(
            f"/households/{self.no_card.id}/visit/",
            visit_post(outcome="REFUSED", started_at="2026-06-10T09:30"),
        )
        self.assertContains(missing, "趣旨をどのように説明したか", status_code=422)
        client.post(
            f"/households/{self.no_card.id}/visit/",
            visit_post(
                outcome="REFUSED",
                started_at="2026-06-10T09:30",
                refusal_explanation="防犯のための訪問と説明した",
                observation="向かいの空き家に出入りする人がいる",
                concern_kind="TROUBLE",
                concern_text="夜の騒音",
            ),
        )
        report = RefusalReport.objects.get()
        self.assertTrue(report.needs_koban_head)  # 駅前交番 is a 交番
        self.assertEqual(Concern.objects.get().owner.username, "officer1a")
        inbox = self.client_for("kacho").get("/inbox/")
        self.assertContains(inbox, "防犯のための訪問と説明した")
        self.assertContains(inbox, "向かいの空き家に出入りする人がいる")
        self.client_for("kacho").post(f"/inbox/refusals/{report.id}/acknowledge/")
        report.refresh_from_db()
        self.assertFalse(report.fully_acknowledged)
        self.client_for("kobancho1").post(f"/inbox/refusals/{report.id}/acknowledge/")
        report.refresh_from_db()
        self.assertTrue(report.fully_acknowledged)
        info = InfoReport.objects.get()
        self.client_for("kacho").post(f"/inbox/info/{info.id}/acknowledge/")
        info.refresh_from_db()
        assert info.acknowledged_by is not None
        self.assertEqual(info.acknowledged_by.username, "kacho")

    def test_other_post_cannot_record(self) -> None:
        response = self.client_for("officer2a").post(
            f"/households/{self.aoki.id}/visit/", visit_post(started_at="2026-06-10T09:30")
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Visit.objects.exists())


@time_machine.travel(DAY, tick=False)
class DateTimeFieldTests(PersonaTestCase):
    """Every date-time field: the picker's value, or typed in 和暦 or 西暦 without one; one
    message in 和暦 terms whatever the input method."""

    def test_typed_in_wareki_is_read_and_a_wrong_one_gets_the_wareki_example(self) -> None:
        client = self.client_for("officer1a")
        url = f"/households/{self.aoki.id}/visit/"
        for bad in ("あした", "R8.6.31 10:00", "2026-06-10 25:00", "10:30"):
            response = client.post(url, visit_post(started_at=bad))
            self.assertContains(
                response,
                "実施日時は日付と時刻を選ぶか、R8.6.10 10:00 の形で入力してください",
                status_code=422,
                msg_prefix=bad,
            )
            self.assertNotContains(response, "2025-04-01", status_code=422)
        empty = client.post(url, visit_post(started_at=""))
        self.assertContains(empty, "実施日時を入力してください", status_code=422)
        self.assertFalse(Visit.objects.exists())
        # The form shows the example where a browser has no picker, and 和暦 under the field.
        page = client.get(url).content.decode()
        self.assertIn('placeholder="例: R8.12.4 10:30"', page)
        self.assertIn('type="datetime-local"', page)
        self.assertIn("令和8年6月10日 10:00", page)

        self.assertRedirects(
            client.post(url, visit_post(started_at="令和8年6月10日 9時30分")), "/worklist/"
        )
        self.assertEqual(Visit.objects.get().started_at, DAY.replace(hour=9, minute=30))

    def test_the_night_request_says_the_same(self) -> None:
        response = self.client_for("officer1a").post(
            f"/households/{self.aoki.id}/night-approval/",
            {"planned_start": "20:30", "planned_end": "", "reason": "日中は不在"},
        )
        self.assertContains(
            response,
            "開始予定は日付と時刻を選ぶか、R8.6.10 10:00 の形で入力してください",
            status_code=422,
        )
        self.assertContains(response, "終了予定を入力してください", status_code=422)
        self.assertFalse(NightVisitApproval.objects.exists())


class NightTests(PersonaTestCase):
    def test_night_visit_needs_both_approvals(self) -> None:
        client = self.client_for("officer1a")
        with time_machine.travel(DAY, tick=False):
            client.post(
                f"/households/{self.aoki.id}/night-approval/",
                {
                    "planned_start": "2026-06-10T20:30",
                    "planned_end": "2026-06-10T21:30",
                    "reason": "日中は不在",
                },
            )
            approval = NightVisitApproval.objects.get()
            self.client_for("kacho").post(f"/inbox/night/{approval.id}/approve/")
            approval.refresh_from_db()
            self.assertEqual(approval.status, NightApprovalStatus.PENDING)
        with time_machine.travel(NIGHT, tick=False):
            blocked = self.client_for("officer1a").post(
                f"/households/{self.aoki.id}/visit/", visit_post(started_at="2026-06-10T21:00")
            )
            self.assertContains(blocked, "事前に地域課長", status_code=403)
            self.assertFalse(Visit.objects.exists())
        with time_machine.travel(DAY, tick=False):
            self.client_for("kobancho1").post(f"/inbox/night/{approval.id}/approve/")
            approval.refresh_from_db()
            self.assertEqual(approval.status, NightApprovalStatus.APPROVED)
        with time_machine.travel(NIGHT, tick=False):
            done = self.client_for("officer1a").post(
                f"/households/{self.aoki.id}/visit/", visit_post(started_at="2026-06-10T21:00")
            )
            self.assertRedirects(done, "/worklist/")
            self.assertEqual(Visit.objects.get().night_approval, approval)

    def test_officer_cannot_approve(self) -> None:
        with time_machine.travel(DAY, tick=False):
            self.client_for("officer1a").post(
                f"/households/{self.aoki.id}/night-approval/",
                {
                    "planned_start": "2026-06-10T20:30",
                    "planned_end": "2026-06-10T21:30",
                    "reason": "日中は不在",
                },
            )
            approval = NightVisitApproval.objects.get()
            response = self.client_for("officer1b").post(f"/inbox/night/{approval.id}/approve/")
            self.assertEqual(response.status_code, 403)
            stranger = self.client_for("officer2a").post(f"/inbox/night/{approval.id}/approve/")
            self.assertEqual(stranger.status_code, 404)
            approval.refresh_from_db()
            self.assertIsNone(approval.manager_approved_at)


@time_machine.travel(DAY, tick=False)
class VisitLinksTheDaysCorrectionTests(PersonaTestCase):
    """A card corrected by the officer on the day of the visit is that visit's 補正, whichever
    way the visit is recorded (one rule, in do_record_visit): the page and the API agree."""

    def correct(self, name: str) -> int:
        card = self.aoki.cards.get(status="ACTIVE")
        household_actions.do_save_card(
            self.aoki,
            {"residents": [{"name": name, "kana": "あおき いちろう"}]},
            acting_officer=self.officer("officer1a"),
            expected_version=card.version,
        )
        revision = CardRevision.objects.filter(card__household=self.aoki).latest("id")
        return revision.id

    def test_page_and_api_link_the_officers_correction_of_that_day(self) -> None:
        by_page = self.correct("青木 一朗")
        self.client_for("officer1a").post(
            f"/households/{self.aoki.id}/visit/", visit_post(started_at="2026-06-10T09:30")
        )
        self.assertEqual(Visit.objects.get().card_revision_id, by_page)

        by_api = self.correct("青木 一郎")
        token, _ = do_issue_api_token(self.officer("officer1a"))
        response = Client(headers={"Authorization": f"Bearer {token}"}).post(
            "/api/v1/visits",
            json.dumps(
                {
                    "household_id": self.aoki.id,
                    "started_at": "2026-06-10T09:45:00+09:00",
                    "outcome": "MET",
                }
            ),
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Visit.objects.get(id=response.json()["id"]).card_revision_id, by_api)

    def test_a_correction_of_another_day_or_officer_is_not_linked(self) -> None:
        self.correct("青木 一朗")
        # The next day's visit is not the day of the correction.
        with time_machine.travel(DAY + dt.timedelta(days=1), tick=False):
            late = self.client_for("officer1a").post(
                f"/households/{self.aoki.id}/visit/", visit_post(started_at="2026-06-11T09:30")
            )
            self.assertEqual(late.status_code, 302)
        # Another officer's visit on the same day is not the corrector's. (青木 is in his
        # colleague's beat: he states why first, as from any record button.)
        colleague = self.client_for("officer1b")
        colleague.post(f"/households/{self.aoki.id}/", {"purpose": "PATROL"})
        other = colleague.post(
            f"/households/{self.aoki.id}/visit/", visit_post(started_at="2026-06-10T09:00")
        )
        self.assertEqual(other.status_code, 302, other.content.decode()[-3000:])
        self.assertEqual(
            list(Visit.objects.values_list("card_revision_id", flat=True)), [None, None]
        )
