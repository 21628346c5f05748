"""Visits over the API: recording one under the 要領's rules (phone, refusal, night), the work
list (order, due dates, filters, scope, query count), night-visit approvals and refusal reports.

"Now" is fixed: the personas and households are registered on 2026-06-01 09:00 JST and the tests
run on 2026-06-10 at 10:00 (day) or 21:00 (night, inside the default 19:00–07:00 window).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions as household_actions
from junkai.households.models import CardRevision, Household
from junkai.org.models import Officer
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
REGISTERED = dt.datetime(2026, 6, 1, 9, 0, tzinfo=JST)
LATER = dt.datetime(2026, 6, 5, 9, 0, tzinfo=JST)
DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=JST)
NIGHT = dt.datetime(2026, 6, 10, 21, 0, tzinfo=JST)


class VisitsApiTestCase(PersonaTestCase):
    later: ClassVar[Household]
    minato: ClassVar[Household]
    second_beat: ClassVar[Household]
    moved: ClassVar[Household]

    @classmethod
    def setUpTestData(cls) -> None:
        with time_machine.travel(REGISTERED, tick=False):
            super().setUpTestData()
            officer1a = Officer.objects.get(username="officer1a")
            k1_1 = cls.station.posts.get(code="K1").beats.get(code="K1-1")
            k1_2 = cls.station.posts.get(code="K1").beats.get(code="K1-2")
            # aoki (HOME, MEDIUM) and no_card (未把握, HIGH) are in 駅前一区 too, due today.
            cls.minato = household_actions.do_create_household(
                k1_1, acting_officer=None, kind="RESIDENCE", name="港", town="港町",
                chome="1", banchi="8", block_group="5班", map_number=3,
            )  # fmt: skip
            household_actions.do_save_card(
                cls.minato,
                {
                    "residents": [{"name": "港 太郎", "birth_date": "1985-01-01"}],
                    "preferred_days": "土日",
                    "preferred_times": "18時以降",
                },
                acting_officer=officer1a,
                expected_version=None,
            )
            cls.second_beat = household_actions.do_create_household(
                k1_2, acting_officer=None, kind="RESIDENCE", town="駅前町", chome="3", banchi="1",
            )  # fmt: skip
            cls.moved = household_actions.do_create_household(
                k1_1, acting_officer=None, kind="RESIDENCE", town="駅前町", chome="1", banchi="9",
            )  # fmt: skip
            household_actions.do_move_out(cls.moved, acting_officer=None)
        with time_machine.travel(LATER, tick=False):
            cls.later = household_actions.do_create_household(
                k1_1, acting_officer=None, kind="RESIDENCE", town="駅前町", chome="1",
                banchi="2", go="5", block_group="1組", map_number=4,
            )  # fmt: skip

    def setUp(self) -> None:
        self.travel_to(DAY)
        self.clients: dict[str, Client] = {}

    def travel_to(self, moment: dt.datetime) -> None:
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    # --- helpers -----------------------------------------------------------------------

    def api(self, username: str) -> Client:
        if username not in self.clients:
            token, _ = do_issue_api_token(self.officer(username))
            self.clients[username] = Client(headers={"Authorization": f"Bearer {token}"})
        return self.clients[username]

    def send(self, username: str, url: str, body: dict[str, Any] | None = None) -> Any:
        return self.api(username).post(
            f"/api/v1{url}", json.dumps(body or {}), content_type="application/json"
        )

    def get(self, username: str, url: str) -> Any:
        return self.api(username).get(f"/api/v1{url}")

    def visit(self, household: Household, username: str = "officer1a", **fields: Any) -> Any:
        body = {
            "household_id": household.id,
            "started_at": DAY.isoformat(),
            "method": "VISIT",
            "outcome": "MET",
            "guidance_topics": [1, 3],
            "note": "",
            **fields,
        }
        return self.send(username, "/visits", body)

    def reload(self, household: Household) -> Household:
        return Household.objects.get(id=household.id)

    def written(self) -> tuple[int, int, int, int]:
        return (
            Visit.objects.count(),
            RefusalReport.objects.count(),
            Concern.objects.count(),
            InfoReport.objects.count(),
        )


class RecordVisitTests(VisitsApiTestCase):
    def test_ordinary_visit_moves_the_due_date(self) -> None:
        self.assertEqual(self.reload(self.aoki).next_due, dt.date(2026, 6, 1))
        response = self.visit(self.aoki)
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["household_id"], self.aoki.id)
        # 家庭: 12 months from the visit.
        self.assertEqual(body["next_due"], "2027-06-10")
        self.assertEqual(body["guidance_topics"], [1, 3])
        self.assertIsNone(body["refusal_report_id"])
        self.assertIsNone(body["night_approval_id"])
        visit = Visit.objects.get(id=body["id"])
        self.assertEqual(visit.officer.username, "officer1a")
        self.assertEqual(visit.started_at, DAY)
        household = self.reload(self.aoki)
        self.assertEqual(household.next_due, dt.date(2027, 6, 10))
        self.assertEqual(household.last_outcome, "MET")
        self.assertEqual(household.last_met_at, DAY)
        read = AuditEvent.objects.filter(
            event_type=EventType.READ_HOUSEHOLD, object_id=str(self.aoki.id)
        ).last()
        assert read is not None
        self.assertEqual(read.purpose, "巡回連絡の記録")
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.VISIT_RECORDED, object_id=str(visit.id)
            ).exists()
        )

    def test_concerns_and_observations(self) -> None:
        officer1b = self.officer("officer1b")
        response = self.visit(
            self.aoki,
            concerns=[
                {"kind": "TROUBLE", "text": "夜間の騒音"},
                {"kind": "REQUEST", "text": "通学路の見守り", "owner_id": officer1b.id},
            ],
            observations=["空き家に出入りする人がいる", "  "],
        )
        self.assertEqual(response.status_code, 201, response.content)
        concerns = response.json()["concerns"]
        self.assertEqual([c["kind"] for c in concerns], ["TROUBLE", "REQUEST"])
        self.assertEqual(
            [c["owner_id"] for c in concerns], [self.officer("officer1a").id, officer1b.id]
        )
        self.assertEqual({c["status"] for c in concerns}, {"OPEN"})
        self.assertEqual(response.json()["observations"], 1)
        self.assertEqual(InfoReport.objects.get().text, "空き家に出入りする人がいる")

    def test_concern_owner_must_serve_at_the_station(self) -> None:
        before = self.written()
        response = self.visit(
            self.aoki,
            concerns=[{"kind": "TROUBLE", "text": "騒音", "owner_id": self.other["officer"].id}],
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("concerns.0.owner_id", response.json()["errors"])
        response = self.visit(self.aoki, concerns=[{"kind": "WISH", "text": ""}])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(set(response.json()["errors"]), {"concerns.0.kind", "concerns.0.text"})
        self.assertEqual(self.written(), before)

    def test_phone_only_for_a_community_leader(self) -> None:
        before = self.written()
        response = self.visit(self.aoki, method="PHONE")
        self.assertEqual(response.status_code, 422)
        body = response.json()
        self.assertEqual(body["detail"], "入力内容に誤りがあります")
        self.assertIn("自治委員・区長・班長・組長", body["errors"]["method"][0])
        self.assertEqual(self.written(), before)
        self.assertIsNone(self.reload(self.aoki).last_visit_at)

        household_actions.do_update_household(
            self.reload(self.aoki), acting_officer=None, leader_role="HANCHO"
        )
        response = self.visit(self.aoki, method="PHONE")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["method"], "PHONE")
        # Community leaders: 3 months.
        self.assertEqual(response.json()["next_due"], "2026-09-10")

    def test_refusal_needs_the_explanation_and_writes_nothing_without_it(self) -> None:
        before = self.written()
        response = self.visit(self.aoki, outcome="REFUSED", refusal_explanation="  ")
        self.assertEqual(response.status_code, 422)
        self.assertIn("趣旨", response.json()["errors"]["refusal_explanation"][0])
        self.assertEqual(self.written(), before)
        household = self.reload(self.aoki)
        self.assertIsNone(household.last_visit_at)
        self.assertEqual(household.last_outcome, "")

    def test_refusal_reports_to_the_section_chief_and_the_koban_head(self) -> None:
        response = self.visit(
            self.aoki, outcome="REFUSED", refusal_explanation="趣旨を説明したが、多忙を理由に拒否"
        )
        self.assertEqual(response.status_code, 201, response.content)
        report = RefusalReport.objects.get(id=response.json()["refusal_report_id"])
        self.assertEqual(report.visit_id, response.json()["id"])
        self.assertEqual(report.station_id, self.station.id)
        self.assertEqual(report.post_id, self.post("K1").id)
        self.assertTrue(report.needs_koban_head)  # 駅前交番 is a 交番

    def test_bad_input_names_the_field(self) -> None:
        before = self.written()
        cases: list[tuple[dict[str, Any], str]] = [
            ({"started_at": "2026-06-10T10:00:00"}, "started_at"),  # no offset
            ({"started_at": "2026-06-11T10:00:00+09:00"}, "started_at"),  # the future
            ({"method": "WALK"}, "method"),
            ({"outcome": "MAYBE"}, "outcome"),
            ({"guidance_topics": [0, 7]}, "guidance_topics"),
        ]
        for fields, field in cases:
            with self.subTest(field=field, fields=fields):
                response = self.visit(self.aoki, **fields)
                self.assertEqual(response.status_code, 422, response.content)
                self.assertIn(field, response.json()["errors"])
                self.assertIsInstance(response.json()["errors"][field][0], str)
        self.assertEqual(self.written(), before)

    def test_card_revision_must_be_the_households(self) -> None:
        other = CardRevision.objects.get(card__household=self.honmachi)
        response = self.visit(self.aoki, card_revision_id=other.id)
        self.assertEqual(response.status_code, 422)
        self.assertIn("card_revision_id", response.json()["errors"])
        own = CardRevision.objects.get(card__household=self.aoki)
        response = self.visit(self.aoki, card_revision_id=own.id)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Visit.objects.get(id=response.json()["id"]).card_revision_id, own.id)

    def test_out_of_scope_is_404_like_absent(self) -> None:
        before = self.written()
        for household_id in (self.aoki.id, 999_999):
            with self.subTest(household_id=household_id):
                response = self.send(
                    "officer2a",
                    "/visits",
                    {
                        "household_id": household_id,
                        "started_at": DAY.isoformat(),
                        "outcome": "MET",
                    },
                )
                self.assertEqual(response.status_code, 404)
                self.assertEqual(response.json(), {"detail": "見つかりません"})
        self.assertEqual(self.visit(self.other["household"]).status_code, 404)
        self.assertEqual(self.written(), before)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED, object_id=str(self.aoki.id)
            ).exists()
        )

    def test_readers_in_scope_may_not_record(self) -> None:
        for who in ("chief", "dairi"):
            with self.subTest(who):
                self.assertEqual(self.visit(self.aoki, username=who).status_code, 403)
        self.assertEqual(Visit.objects.count(), 0)

    def test_the_section_chief_may_record(self) -> None:
        self.assertEqual(self.visit(self.honmachi, username="kacho").status_code, 201)


class NightVisitTests(VisitsApiTestCase):
    def request_approval(self, household: Household | None = None) -> dict[str, Any]:
        response = self.send(
            "officer1a",
            "/night-visit-approvals",
            {
                "household_id": (household or self.aoki).id,
                "planned_start": NIGHT.replace(hour=20, minute=30).isoformat(),
                "planned_end": NIGHT.replace(hour=22).isoformat(),
                "reason": "世帯主の帰宅が20時以降のため",
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        body: dict[str, Any] = response.json()
        return body

    def approve(self, username: str, approval_id: int) -> Any:
        return self.send(username, f"/night-visit-approvals/{approval_id}/approve")

    def night_visit(self) -> Any:
        self.travel_to(NIGHT)
        return self.visit(self.aoki, started_at=NIGHT.isoformat())

    def test_without_an_approval_is_403_with_the_reason(self) -> None:
        response = self.night_visit()
        self.assertEqual(response.status_code, 403)
        detail = response.json()["detail"]
        self.assertIn("夜間（19:00〜07:00）", detail)
        self.assertIn("承認がないため記録できません", detail)
        self.assertEqual(Visit.objects.count(), 0)

    def test_approved_by_the_section_chief_and_the_koban_head(self) -> None:
        approval = self.request_approval()
        self.assertEqual(approval["status"], "PENDING")
        self.assertTrue(approval["needs_koban_head"])
        self.assertFalse(approval["manager_approved"])

        response = self.approve("kacho", approval["id"])
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            {k: response.json()[k] for k in ("status", "manager_approved", "koban_head_approved")},
            {"status": "PENDING", "manager_approved": True, "koban_head_approved": False},
        )
        response = self.approve("kobancho1", approval["id"])
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            {k: response.json()[k] for k in ("status", "manager_approved", "koban_head_approved")},
            {"status": "APPROVED", "manager_approved": True, "koban_head_approved": True},
        )
        # Once decided, nothing more to approve.
        self.assertEqual(self.approve("kobancho1", approval["id"]).status_code, 422)

        response = self.night_visit()
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["night_approval_id"], approval["id"])

    def test_the_section_chief_alone_is_not_enough_for_koban_staff(self) -> None:
        approval = self.request_approval()
        self.assertEqual(self.approve("kacho", approval["id"]).status_code, 200)
        self.assertEqual(self.night_visit().status_code, 403)
        self.assertEqual(Visit.objects.count(), 0)

    def test_an_approval_for_another_household_does_not_cover(self) -> None:
        approval = self.request_approval(self.no_card)
        self.approve("kacho", approval["id"])
        self.approve("kobancho1", approval["id"])
        self.assertEqual(self.night_visit().status_code, 403)

    def test_who_may_approve(self) -> None:
        approval = self.request_approval()
        # In scope but not an approver: 403 with the rule; out of scope: 404.
        for who in ("officer1a", "officer1b", "chief", "dairi"):
            with self.subTest(who):
                response = self.approve(who, approval["id"])
                self.assertEqual(response.status_code, 403)
                self.assertIn("地域課長", response.json()["detail"])
        for who in ("officer2a", "kobancho2", "staff", "hq"):
            with self.subTest(who):
                self.assertEqual(self.approve(who, approval["id"]).status_code, 404)
        self.assertEqual(self.approve("kacho", 999_999).status_code, 404)
        stored = NightVisitApproval.objects.get(id=approval["id"])
        self.assertEqual(stored.status, NightApprovalStatus.PENDING)
        self.assertIsNone(stored.manager_approved_at)
        self.assertIsNone(stored.koban_head_approved_at)

    def test_request_is_checked(self) -> None:
        response = self.send(
            "officer1a",
            "/night-visit-approvals",
            {
                "household_id": self.aoki.id,
                "planned_start": NIGHT.isoformat(),
                "planned_end": NIGHT.replace(hour=20).isoformat(),
                "reason": " ",
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(set(response.json()["errors"]), {"planned_end", "reason"})
        response = self.send(
            "officer2a",
            "/night-visit-approvals",
            {
                "household_id": self.aoki.id,
                "planned_start": NIGHT.isoformat(),
                "planned_end": NIGHT.replace(hour=22).isoformat(),
                "reason": "帰宅が遅い",
            },
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(NightVisitApproval.objects.count(), 0)


class WorklistTests(VisitsApiTestCase):
    def worklist(self, username: str = "officer1a", query: str = "") -> dict[str, Any]:
        response = self.get(username, f"/worklist{query}")
        self.assertEqual(response.status_code, 200, response.content)
        body: dict[str, Any] = response.json()
        return body

    def ids(self, body: dict[str, Any]) -> list[int]:
        return [item["household_id"] for item in body["items"]]

    def test_order_high_first_then_due_date(self) -> None:
        body = self.worklist()
        # HIGH (未把握): no_card due 6/1, later due 6/5; then MEDIUM (家庭) due 6/1 by id.
        self.assertEqual(
            self.ids(body), [self.no_card.id, self.later.id, self.aoki.id, self.minato.id]
        )
        self.assertEqual(body["count"], 4)
        self.assertEqual(
            [i["priority"] for i in body["items"]], ["HIGH", "HIGH", "MEDIUM", "MEDIUM"]
        )
        for item in body["items"]:
            self.assertRegex(item["due_date"], r"^\d{4}-\d{2}-\d{2}$")
        # Not listed: another officer's beat, a household that moved out.
        self.assertNotIn(self.second_beat.id, self.ids(body))
        self.assertNotIn(self.moved.id, self.ids(body))

    def test_unknown_households_are_due_on_their_registration_date(self) -> None:
        items = {i["household_id"]: i for i in self.worklist()["items"]}
        self.assertEqual(items[self.no_card.id]["category"], "UNKNOWN")
        self.assertEqual(items[self.no_card.id]["due_date"], "2026-06-01")
        self.assertEqual(items[self.no_card.id]["days_overdue"], 9)
        self.assertEqual(items[self.later.id]["due_date"], "2026-06-05")
        self.assertEqual(items[self.later.id]["days_overdue"], 5)

    def test_item_shape(self) -> None:
        items = {i["household_id"]: i for i in self.worklist()["items"]}
        self.assertEqual(
            items[self.minato.id],
            {
                "household_id": self.minato.id,
                "address": "港町1丁目8番地",
                "town": "港町",
                "block_group": "5班",
                "map_number": 3,
                "beat_id": self.minato.beat_id,
                "priority": "MEDIUM",
                "category": "HOME",
                "due_date": "2026-06-01",
                "days_overdue": 9,
                "last_outcome": None,
                "last_visit_at": None,
                "open_concerns": 0,
                "preferred_times": "18時以降",
                "preferred_days": "土日",
            },
        )
        self.assertEqual(items[self.no_card.id]["preferred_times"], "")

    def test_visits_change_the_list(self) -> None:
        self.assertEqual(self.visit(self.aoki).status_code, 201)  # met: due in a year
        self.assertEqual(self.visit(self.minato, outcome="ABSENT").status_code, 201)
        response = self.visit(
            self.no_card,
            concerns=[{"kind": "TROUBLE", "text": "騒音"}, {"kind": "OPINION", "text": "街灯"}],
        )
        self.assertEqual(response.status_code, 201)
        body = self.worklist()
        self.assertEqual(self.ids(body), [self.later.id, self.minato.id])
        absent = body["items"][1]
        self.assertEqual(absent["due_date"], "2026-06-24")  # back after 14 days, not a year
        self.assertEqual(absent["days_overdue"], 0)
        self.assertEqual(absent["last_outcome"], "ABSENT")
        self.assertEqual(absent["last_visit_at"], "2026-06-10T01:00:00Z")
        # 未把握 met: due again in 3 months, inside a 120-day horizon.
        items = {i["household_id"]: i for i in self.worklist(query="?horizon_days=120")["items"]}
        self.assertEqual(items[self.no_card.id]["due_date"], "2026-09-10")
        self.assertEqual(items[self.no_card.id]["open_concerns"], 2)
        self.assertEqual(items[self.no_card.id]["last_outcome"], "MET")
        self.assertNotIn(self.aoki.id, items)

    def test_horizon(self) -> None:
        self.visit(self.minato, outcome="ABSENT")  # due 6/24
        self.assertNotIn(self.minato.id, self.ids(self.worklist(query="?horizon_days=0")))
        self.assertIn(self.minato.id, self.ids(self.worklist(query="?horizon_days=14")))
        self.assertNotIn(self.minato.id, self.ids(self.worklist(query="?horizon_days=13")))
        self.assertEqual(self.get("officer1a", "/worklist?horizon_days=366").status_code, 422)

    def test_filters(self) -> None:
        self.assertEqual(self.ids(self.worklist(query="?town=港町")), [self.minato.id])
        self.assertEqual(
            self.ids(self.worklist(query="?town=駅前町&block_group=1組")),
            [self.no_card.id, self.later.id, self.aoki.id],
        )
        self.assertEqual(self.worklist(query="?block_group=9組"), {"items": [], "count": 0})

    def test_beat_parameter_stays_in_scope(self) -> None:
        second = self.beat("K1-2").id
        self.assertEqual(self.ids(self.worklist(query=f"?beat={second}")), [self.second_beat.id])
        self.assertEqual(self.get("officer2a", f"/worklist?beat={second}").status_code, 404)
        self.assertEqual(
            self.get("officer1a", f"/worklist?beat={self.other['beat'].id}").status_code, 404
        )
        # The 地域課長 walks no beat of his own, but may ask for any of his station's.
        self.assertEqual(self.worklist("kacho"), {"items": [], "count": 0})
        self.assertEqual(len(self.worklist("kacho", f"?beat={second}")["items"]), 1)
        self.assertEqual(self.ids(self.worklist("officer2a")), [self.honmachi.id])

    def test_list_read_is_recorded(self) -> None:
        self.worklist()
        event = AuditEvent.objects.filter(event_type=EventType.LIST_HOUSEHOLDS).last()
        assert event is not None
        self.assertEqual(event.actor_id, self.officer("officer1a").id)
        self.assertEqual(event.object_type, "scope")
        self.assertEqual(event.purpose, "作業リスト")
        self.assertEqual(event.details["count"], 4)
        # The rows it showed, by id: only they are explained by this list (misuse.py).
        self.assertEqual(event.household_rows.count(), 4)
        beat = self.beat("K1-2")
        self.worklist(query=f"?beat={beat.id}")
        event = AuditEvent.objects.filter(event_type=EventType.LIST_HOUSEHOLDS).last()
        assert event is not None
        self.assertEqual((event.object_type, event.object_id), ("org.beat", str(beat.id)))

    def test_query_count_does_not_grow_with_households(self) -> None:
        client = self.api("officer1a")
        with CaptureQueriesContext(connection) as small:
            first = client.get("/api/v1/worklist")
        # The token with its officer and his assignments and their beats, the policy, the
        # households with their open concerns, card times and building name as subqueries, and
        # the audit append (PostgreSQL: one statement inserting the event and the rows the list
        # showed, sealed after commit; SQLite: insert, seal head, pending, seal, and one insert
        # of the (event, household) rows, in the list's transaction without a savepoint).
        expected = 4 if connection.vendor == "postgresql" else 8
        self.assertEqual(len(small.captured_queries), expected, small.captured_queries)
        self.assertEqual(len(first.json()["items"]), 4)
        beat = self.beat("K1-1")
        officer1a = self.officer("officer1a")
        for n in range(16):
            household = household_actions.do_create_household(
                beat, acting_officer=None, kind="RESIDENCE", town="港町", banchi=str(n + 10)
            )
            if n % 2:
                household_actions.do_save_card(
                    household,
                    {"residents": [{"name": f"住民 {n}"}], "preferred_times": "午前"},
                    acting_officer=officer1a,
                    expected_version=None,
                )
            if n % 4 == 1:
                self.visit(
                    household, outcome="ABSENT", concerns=[{"kind": "TROUBLE", "text": "騒音"}]
                )
        with self.assertNumQueries(expected):
            large = client.get("/api/v1/worklist")
        self.assertEqual(len(large.json()["items"]), 20)


class RefusalReportTests(VisitsApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.k1_report = self.refuse(self.aoki, "officer1a")
        self.k2_report = self.refuse(self.honmachi, "officer2a")

    def refuse(self, household: Household, username: str) -> int:
        response = self.visit(
            household,
            username=username,
            outcome="REFUSED",
            refusal_explanation="趣旨を説明したが、多忙を理由に拒否",
        )
        self.assertEqual(response.status_code, 201, response.content)
        report_id: int = response.json()["refusal_report_id"]
        return report_id

    def reports(self, username: str, query: str = "") -> list[dict[str, Any]]:
        response = self.get(username, f"/refusal-reports{query}")
        self.assertEqual(response.status_code, 200, response.content)
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def acknowledge(self, username: str, report_id: int) -> Any:
        return self.send(username, f"/refusal-reports/{report_id}/acknowledge")

    def test_who_sees_which(self) -> None:
        self.assertEqual({r["id"] for r in self.reports("kacho")}, {self.k1_report, self.k2_report})
        self.assertEqual([r["id"] for r in self.reports("kobancho1")], [self.k1_report])
        self.assertEqual([r["id"] for r in self.reports("kobancho2")], [self.k2_report])
        for who in ("officer1a", "officer2a", "chief", "dairi", "staff", "hq"):
            with self.subTest(who):
                response = self.get(who, "/refusal-reports")
                self.assertEqual(response.status_code, 403)
                self.assertIn("地域課長", response.json()["detail"])

    def test_item_shape(self) -> None:
        (item,) = self.reports("kobancho1")
        visit = Visit.objects.get(refusal_report__id=self.k1_report)
        officer = self.officer("officer1a")
        self.assertEqual(
            item,
            {
                "id": self.k1_report,
                "household_id": self.aoki.id,
                "post_id": self.post("K1").id,
                "visit_id": visit.id,
                "started_at": "2026-06-10T01:00:00Z",
                "officer": {
                    "id": officer.id,
                    "username": "officer1a",
                    "full_name": officer.full_name,
                },
                "explanation": "趣旨を説明したが、多忙を理由に拒否",
                "needs_koban_head": True,
                "manager_acknowledged": False,
                "koban_head_acknowledged": False,
            },
        )

    def test_the_list_is_a_recorded_read(self) -> None:
        self.reports("kacho")
        event = AuditEvent.objects.filter(event_type=EventType.LIST_HOUSEHOLDS).last()
        assert event is not None
        self.assertEqual(event.actor_id, self.officer("kacho").id)
        self.assertEqual(event.object_type, "scope")
        self.assertEqual(event.purpose, "拒否の報告")
        self.assertEqual(event.details, {"count": 2})

    def test_acknowledged_by_the_section_chief_then_the_koban_head(self) -> None:
        response = self.acknowledge("kacho", self.k1_report)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(),
            {
                "id": self.k1_report,
                "needs_koban_head": True,
                "manager_acknowledged": True,
                "koban_head_acknowledged": False,
                "fully_acknowledged": False,
            },
        )
        self.assertEqual(self.acknowledge("kacho", self.k1_report).status_code, 403)  # done
        response = self.acknowledge("kobancho1", self.k1_report)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response.json()["koban_head_acknowledged"])
        self.assertTrue(response.json()["fully_acknowledged"])
        report = RefusalReport.objects.get(id=self.k1_report)
        self.assertEqual(report.manager_ack_by, self.officer("kacho"))
        self.assertEqual(report.koban_head_ack_by, self.officer("kobancho1"))
        (item,) = self.reports("kobancho1")
        self.assertTrue(item["manager_acknowledged"] and item["koban_head_acknowledged"])
        self.assertEqual(self.reports("kobancho1", "?pending=true"), [])
        self.assertEqual(
            [r["id"] for r in self.reports("kacho", "?pending=true")], [self.k2_report]
        )

    def test_who_may_acknowledge(self) -> None:
        for who in ("officer1a", "officer1b", "chief", "dairi"):
            with self.subTest(who):
                self.assertEqual(self.acknowledge(who, self.k1_report).status_code, 403)
        for who in ("officer2a", "kobancho2", "staff", "hq"):
            with self.subTest(who):
                self.assertEqual(self.acknowledge(who, self.k1_report).status_code, 404)
        self.assertEqual(self.acknowledge("kacho", 999_999).status_code, 404)
        report = RefusalReport.objects.get(id=self.k1_report)
        self.assertIsNone(report.manager_ack_at)
        self.assertIsNone(report.koban_head_ack_at)


class RefusalListDenialTests(VisitsApiTestCase):
    def test_a_refused_list_is_on_the_record(self) -> None:
        response = self.get("officer1a", "/refusal-reports")
        self.assertEqual(response.status_code, 403)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.ACCESS_DENIED,
                actor=self.officer("officer1a"),
                object_type="visits.refusalreport",
            ).exists()
        )
