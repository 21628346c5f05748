"""Planning pages through HTTP: the schedule policy, the monthly plan against actual, 専従日,
the handover of a beat (第4-6) and concern follow-up — with scope, audit and Japanese errors."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions as household_actions
from junkai.households.models import Household, SchedulePolicy
from junkai.lib.dates import add_months
from junkai.org.models import today
from junkai.testing import PersonaTestCase
from junkai.visits import actions
from junkai.visits.models import (
    Concern,
    ConcernStatus,
    DedicatedDay,
    HandoverNote,
    MonthlyPlan,
    Visit,
)


def daytime() -> dt.datetime:
    """Today at 10:00 in Tokyo: outside the night window (19:00–07:00), so visits need no
    approval whatever the hour the tests run."""
    return timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)


def policy_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "unknown_months": "3",
        "elderly_months": "6",
        "home_months": "12",
        "business_months": "24",
        "leader_months": "3",
        "absent_retry_days": "14",
        "night_start": "19:00",
        "night_end": "07:00",
        "horizon_days": "30",
    }
    data.update(overrides)
    return data


class PlanningTestCase(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(daytime(), tick=True)
        traveller.start()
        self.addCleanup(traveller.stop)

    def visit(self, household: Household, outcome: str = "MET", **kwargs: Any) -> Visit:
        household.refresh_from_db()
        return actions.do_record_visit(
            household,
            acting_officer=self.officer(kwargs.pop("by", "officer1a")),
            started_at=timezone.now(),
            outcome=outcome,
            guidance_topics=[1],
            **kwargs,
        )


class PolicyTests(PlanningTestCase):
    def test_hq_changes_an_interval_and_due_dates_follow(self) -> None:
        self.visit(self.aoki)
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.next_due, add_months(today(), 12))

        response = self.client_for("hq").post("/policy/", policy_post(home_months="6"))
        self.assertRedirects(response, "/policy/")
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.next_due, add_months(today(), 6))
        self.assertTrue(AuditEvent.objects.filter(event_type=EventType.POLICY_CHANGED).exists())

        # Everyone signed in reads it, and sees who changed it last.
        page = self.client_for("officer1a").get("/policy/")
        self.assertContains(page, "<strong>6か月</strong>ごと", html=False)
        self.assertContains(page, "最終変更")
        self.assertContains(page, str(self.officer("hq")))
        self.assertNotContains(page, "基準を変更する")

    def test_others_cannot_change_it(self) -> None:
        client = self.client_for("kacho")
        self.assertContains(client.get("/policy/"), "12か月")
        response = client.post("/policy/", policy_post(home_months="6"))
        self.assertEqual(response.status_code, 403)
        # The defaults' row (a migration's) as it was: nobody has saved over it.
        self.assertEqual(
            list(SchedulePolicy.objects.values_list("home_months", "updated_by")), [(12, None)]
        )
        self.assertFalse(AuditEvent.objects.filter(event_type=EventType.POLICY_CHANGED).exists())

    def test_bad_values_get_japanese_errors_and_change_nothing(self) -> None:
        self.visit(self.aoki)
        self.aoki.refresh_from_db()
        due = self.aoki.next_due
        client = self.client_for("hq")
        self.assertContains(client.get("/policy/"), "基準を変更する")
        response = client.post(
            "/policy/",
            policy_post(home_months="0", absent_retry_days="abc", night_start="25:00"),
        )
        self.assertEqual(response.status_code, 422)
        for message in (
            "家庭の実施頻度は1〜60か月の整数で入力してください",
            "不在時の再訪は1〜180日の整数で入力してください",
            "夜間の開始は 19:00 の形式で入力してください",
        ):
            self.assertContains(response, message, status_code=422)
        response = client.post("/policy/", policy_post(night_start="07:00", night_end="07:00"))
        self.assertContains(response, "夜間の終了は開始と異なる時刻にしてください", status_code=422)
        # The defaults' row (a migration's) as it was: nobody has saved over it.
        self.assertEqual(
            list(SchedulePolicy.objects.values_list("home_months", "updated_by")), [(12, None)]
        )
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.next_due, due)


class MonthlyPlanTests(PlanningTestCase):
    def month_url(self) -> str:
        return f"/plan/{today():%Y-%m}/"

    def test_officer_saves_a_plan_and_sees_plan_against_actual(self) -> None:
        client = self.client_for("officer1a")
        page = client.get("/plan/")
        # Due this month in his beat (K1-1): both sample households; not 本町 (another post).
        self.assertContains(page, self.aoki.address)
        self.assertContains(page, self.no_card.address)
        self.assertNotContains(page, self.honmachi.address)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.LIST_HOUSEHOLDS, actor=self.officer("officer1a")
            ).exists()
        )

        response = client.post(
            self.month_url(),
            {"areas": "駅前町1丁目", "target_visits": "20", "households": [str(self.aoki.id)]},
        )
        self.assertRedirects(response, self.month_url())
        plan = MonthlyPlan.objects.get(officer=self.officer("officer1a"))
        self.assertEqual(plan.month, today().replace(day=1))
        self.assertEqual(list(plan.households.all()), [self.aoki])

        # 専従日 today, set by the manager; then a visit on it.
        self.client_for("kacho").post(
            f"/org/officers/{self.officer('officer1a').id}/dedicated-days/",
            {"day": today().isoformat()},
        )
        self.visit(self.aoki)
        page = client.get(self.month_url())
        self.assertEqual(page.context["actual"]["total"], 1)
        self.assertEqual(page.context["actual"]["met"], 1)
        self.assertEqual(page.context["planned_done"], 1)
        self.assertEqual(page.context["dedicated_visits"], 1)
        self.assertEqual(page.context["target_rate"], 5)
        self.assertContains(page, "面接済")
        self.assertContains(page, "駅前町1丁目")
        home = next(c for c in page.context["actual"]["categories"] if c["value"] == "HOME")
        self.assertEqual((home["n"], home["met"]), (1, 1))

    def test_bad_input_gets_japanese_errors_and_saves_nothing(self) -> None:
        client = self.client_for("officer1a")
        response = client.post(
            self.month_url(),
            {"areas": "x", "target_visits": "-1", "households": [str(self.honmachi.id)]},
        )
        self.assertContains(
            response, "予定件数は0〜2000件の整数で入力してください", status_code=422
        )
        self.assertContains(response, "計画に入れられない世帯が含まれています", status_code=422)
        self.assertFalse(MonthlyPlan.objects.exists())
        self.assertFalse(
            AuditEvent.objects.filter(event_type=EventType.MONTHLY_PLAN_SAVED).exists()
        )

    def test_month_pages(self) -> None:
        client = self.client_for("officer1a")
        self.assertEqual(client.get("/plan/2025-6/").status_code, 200)
        self.assertContains(client.get("/plan/2025-06/"), "令和7年6月")
        self.assertEqual(client.get("/plan/2025-13/").status_code, 404)
        # Someone with no beats has a plan page too, with nothing to choose.
        self.assertContains(client.get("/plan/", follow=True), "月間計画")
        self.assertContains(self.client_for("hq").get("/plan/"), "この月に予定の世帯はありません")


class DedicatedDayTests(PlanningTestCase):
    def url(self, username: str = "officer1a") -> str:
        return f"/org/officers/{self.officer(username).id}/dedicated-days/"

    def test_manager_sets_and_removes_a_day(self) -> None:
        client = self.client_for("kacho")
        tomorrow = today() + dt.timedelta(days=1)
        self.assertContains(client.get("/org/dedicated-days/"), str(self.officer("officer1a")))
        response = client.post(self.url(), {"day": tomorrow.isoformat()})
        self.assertRedirects(response, self.url())
        day = DedicatedDay.objects.get(officer=self.officer("officer1a"))
        self.assertEqual((day.day, day.set_by), (tomorrow, self.officer("kacho")))
        self.assertContains(client.get(self.url()), "今後の専従日")

        again = client.post(self.url(), {"day": tomorrow.isoformat()})
        self.assertContains(again, "その日は既に専従日です", status_code=422)
        past = client.post(self.url(), {"day": "2020-01-01"})
        self.assertContains(past, "過去の日は専従日に指定できません", status_code=422)
        junk = client.post(self.url(), {"day": "あした"})
        self.assertContains(junk, "日付として読めません", status_code=422)
        self.assertEqual(DedicatedDay.objects.count(), 1)

        client.post(self.url(), {"remove": tomorrow.isoformat()})
        self.assertFalse(DedicatedDay.objects.exists())
        self.assertTrue(
            AuditEvent.objects.filter(event_type=EventType.DEDICATED_DAY_REMOVED).exists()
        )

    def test_the_lists_of_days_say_their_era(self) -> None:
        """The 専従日 pages (every officer's, one officer's) show R8.6.11 or 令和8年6月11日,
        never 6/11."""
        day = today() + dt.timedelta(days=1)
        client = self.client_for("kacho")
        client.post(self.url(), {"day": day.isoformat()})
        short = f"R{day.year - 2018}.{day.month}.{day.day}"
        index = client.get("/org/dedicated-days/").content.decode()
        self.assertIn(f"{short}（", index)
        self.assertNotIn(f">{day.month}/{day.day}（", index)
        self.assertContains(
            client.get(self.url()), f"令和{day.year - 2018}年{day.month}月{day.day}日（"
        )
        self.assertEqual(
            str(DedicatedDay.objects.get()),
            f"専従日 令和{day.year - 2018}年{day.month}月{day.day}日",
        )

    def test_a_day_more_than_a_year_ahead_is_refused_by_the_action_too(self) -> None:
        too_far = today() + dt.timedelta(days=367)
        page = self.client_for("kacho").post(self.url(), {"day": too_far.isoformat()})
        self.assertContains(page, "専従日は1年先までの日を指定してください", status_code=422)
        # The rule is the action's, so a caller without the form meets it as well.
        with self.assertRaises(ValidationError):
            actions.do_set_dedicated_day(
                self.officer("officer1a"), too_far, acting_officer=self.officer("kacho")
            )
        self.assertFalse(DedicatedDay.objects.exists())

    def test_a_past_day_stays_on_the_page_and_through_the_action(self) -> None:
        # A past 専従日 is the record of that day's work: neither the page nor a caller of the
        # action can take it back (one rule, dedicated_day_removable).
        officer, kacho = self.officer("officer1a"), self.officer("kacho")
        past = today() - dt.timedelta(days=3)
        DedicatedDay.objects.create(officer=officer, day=past, set_by=kacho)
        client = self.client_for("kacho")
        page = client.get(self.url())
        self.assertNotContains(page, f'name="remove" value="{past.isoformat()}"')
        response = client.post(self.url(), {"remove": past.isoformat()}, follow=True)
        self.assertContains(response, "過去の専従日は取り消せません")
        with self.assertRaises(ValidationError):
            actions.do_set_dedicated_day(officer, past, acting_officer=kacho, remove=True)
        self.assertTrue(DedicatedDay.objects.filter(officer=officer, day=past).exists())
        self.assertFalse(
            AuditEvent.objects.filter(event_type=EventType.DEDICATED_DAY_REMOVED).exists()
        )
        # Removing a day that is not set says so and changes nothing.
        tomorrow = today() + dt.timedelta(days=1)
        gone = client.post(self.url(), {"remove": tomorrow.isoformat()}, follow=True)
        self.assertContains(gone, "取り消す専従日が見つかりません")

    def test_others_get_404_alike(self) -> None:
        tomorrow = (today() + dt.timedelta(days=1)).isoformat()
        for username in ("officer2a", "officer1a", "kobancho1", "chief", "hq"):
            client = self.client_for(username)
            self.assertEqual(client.get(self.url()).status_code, 404, username)
            self.assertEqual(client.post(self.url(), {"day": tomorrow}).status_code, 404)
            self.assertEqual(client.get("/org/dedicated-days/").status_code, 404, username)
        # Absent and another station's officer: the same 404 for the manager.
        kacho = self.client_for("kacho")
        self.assertEqual(kacho.get("/org/officers/999999/dedicated-days/").status_code, 404)
        other = self.other["officer"].id
        self.assertEqual(kacho.get(f"/org/officers/{other}/dedicated-days/").status_code, 404)
        self.assertFalse(DedicatedDay.objects.exists())


class HandoverTests(PlanningTestCase):
    late: ClassVar[Household]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # Registered ten days ago and never visited: overdue.
        with time_machine.travel(timezone.now() - dt.timedelta(days=10)):
            cls.late = household_actions.do_create_household(
                cls.aoki.beat, acting_officer=None, kind="RESIDENCE", town="駅前町",
                chome="1", banchi="2", go="5", block_group="1組", map_number=3,
            )  # fmt: skip

    def url(self, beat_code: str = "K1-1") -> str:
        return f"/beats/{self.beat(beat_code).id}/handover/"

    def prepare(self) -> None:
        self.visit(self.aoki, concerns=[{"kind": "TROUBLE", "text": "夜間の騒音に困っている"}])
        self.visit(self.no_card, outcome="REFUSED", refusal_explanation="趣旨を説明したが応答なし")
        actions.do_add_handover_note(
            self.aoki.beat, acting_officer=self.officer("officer1a"), text="青木さん宅は土日に在宅"
        )

    def test_an_absence_does_not_make_an_overdue_household_covered(self) -> None:
        # Met 13 months ago (a 家庭: 12-month interval), found absent today: the absence sets
        # the next try two weeks out, but the household is not covered (as the dashboards say).
        long_ago = timezone.localtime().replace(hour=10, minute=0) - dt.timedelta(days=400)
        actions.do_record_visit(
            self.aoki, acting_officer=self.officer("officer1a"), started_at=long_ago,
            outcome="MET", guidance_topics=[1],
        )  # fmt: skip
        self.visit(self.aoki, outcome="ABSENT")
        self.aoki.refresh_from_db()
        assert self.aoki.next_due is not None
        self.assertGreaterEqual(self.aoki.next_due, today())
        coverage = self.client_for("officer1b").get(self.url()).context["coverage"]
        self.assertEqual(coverage["total"]["covered"], 0)
        self.visit(self.aoki)
        coverage = self.client_for("officer1b").get(self.url()).context["coverage"]
        self.assertEqual(coverage["total"]["covered"], 1)

    def test_handover_shows_the_records_of_the_beat(self) -> None:
        self.prepare()
        page = self.client_for("officer1b").get(self.url())
        self.assertEqual(page.status_code, 200)
        coverage = page.context["coverage"]
        self.assertEqual(coverage["total"]["n"], 3)
        self.assertEqual(coverage["total"]["covered"], 1)  # 青木: met today, next due in a year
        self.assertEqual(coverage["total"]["overdue"], 1)
        self.assertEqual(page.context["unknown_count"], 2)
        self.assertContains(page, f'href="/households/{self.late.id}/"')
        self.assertContains(page, "趣旨を説明したが応答なし")
        self.assertContains(page, "夜間の騒音に困っている")
        self.assertContains(page, str(self.officer("officer1a")))  # the concern's owner
        self.assertContains(page, "青木さん宅は土日に在宅")
        read = AuditEvent.objects.get(
            event_type=EventType.READ_HANDOVER, actor=self.officer("officer1b")
        )
        self.assertEqual(read.object_id, str(self.aoki.beat_id))

    def test_query_count_does_not_grow(self) -> None:
        client = self.client_for("officer1a")
        self.prepare()
        with CaptureQueriesContext(connection) as few:
            client.get(self.url())
        for _ in range(3):
            self.prepare()
        with CaptureQueriesContext(connection) as many:
            client.get(self.url())
        self.assertEqual(len(many), len(few))

    def test_other_post_gets_404(self) -> None:
        client = self.client_for("officer2a")
        self.assertEqual(client.get(self.url()).status_code, 404)
        self.assertEqual(client.post(self.url(), {"text": "x"}).status_code, 404)
        self.assertFalse(HandoverNote.objects.exists())

    def test_adding_a_note(self) -> None:
        client = self.client_for("officer1a")
        empty = client.post(self.url(), {"text": "   "})
        self.assertContains(empty, "引継事項を入力してください", status_code=422)
        self.assertFalse(HandoverNote.objects.exists())
        self.assertRedirects(
            client.post(self.url(), {"text": "駅前町3丁目は夕方が良い"}), self.url()
        )
        self.assertEqual(HandoverNote.objects.get().author, self.officer("officer1a"))
        # The chief reads the beat; he does not write its notes.
        self.assertEqual(self.client_for("chief").post(self.url(), {"text": "x"}).status_code, 403)
        self.assertEqual(HandoverNote.objects.count(), 1)


class ConcernTests(PlanningTestCase):
    def setUp(self) -> None:
        super().setUp()
        visit = self.visit(
            self.aoki, concerns=[{"kind": "REQUEST", "text": "防犯灯を増やしてほしい"}]
        )
        self.concern = Concern.objects.get(visit=visit)

    def test_list_and_resolve(self) -> None:
        client = self.client_for("officer1a")
        page = client.get("/concerns/")
        self.assertContains(page, "防犯灯を増やしてほしい")
        self.assertContains(page, self.aoki.address)
        url = f"/concerns/{self.concern.id}/"
        self.assertContains(client.get(url), "防犯灯を増やしてほしい")

        response = client.post(url, {"status": "RESOLVED", "resolution": ""})
        self.assertContains(response, "対応済にするには対応結果を入力してください", status_code=422)
        self.concern.refresh_from_db()
        self.assertEqual(self.concern.status, ConcernStatus.OPEN)

        response = client.post(url, {"status": "RESOLVED", "resolution": "市役所に要望を伝えた"})
        self.assertRedirects(response, "/concerns/")
        self.concern.refresh_from_db()
        self.assertEqual(self.concern.status, ConcernStatus.RESOLVED)
        self.assertIsNotNone(self.concern.resolved_at)
        self.assertNotContains(client.get("/concerns/"), "防犯灯を増やしてほしい")

    def test_out_of_scope_is_404_alike(self) -> None:
        client = self.client_for("officer2a")
        url = f"/concerns/{self.concern.id}/"
        self.assertEqual(client.get(url).status_code, 404)
        self.assertEqual(
            client.post(url, {"status": "RESOLVED", "resolution": "x"}).status_code, 404
        )
        self.assertEqual(client.get("/concerns/999999/").status_code, 404)
        self.assertNotContains(client.get("/concerns/"), "防犯灯")
        self.concern.refresh_from_db()
        self.assertEqual(self.concern.status, ConcernStatus.OPEN)

    def test_list_query_count_does_not_grow(self) -> None:
        client = self.client_for("officer1a")
        with CaptureQueriesContext(connection) as few:
            client.get("/concerns/")
        for n in range(3):
            self.visit(self.aoki, concerns=[{"kind": "OPINION", "text": f"意見{n}"}])
        with CaptureQueriesContext(connection) as many:
            page = client.get("/concerns/")
        self.assertEqual(len(page.context["concerns"]), 4)
        self.assertEqual(len(many), len(few))
