"""POST /api/v1/routes: the order of the households from the post and back, with times.

"Now" is today 10:00 JST (a weekday or not: preferred days are built relative to today).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import time_machine
from django.test import Client

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.households.models import Household
from junkai.planning import routing
from junkai.planning.routing_testing import door, local, other_weekday
from junkai.testing import PersonaTestCase

NOW = local(10)


class RouteTestCase(PersonaTestCase):
    """Five located doors in 駅前一区: three 未把握 (HIGH), two with a card (MEDIUM); one with
    a card asking for nights only, one for another weekday; one door without a position."""

    doors: ClassVar[list[Household]]
    high: ClassVar[list[Household]]
    medium: ClassVar[list[Household]]
    night_only: ClassVar[Household]
    other_day: ClassVar[Household]
    unlocated: ClassVar[Household]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        beat = cls.beat_of("K1-1")
        officer = cls.officer_of("officer1a")
        cls.high = [door(beat, 1, 300, 0), door(beat, 2, -250, 150), door(beat, 3, 0, -400)]
        cls.medium = [
            door(beat, 4, 500, 500, card={"preferred_times": "午後"}, officer=officer),
            door(beat, 5, -400, -300, card={"preferred_times": "午前中"}, officer=officer),
        ]
        cls.doors = cls.high + cls.medium
        cls.night_only = door(beat, 6, 100, 100, card={"preferred_times": "夜"}, officer=officer)
        cls.other_day = door(
            beat, 7, 50, 50, card={"preferred_days": other_weekday()}, officer=officer
        )
        cls.unlocated = cls.no_card  # 駅前町1-2-4: no latitude/longitude

    @classmethod
    def beat_of(cls, code: str) -> Any:
        from junkai.org.models import Beat

        return Beat.objects.get(post__station=cls.station, code=code)

    @classmethod
    def officer_of(cls, username: str) -> Any:
        from junkai.org.models import Officer

        return Officer.objects.get(username=username)

    def ids(self, households: list[Household]) -> list[int]:
        return [h.id for h in households]


@time_machine.travel(NOW, tick=False)
class RoutesApiTests(RouteTestCase):
    def api(self, username: str) -> Client:
        token, _ = do_issue_api_token(self.officer(username))
        return Client(headers={"Authorization": f"Bearer {token}"})

    def plan(self, body: dict[str, Any], username: str = "officer1a") -> Any:
        return self.api(username).post(
            "/api/v1/routes", json.dumps(body), content_type="application/json"
        )

    def test_order_is_a_permutation_with_times_and_the_plan_is_recorded(self) -> None:
        wanted = self.ids(self.high)
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = self.plan({"household_ids": wanted, "start_time": "10:00", "hours": 3})
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(sorted(body["order"]), sorted(wanted))
        self.assertEqual([s["household_id"] for s in body["stops"]], body["order"])
        self.assertEqual(body["skipped"], [])
        self.assertGreater(body["distance_m"], 0)
        self.assertEqual(
            body["distance_m"],
            sum(s["leg_distance_m"] for s in body["stops"]) + body["return_leg"]["distance_m"],
        )
        arrivals = [s["arrival"] for s in body["stops"]]
        self.assertEqual(arrivals, sorted(arrivals))
        self.assertGreater(arrivals[0], "10:00")
        self.assertEqual(body["start_time"], "10:00")
        # Three doors of 10 minutes plus the walking, back before 11:00.
        self.assertTrue(1800 < body["duration_s"] < 3600, body["duration_s"])
        self.assertEqual(
            (body["mode"], body["speed_kmh"], body["detour_factor"]), ("walk", 4.5, 1.3)
        )
        self.assertEqual(body["start"]["label"], "受持区の中心（交番等の位置は未登録）")
        # One event, naming the households by id only.
        events = AuditEvent.objects.filter(id__gt=before, event_type=EventType.ROUTE_PLANNED)
        self.assertEqual(events.count(), 1)
        event = events.get()
        self.assertEqual(sorted(event.details["household_ids"]), sorted(wanted))
        self.assertEqual(event.details["order"], body["order"])
        self.assertNotIn("駅前町", json.dumps(event.details, ensure_ascii=False))
        # The answer names households by id only: not a read of their cards.
        self.assertFalse(
            AuditEvent.objects.filter(id__gt=before, event_type=EventType.READ_HOUSEHOLD).exists()
        )

    def test_driving_is_faster_than_walking(self) -> None:
        body = {"household_ids": self.ids(self.high), "start_time": "10:00"}
        walk = self.plan({**body, "mode": "walk"}).json()
        drive = self.plan({**body, "mode": "drive"}).json()
        self.assertEqual(walk["distance_m"], drive["distance_m"])
        self.assertLess(drive["duration_s"], walk["duration_s"])

    def test_preferred_times_are_honoured(self) -> None:
        response = self.plan(
            {"household_ids": self.ids(self.doors), "start_time": "10:00", "hours": 5}
        )
        body = response.json()
        stops = {s["household_id"]: s for s in body["stops"]}
        self.assertEqual(set(stops), set(self.ids(self.doors)))
        afternoon, morning = self.medium
        self.assertGreaterEqual(stops[afternoon.id]["start"], "12:00")
        self.assertLessEqual(stops[morning.id]["start"], "12:00")

    def test_night_only_other_weekday_and_no_position_are_skipped_with_the_reason(self) -> None:
        wanted = [self.high[0].id, self.night_only.id, self.other_day.id, self.unlocated.id]
        body = self.plan({"household_ids": wanted, "start_time": "10:00"}).json()
        self.assertEqual(body["order"], [self.high[0].id])
        reasons = {s["household_id"]: s["reason"] for s in body["skipped"]}
        self.assertIn("夜間のみ", reasons[self.night_only.id])
        self.assertIn("事前の承認", reasons[self.night_only.id])
        self.assertIn("訪問希望の曜日", reasons[self.other_day.id])
        self.assertIn("位置（緯度・経度）が登録されていません", reasons[self.unlocated.id])

    def test_a_preferred_time_outside_the_hours_names_both(self) -> None:
        afternoon, morning = self.medium
        body = self.plan(
            {"household_ids": [morning.id, afternoon.id], "start_time": "13:00", "hours": 2}
        ).json()
        self.assertEqual(body["order"], [afternoon.id])
        self.assertEqual(
            body["skipped"],
            [
                {
                    "household_id": morning.id,
                    "reason": "訪問希望の時間帯（午前中）が今回の時間（13:00〜15:00）にありません",
                }
            ],
        )

    def test_the_route_ends_before_the_night(self) -> None:
        body = self.plan(
            {"household_ids": self.ids(self.high), "start_time": "18:30", "hours": 4}
        ).json()
        self.assertLessEqual(body["end_time"], "19:00")
        self.assertTrue(any("夜間" in n for n in body["notes"]))
        # Half an hour holds two doors at most: the rest is reported, not scheduled at night.
        self.assertLess(len(body["order"]), 3)
        self.assertTrue(all(s["reason"] == routing.REASON_DROPPED for s in body["skipped"]))

    def test_short_hours_keep_the_urgent_households(self) -> None:
        body = self.plan(
            {"household_ids": self.ids(self.doors), "start_time": "13:00", "hours": 0.5}
        ).json()
        self.assertTrue(set(body["order"]) <= set(self.ids(self.high)), body)
        self.assertEqual(len(body["order"]) + len(body["skipped"]), 5)

    def test_auto_picks_high_priority_first_for_the_hours(self) -> None:
        body = self.plan({"auto": True, "start_time": "13:00", "hours": 0.5}).json()
        self.assertGreaterEqual(len(body["order"]), 1)
        self.assertTrue(set(body["order"]) <= set(self.ids(self.high)), body)
        self.assertGreater(body["not_picked"], 0)
        # With the morning and the afternoon, every door that can be visited today is picked:
        # not the one asking for nights, nor the one asking for another weekday.
        longer = self.plan({"auto": True, "start_time": "10:00", "hours": 4}).json()
        self.assertEqual(set(longer["order"]), set(self.ids(self.doors)))

    def test_auto_without_beats_is_refused(self) -> None:
        response = self.plan({"auto": True, "start_time": "10:00"}, username="kacho")
        self.assertEqual(response.status_code, 422)
        self.assertIn("受持区の指定がない", response.json()["errors"]["auto"][0])

    def test_the_route_starts_at_the_post_where_its_position_is_registered(self) -> None:
        from junkai.org.actions import do_set_post_location

        post = self.post("K1")
        do_set_post_location(post, acting_officer=None, latitude="33.2390", longitude="131.6080")
        body = self.plan({"household_ids": self.ids(self.high), "start_time": "10:00"}).json()
        self.assertEqual(body["start"], {"lat": 33.239, "lon": 131.608, "label": post.name})
        # A station-wide reader (no post of his own) starts from the households' post.
        body = self.plan(
            {"household_ids": self.ids(self.high), "start_time": "10:00"}, username="kacho"
        ).json()
        self.assertEqual(body["start"]["label"], post.name)

    def test_a_given_start(self) -> None:
        start = {"lat": 33.2400, "lon": 131.6100}
        body = self.plan(
            {"household_ids": self.ids(self.high), "start": start, "start_time": "10:00"}
        ).json()
        self.assertEqual((body["start"]["lat"], body["start"]["lon"]), (33.24, 131.61))
        self.assertEqual(body["start"]["label"], "指定の地点")

    def test_out_of_scope_is_404_alike_for_any_id(self) -> None:
        own = self.high[0].id
        cases = [
            [own, self.other["household"].id],  # another station's
            [self.honmachi.id],  # another post of the station (officer1a's scope is his post)
            [own, 999_999],  # absent
        ]
        bodies = set()
        for ids in cases:
            before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            response = self.plan({"household_ids": ids, "start_time": "10:00"})
            self.assertEqual(response.status_code, 404, ids)
            bodies.add(response.content)
            new = AuditEvent.objects.filter(id__gt=before)
            self.assertTrue(new.filter(event_type=EventType.ACCESS_DENIED).exists())
            self.assertFalse(new.filter(event_type=EventType.ROUTE_PLANNED).exists())
        self.assertEqual(len(bodies), 1)
        self.assertEqual(self.plan({"household_ids": [own]}, username="staff").status_code, 404)

    def test_bad_input_is_422_in_japanese_naming_the_field(self) -> None:
        own = self.ids(self.high)
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"household_ids": []}, "household_ids", "1件以上選んでください"),
            ({"household_ids": list(range(1, 102))}, "household_ids", "100件まで"),
            ({"household_ids": own, "start": {"lat": 200, "lon": 131.6}}, "start", "緯度は-90〜90"),
            ({"household_ids": own, "start": {"lat": 35.68, "lon": 139.76}}, "start", "km以内"),
            ({"household_ids": own, "start_time": "20:00"}, "start_time", "夜間"),
            ({"household_ids": own, "start_time": "25時"}, "start_time", "時:分"),
            ({"household_ids": own, "hours": 30}, "hours", "0.5〜12時間"),
            ({"household_ids": own, "mode": "bicycle"}, "mode", "walk（徒歩）か drive"),
            # An id beyond the database's range is refused at the API's boundary, naming it.
            ({"household_ids": [own[0], 10**20]}, "household_ids.1", "値が大きすぎます"),
            # Far dates: 0001-01-01 at 08:00 JST is before year 1 in UTC (was a 500); the API's
            # boundary refuses any date outside 1868–2200, a date within it past the plan's reach
            # is the planner's to refuse.
            ({"household_ids": own, "date": "0001-01-01", "start_time": "08:00"}, "date", "1868年"),
            ({"household_ids": own, "date": "9999-12-31"}, "date", "2200年"),
            ({"household_ids": own, "date": "2199-12-31"}, "date", "実施日は今日から"),
        ]
        for body, field, message in cases:
            with self.subTest(field=field, body=body):
                before = AuditEvent.objects.filter(event_type=EventType.ROUTE_PLANNED).count()
                response = self.plan({"start_time": "10:00", **body})
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["detail"], "入力内容に誤りがあります")
                self.assertIn(message, response.json()["errors"][field][0])
                after = AuditEvent.objects.filter(event_type=EventType.ROUTE_PLANNED).count()
                self.assertEqual(before, after)
