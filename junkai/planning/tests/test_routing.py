"""The route solver over plain data (junkai/planning/routing.py): no database."""

from __future__ import annotations

import itertools
import random

from django.test import SimpleTestCase

from junkai.planning import routing
from junkai.planning.routing import Params, Point, Stop

H = 3600
CENTRE = Point(33.2396, 131.6093)
#: Metres per degree near the centre (for placing doors at known distances).
LAT_M = 111_195.0
LON_M = 93_030.0


def at(north_m: float, east_m: float) -> tuple[float, float]:
    return CENTRE.lat + north_m / LAT_M, CENTRE.lon + east_m / LON_M


def stop(id: int, north_m: float, east_m: float, **kw: object) -> Stop:
    lat, lon = at(north_m, east_m)
    return Stop(id, lat, lon, **kw)  # type: ignore[arg-type]


def random_stops(rng: random.Random, n: int, half_m: float = 750) -> list[Stop]:
    return [stop(i, rng.uniform(-half_m, half_m), rng.uniform(-half_m, half_m)) for i in range(n)]


def matrix_of(start: Point, stops: list[Stop], detour: float = 1.3) -> list[list[int]]:
    return routing.distance_matrix([start, *(Point(s.lat, s.lon) for s in stops)], detour)


def brute_force(matrix: list[list[int]]) -> int:
    n = len(matrix) - 1
    return min(routing.route_length(matrix, p) for p in itertools.permutations(range(1, n + 1)))


FAST = Params(speed_mps=4.5 / 3.6, detour=1.3, service_s=600, time_limit_s=0.5)


class GeometryTests(SimpleTestCase):
    def test_haversine_matches_a_known_distance(self) -> None:
        # One minute of latitude is one nautical mile (1,852 m) to within half a percent.
        d = routing.haversine_m(Point(33.0, 131.0), Point(33.0 + 1 / 60, 131.0))
        self.assertAlmostEqual(d, 1852, delta=10)

    def test_matrix_applies_the_detour_factor(self) -> None:
        a = stop(1, 1000, 0)
        plain = routing.distance_matrix([CENTRE, Point(a.lat, a.lon)], 1.0)[0][1]
        detoured = routing.distance_matrix([CENTRE, Point(a.lat, a.lon)], 1.3)[0][1]
        self.assertAlmostEqual(plain, 1000, delta=2)
        self.assertAlmostEqual(detoured, 1300, delta=3)


class ExactAndBaselineTests(SimpleTestCase):
    def test_held_karp_equals_brute_force(self) -> None:
        rng = random.Random(7)  # noqa: S311
        for n in (1, 2, 5, 7):
            m = matrix_of(CENTRE, random_stops(rng, n))
            cost, order = routing.held_karp(m)
            self.assertEqual(cost, brute_force(m))
            self.assertEqual(sorted(order), list(range(1, n + 1)))
            self.assertEqual(routing.route_length(m, order), cost)

    def test_nearest_neighbour_walks_to_the_closest_door_next(self) -> None:
        stops = [stop(1, 0, 300), stop(2, 0, 100), stop(3, 0, 200)]
        self.assertEqual(routing.nearest_neighbour(matrix_of(CENTRE, stops)), [2, 3, 1])


class SolveTests(SimpleTestCase):
    def solve(
        self, stops: list[Stop], start: int = 9 * H, end: int = 17 * H, **kw: object
    ) -> routing.Plan:
        params = Params(**{**FAST.__dict__, **kw})
        return routing.solve(CENTRE, stops, day_start_s=start, day_end_s=end, params=params)

    def test_known_small_instance_optimum(self) -> None:
        # Four doors on the corners of a 400 m square around the post: the optimum goes out to
        # a corner, round three sides, and back (3 × 400 m, plus 2 × 283 m to the centre).
        stops = [stop(1, 200, 200), stop(2, -200, -200), stop(3, 200, -200), stop(4, -200, 200)]
        plan = self.solve(stops)
        m = matrix_of(CENTRE, stops)
        self.assertEqual(plan.distance_m, routing.held_karp(m)[0])
        self.assertAlmostEqual(plan.distance_m, 1.3 * (3 * 400 + 2 * 282.8), delta=15)
        self.assertEqual(sorted(plan.order), [1, 2, 3, 4])
        # Round the square, never across it: consecutive doors share a side.
        tour = plan.order
        sides = {frozenset(p) for p in ((1, 3), (3, 2), (2, 4), (4, 1))}
        self.assertTrue(all(frozenset(p) in sides for p in itertools.pairwise(tour)))

    def test_random_instances_reach_the_optimum(self) -> None:
        rng = random.Random(11)  # noqa: S311
        for _ in range(3):
            stops = random_stops(rng, 8)
            plan = self.solve(stops)
            optimum, _ = routing.held_karp(matrix_of(CENTRE, stops))
            self.assertLessEqual(plan.distance_m, optimum * 1.01)
            self.assertEqual(sorted(plan.order), sorted(s.id for s in stops))

    def test_times_follow_the_legs_and_the_service(self) -> None:
        plan = self.solve([stop(1, 0, 450), stop(2, 0, 900)])
        first, second = plan.visits
        self.assertEqual(plan.order, [1, 2])
        # 450 m × 1.3 = 585 m at 1.25 m/s: 468 s.
        self.assertAlmostEqual(first.leg_m, 585, delta=2)
        self.assertEqual(first.arrival_s, 9 * H + first.leg_s)
        self.assertEqual(first.departure_s, first.start_s + 600)
        self.assertEqual(second.arrival_s, first.departure_s + second.leg_s)
        self.assertEqual(plan.end_s, second.departure_s + plan.return_s)
        self.assertEqual(plan.duration_s, plan.end_s - 9 * H)
        self.assertEqual(plan.distance_m, first.leg_m + second.leg_m + plan.return_m)

    def test_time_windows_are_honoured(self) -> None:
        # The near door asks for the afternoon, the far one for the morning: distance alone
        # would take the near one first; the windows turn the route round.
        near = stop(1, 0, 100, windows=((13 * H, 15 * H),))
        far = stop(2, 0, 800, windows=((9 * H, 10 * H),))
        middle = stop(3, 0, 400)
        plan = self.solve([near, far, middle])
        self.assertLess(plan.order.index(2), plan.order.index(1))
        self.assertEqual(plan.order[-1], 1)
        by_id = {v.id: v for v in plan.visits}
        self.assertTrue(9 * H <= by_id[2].start_s <= 10 * H)
        self.assertTrue(13 * H <= by_id[1].start_s <= 15 * H)
        self.assertGreater(by_id[1].wait_s, 0)  # waits for 13:00
        self.assertEqual(plan.skipped, [])

    def test_two_windows_the_visit_falls_in_one(self) -> None:
        # 10:00–10:05 or 16:00–17:00; arriving at 09:10 it waits for 10:00, not for 16:00.
        plan = self.solve([stop(1, 0, 300, windows=((10 * H, 10 * H + 300), (16 * H, 17 * H)))])
        self.assertEqual(plan.visits[0].start_s, 10 * H)

    def test_a_window_outside_the_hours_is_skipped_with_the_reason(self) -> None:
        plan = self.solve([stop(1, 0, 100, windows=((18 * H, 19 * H),)), stop(2, 0, 200)])
        self.assertEqual(plan.order, [2])
        self.assertEqual([(s.id, s.code) for s in plan.skipped], [(1, "WINDOW")])
        self.assertEqual(plan.skipped[0].reason, routing.REASON_WINDOW)

    def test_short_hours_drop_the_least_urgent_stops(self) -> None:
        # One hour on foot, 10 minutes a door: about four doors. HIGH ones stay.
        rng = random.Random(3)  # noqa: S311
        high = [
            stop(i, rng.uniform(-300, 300), rng.uniform(-300, 300), priority=1) for i in range(3)
        ]
        low = [
            stop(10 + i, rng.uniform(-300, 300), rng.uniform(-300, 300), priority=3)
            for i in range(6)
        ]
        plan = self.solve(high + low, end=10 * H)
        kept = set(plan.order)
        self.assertTrue({0, 1, 2} <= kept)
        self.assertLess(len(kept), 9)
        self.assertLessEqual(plan.end_s, 10 * H)
        dropped = {s.id for s in plan.skipped}
        self.assertEqual(dropped | kept, {s.id for s in high + low})
        self.assertTrue(all(s.code == "DROPPED" for s in plan.skipped))

    def test_nothing_to_visit(self) -> None:
        plan = self.solve([])
        self.assertEqual((plan.order, plan.distance_m, plan.duration_s), ([], 0, 0))

    def test_fifty_stops_within_the_time_limit(self) -> None:
        import time

        rng = random.Random(5)  # noqa: S311
        stops = random_stops(rng, 50)
        began = time.perf_counter()
        plan = self.solve(stops, start=8 * H, end=23 * H, time_limit_s=1.0, speed_mps=100)
        self.assertLess(time.perf_counter() - began, 2.0)
        self.assertEqual(sorted(plan.order), list(range(50)))
        nn = routing.route_length(
            matrix_of(CENTRE, stops), routing.nearest_neighbour(matrix_of(CENTRE, stops))
        )
        self.assertLess(plan.distance_m, nn)


class ScheduleTests(SimpleTestCase):
    def test_a_fixed_order_is_kept(self) -> None:
        stops = [stop(1, 0, 900), stop(2, 0, 100), stop(3, 0, 500)]
        plan = routing.schedule(CENTRE, stops, day_start_s=9 * H, day_end_s=17 * H, params=FAST)
        self.assertEqual(plan.order, [1, 2, 3])

    def test_a_stop_past_the_hours_is_skipped(self) -> None:
        stops = [stop(1, 0, 100), stop(2, 0, 200), stop(3, 0, 300)]
        plan = routing.schedule(
            CENTRE, stops, day_start_s=9 * H, day_end_s=9 * H + 1500, params=FAST
        )
        self.assertEqual(plan.order, [1, 2][: len(plan.order)])
        self.assertIn(3, [s.id for s in plan.skipped])
        self.assertLessEqual(plan.end_s, 9 * H + 1500)


class PreferenceTests(SimpleTestCase):
    def test_preferred_times(self) -> None:
        cases = {
            "午前中": ((0, 12 * H),),
            "18時以降": ((18 * H, 24 * H),),
            "10時〜12時": ((10 * H, 12 * H),),
            "１０：００～１１：３０": ((10 * H, 11 * H + 1800),),
            "午後3時まで": ((0, 15 * H),),
            "9時半から": ((9 * H + 1800, 24 * H),),
            "午後": ((12 * H, 18 * H),),
            "夕方・夜": ((16 * H, 22 * H),),
            "": None,
            "特になし": None,
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(routing.parse_preferred_times(text), expected)

    def test_preferred_days(self) -> None:
        cases = {
            "土・日": {5, 6},
            "平日": {0, 1, 2, 3, 4},
            "水曜": {2},
            "月〜水": {0, 1, 2},
            "日曜以外": {0, 1, 2, 3, 4, 5},
            "": None,
            "いつでも可": set(range(7)),
            "要相談": None,
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(routing.parse_preferred_days(text), expected)

    def test_night_is_cut_out_of_the_windows(self) -> None:
        night = (19 * H, 7 * H)
        self.assertEqual(
            routing.subtract_night(routing.parse_preferred_times("18時以降") or (), *night),
            ((18 * H, 19 * H),),
        )
        self.assertEqual(
            routing.subtract_night(routing.parse_preferred_times("夜") or (), *night), ()
        )
        self.assertEqual(
            routing.subtract_night(((5 * H, 9 * H),), *night),
            ((7 * H, 9 * H),),
        )
