"""Route planning (巡回経路): solve time at 50 stops, optimality gap on small instances, and the
saving over nearest-neighbour ordering.

    .venv/bin/python -m bench.routes [--instances 20] [--seed 1]

Pure solver (junkai/planning/routing.py), no database. Instances are doors of a realistic urban
beat: a 1.5 km square around a 交番, half spread along streets, half in clusters (apartment
blocks, 団地), the start at the centre. Distances as in production: straight line × 1.3.

- 50 stops: `solve()` wall time (matrix, model, search) with the production time limit, a
  12-hour day (07:00–19:00) by car so every stop fits; p50/p95 over the instances. Then the same
  with a third of the doors asking for 午前中 or 午後 (time windows).
- 8–12 stops: the solver's distance against the exact optimum (Held–Karp DP).
- 50 stops: the solver's distance against visiting the nearest unvisited door next.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from junkai.planning import routing
from junkai.planning.routing import Params, Point, Stop

CENTRE = Point(33.2396, 131.6093)
HALF_M = 750.0
LAT_M, LON_M = 111_195.0, 93_030.0
H = 3600
DAY = (7 * H, 19 * H)
WINDOWS = (((0, 12 * H),), ((12 * H, 18 * H),))


def beat(rng: random.Random, n: int, *, windows: bool = False) -> list[Stop]:
    stops = []
    clusters = [(rng.uniform(-HALF_M, HALF_M), rng.uniform(-HALF_M, HALF_M)) for _ in range(4)]
    for i in range(n):
        if i % 2:
            cx, cy = rng.choice(clusters)
            north, east = cx + rng.gauss(0, 40), cy + rng.gauss(0, 40)
        else:
            north, east = rng.uniform(-HALF_M, HALF_M), rng.uniform(-HALF_M, HALF_M)
        north = max(-HALF_M, min(HALF_M, north))
        east = max(-HALF_M, min(HALF_M, east))
        window = rng.choice(WINDOWS) if windows and rng.random() < 1 / 3 else ()
        stops.append(Stop(i, CENTRE.lat + north / LAT_M, CENTRE.lon + east / LON_M, windows=window))
    return stops


def matrix_of(stops: list[Stop], detour: float) -> list[list[int]]:
    return routing.distance_matrix([CENTRE, *(Point(s.lat, s.lon) for s in stops)], detour)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def timing(name: str, seconds: list[float], kept: list[int], n: int) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"{name}: n={len(ms)} p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms,"
        f" max {max(ms):.0f} ms; stops kept {min(kept)}–{max(kept)} of {n}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=1.0, help="JUNKAI_ROUTE_TIME_LIMIT_S")
    parser.add_argument(
        "--first",
        nargs="+",
        default=["PATH_CHEAPEST_ARC", "LOCAL_CHEAPEST_INSERTION"],
        help="first-solution strategies to compare (the first is production's)",
    )
    args = parser.parse_args()
    for first in args.first:
        run(args, first)


def run(args: argparse.Namespace, first: str) -> None:
    rng = random.Random(args.seed)  # noqa: S311  (reproducible benchmark data, not secrets)
    drive = Params(25 / 3.6, 1.3, 600, args.time_limit, first)
    # Warm up: the first call imports OR-Tools (about 0.1 s), which a server pays once.
    routing.solve(CENTRE, beat(rng, 5), day_start_s=DAY[0], day_end_s=DAY[1], params=drive)

    if first == args.first[0]:
        print(f"beat: {2 * HALF_M / 1000:.1f} km square, straight line × {drive.detour}")
    print(
        f"\nsolver: OR-Tools {ortools_version()}, first solution {first}, "
        f"GLS time limit {args.time_limit:g} s"
    )

    # 1. Solve time at 50 stops, and the saving over nearest neighbour.
    seconds, kept, savings = [], [], []
    for _ in range(args.instances):
        stops = beat(rng, 50)
        began = time.perf_counter()
        plan = routing.solve(CENTRE, stops, day_start_s=DAY[0], day_end_s=DAY[1], params=drive)
        seconds.append(time.perf_counter() - began)
        kept.append(len(plan.visits))
        m = matrix_of(stops, drive.detour)
        nn = routing.route_length(m, routing.nearest_neighbour(m))
        if len(plan.visits) == 50:
            savings.append((nn - plan.distance_m) / nn * 100)
    timing("50 stops, solve()", seconds, kept, 50)
    if savings:
        print(
            f"50 stops, saving vs nearest neighbour: mean {statistics.mean(savings):.1f} %, "
            f"min {min(savings):.1f} %, max {max(savings):.1f} % (n={len(savings)})"
        )

    seconds, kept = [], []
    for _ in range(args.instances):
        stops = beat(rng, 50, windows=True)
        began = time.perf_counter()
        plan = routing.solve(CENTRE, stops, day_start_s=DAY[0], day_end_s=DAY[1], params=drive)
        seconds.append(time.perf_counter() - began)
        kept.append(len(plan.visits))
    timing("50 stops, a third with 午前中/午後 windows", seconds, kept, 50)

    # 2. Gap to the optimum on instances small enough to solve exactly.
    walk = Params(4.5 / 3.6, 1.3, 600, args.time_limit, first)
    gaps, exact_s, solve_s = [], [], []
    sizes = [8 + i % 5 for i in range(args.instances)]
    for n in sizes:
        stops = beat(rng, n)
        m = matrix_of(stops, walk.detour)
        began = time.perf_counter()
        optimum, _ = routing.held_karp(m)
        exact_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        plan = routing.solve(CENTRE, stops, day_start_s=DAY[0], day_end_s=DAY[1], params=walk)
        solve_s.append(time.perf_counter() - began)
        # A small instance fits the day: a stop left out would be a solver failure.
        gaps.append(
            (plan.distance_m - optimum) / optimum * 100 if len(plan.visits) == n else float("inf")
        )
    optimal = sum(1 for g in gaps if g <= 1e-9)
    print(
        f"8–12 stops vs Held–Karp: n={len(gaps)} gap mean {statistics.mean(gaps):.2f} %, "
        f"max {max(gaps):.2f} %; optimal in {optimal}/{len(gaps)}; "
        f"solve p50 {statistics.median(solve_s) * 1000:.0f} ms, "
        f"Held–Karp p50 {statistics.median(exact_s) * 1000:.0f} ms"
    )


def ortools_version() -> str:
    import ortools

    return str(ortools.__version__)


if __name__ == "__main__":
    main()
