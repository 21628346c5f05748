"""巡回経路: order an officer's stops from the post and back (pure: plain data, no models).

Distances are straight lines (haversine) times a detour factor, because no road network is
held: in a Japanese urban grid the road distance between two doors is about 1.2–1.4 times the
straight line (setting JUNKAI_ROUTE_DETOUR, default 1.3). Travel time is that distance at a
speed per mode (walking 4.5 km/h, a patrol car in town 25 km/h including junctions and
parking), plus a service time at each door (default 10 minutes).

Times are seconds from local midnight of the route's day. A stop may carry time windows (the
resident's preferred visit times, already cut to daytime by the caller); the visit starts
inside one of them. The whole route lies in [day_start, day_end]: the caller ends the day
before the night window (要領 第4-3: a night visit needs the 地域課長's approval beforehand).

The solver is OR-Tools' routing library: PATH_CHEAPEST_ARC for a first tour, then guided
local search under a time limit, a time dimension for the windows and the hours, and a
disjunction per stop whose penalty grows with its priority, so that when the hours do not
allow every stop, the least urgent ones are left out (and reported) rather than no answer.
With windows, a second short search from that route also weighs the length of the day (see
`solve`). `held_karp` (exact, for the benchmark and tests) and `nearest_neighbour` (the baseline) are
here too.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

EARTH_RADIUS_M = 6_371_008.8
DAY_S = 24 * 3600

#: Penalty (metres of route) for leaving a stop out, by priority (1 高, 2 中, 3 低). Far above
#: any detour in a beat (a rural 駐在所 beat: tens of km), so a stop is dropped only when the
#: hours or its window cannot take it; and two LOW stops go before one HIGH.
DROP_PENALTY = {1: 100_000_000, 2: 10_000_000, 3: 1_000_000}

REASON_DROPPED = "時間内に回りきれません（優先度の低い世帯から外しました）"
REASON_WINDOW = "訪問希望の時間帯が今回の時間内にありません"


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True)
class Stop:
    id: int
    lat: float
    lon: float
    priority: int = 2
    #: Allowed start-of-visit intervals [open, close] in seconds from midnight; () = any time.
    windows: tuple[tuple[int, int], ...] = ()
    #: Extra weight on keeping the stop (1.0–2.0): earlier due dates weigh more.
    weight: float = 1.0


@dataclass(frozen=True)
class Params:
    speed_mps: float = 4.5 / 3.6
    detour: float = 1.3
    service_s: int = 600
    time_limit_s: float = 1.0
    #: OR-Tools first-solution strategy. bench/routes.py compares it with cheapest insertion:
    #: equal on windows, a point shorter on 50 stops without.
    first_solution: str = "PATH_CHEAPEST_ARC"


@dataclass(frozen=True)
class Visit:
    id: int
    arrival_s: int
    start_s: int
    departure_s: int
    leg_m: int
    leg_s: int

    @property
    def wait_s(self) -> int:
        return self.start_s - self.arrival_s


@dataclass(frozen=True)
class Skip:
    id: int
    code: str
    reason: str


@dataclass
class Plan:
    visits: list[Visit] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    start_s: int = 0
    end_s: int = 0
    distance_m: int = 0
    return_m: int = 0
    return_s: int = 0
    solver: str = "none"

    @property
    def order(self) -> list[int]:
        return [v.id for v in self.visits]

    @property
    def duration_s(self) -> int:
        return self.end_s - self.start_s


# --- geometry -------------------------------------------------------------------------


def haversine_m(a: Point, b: Point) -> float:
    la1, la2 = math.radians(a.lat), math.radians(b.lat)
    dla, dlo = la2 - la1, math.radians(b.lon - a.lon)
    h = math.sin(dla / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlo / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_matrix(points: Sequence[Point], detour: float) -> list[list[int]]:
    """Road-distance estimate in whole metres between every pair (index 0 is the start)."""
    n = len(points)
    matrix = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            d = round(haversine_m(points[i], points[j]) * detour)
            matrix[i][j] = matrix[j][i] = d
    return matrix


def travel_s(metres: int, speed_mps: float) -> int:
    return math.ceil(metres / speed_mps)


def route_length(matrix: Sequence[Sequence[int]], order: Sequence[int]) -> int:
    """Length of the closed tour 0 → order… → 0 (indices into the matrix)."""
    tour = [0, *order, 0]
    return sum(matrix[a][b] for a, b in pairwise(tour))


# --- exact and baseline tours (no windows): the benchmark's yardsticks ----------------


def held_karp(matrix: Sequence[Sequence[int]]) -> tuple[int, list[int]]:
    """The shortest closed tour from 0 through every other index (Held–Karp DP, O(2^n n^2)).

    For the benchmark and the tests: at 12 stops it takes about a second in Python.
    """
    n = len(matrix) - 1
    if n <= 0:
        return 0, []
    full = (1 << n) - 1
    inf = math.inf
    # cost[mask][j]: shortest path from 0 visiting exactly `mask`, ending at stop j (0-based).
    cost = [[inf] * n for _ in range(1 << n)]
    parent = [[-1] * n for _ in range(1 << n)]
    for j in range(n):
        cost[1 << j][j] = matrix[0][j + 1]
    for mask in range(1, full + 1):
        row = cost[mask]
        for j in range(n):
            here = row[j]
            if here == inf or not mask & (1 << j):
                continue
            dj = matrix[j + 1]
            for k in range(n):
                if mask & (1 << k):
                    continue
                nxt = mask | (1 << k)
                value = here + dj[k + 1]
                if value < cost[nxt][k]:
                    cost[nxt][k] = value
                    parent[nxt][k] = j
    best, last = min((cost[full][j] + matrix[j + 1][0], j) for j in range(n))
    order: list[int] = []
    mask = full
    while last != -1:
        order.append(last + 1)
        last, mask = parent[mask][last], mask & ~(1 << last)
    order.reverse()
    return int(best), order


def nearest_neighbour(matrix: Sequence[Sequence[int]]) -> list[int]:
    """The tour an officer walking to the closest unvisited door next would take."""
    left = set(range(1, len(matrix)))
    here, order = 0, []
    while left:
        here = min(left, key=lambda k: (matrix[here][k], k))
        left.remove(here)
        order.append(here)
    return order


# --- scheduling a fixed order -----------------------------------------------------------


def _start_in(windows: Sequence[tuple[int, int]], arrival: int) -> int | None:
    """The earliest start of a visit at or after `arrival` inside a window; None if none."""
    if not windows:
        return arrival
    starts = [max(arrival, lo) for lo, hi in windows if max(arrival, lo) <= hi]
    return min(starts) if starts else None


def schedule(
    start: Point,
    stops: Sequence[Stop],
    *,
    day_start_s: int,
    day_end_s: int,
    params: Params,
) -> Plan:
    """Times of `stops` visited in the given order, as early as the windows allow.

    Stops that cannot be reached inside their window or the hours are skipped (the route goes
    on to the next one). Used for the solver's answer and to reprint a route as planned.
    """
    points = [start, *(Point(s.lat, s.lon) for s in stops)]
    matrix = distance_matrix(points, params.detour)
    plan = Plan(start_s=day_start_s, end_s=day_start_s, solver="fixed")
    here, clock = 0, day_start_s
    for index, stop in enumerate(stops, start=1):
        leg_m = matrix[here][index]
        leg_s = travel_s(leg_m, params.speed_mps)
        arrival = clock + leg_s
        begin = _start_in(clip_windows(stop.windows, day_start_s, day_end_s), arrival)
        back = travel_s(matrix[index][0], params.speed_mps)
        if begin is None or begin + params.service_s + back > day_end_s:
            code = "WINDOW" if begin is None else "DROPPED"
            reason = REASON_WINDOW if begin is None else REASON_DROPPED
            plan.skipped.append(Skip(stop.id, code, reason))
            continue
        departure = begin + params.service_s
        plan.visits.append(Visit(stop.id, arrival, begin, departure, leg_m, leg_s))
        plan.distance_m += leg_m
        here, clock = index, departure
    plan.return_m = matrix[here][0]
    plan.return_s = travel_s(plan.return_m, params.speed_mps)
    plan.distance_m += plan.return_m
    plan.end_s = clock + plan.return_s if plan.visits else day_start_s
    if not plan.visits:
        plan.return_m = plan.return_s = plan.distance_m = 0
    return plan


def clip_windows(
    windows: Sequence[tuple[int, int]], lo: int, hi: int
) -> tuple[tuple[int, int], ...]:
    """Windows cut to [lo, hi]; () stays "any time" as [lo, hi]."""
    if not windows:
        return ((lo, hi),)
    return tuple((max(a, lo), min(b, hi)) for a, b in windows if max(a, lo) <= min(b, hi))


# --- the solver -----------------------------------------------------------------------------


def solve(
    start: Point,
    stops: Sequence[Stop],
    *,
    day_start_s: int,
    day_end_s: int,
    params: Params | None = None,
) -> Plan:
    """The shortest route from `start` through as many of `stops` as the hours allow, and back.

    Stops whose windows miss the hours altogether are skipped before solving (REASON_WINDOW);
    the solver may drop others (REASON_DROPPED), least priority first.
    """
    params = params or Params()
    skipped: list[Skip] = []
    usable: list[tuple[Stop, tuple[tuple[int, int], ...]]] = []
    for stop in stops:
        windows = clip_windows(stop.windows, day_start_s, day_end_s - params.service_s)
        if not windows:
            skipped.append(Skip(stop.id, "WINDOW", REASON_WINDOW))
        else:
            usable.append((stop, windows))
    if not usable:
        plan = Plan(skipped=skipped, start_s=day_start_s, end_s=day_start_s, solver="none")
        return plan

    points = [start, *(Point(s.lat, s.lon) for s, _ in usable)]
    matrix = distance_matrix(points, params.detour)
    n = len(points)
    service = [0] + [params.service_s] * (n - 1)
    transit = [
        [service[i] + travel_s(matrix[i][j], params.speed_mps) for j in range(n)] for i in range(n)
    ]

    budget = min(params.time_limit_s, 0.1 + 0.02 * len(usable))
    has_windows = any(stop.windows for stop in stops)
    # Pass 1: the shortest route that keeps as many stops as the hours allow.
    nodes = _search(
        usable, matrix, transit, day_start_s, day_end_s, params,
        time_limit_s=budget * (0.6 if has_windows else 1.0), span_cost=False, initial=None,
    )  # fmt: skip
    if has_windows and nodes:
        # Pass 2, from pass 1's route: distance plus the length of the day (1 m per second),
        # so that a door asking for the afternoon is not reached at 10:30 to wait till noon.
        # Started cold, the span cost made the search leave feasible morning stops out (10 of
        # 50 in the benchmark); started from pass 1, leaving one out costs its penalty.
        # Without windows the span is the travel plus the visits: nothing to gain. Its limit is
        # short because a span cost makes each step slower (cumuls are optimised) and the
        # search overruns its limit by up to 0.4 s.
        better = _search(
            usable, matrix, transit, day_start_s, day_end_s, params,
            time_limit_s=budget * 0.25, span_cost=True, initial=nodes,
        )  # fmt: skip
        if len(better) >= len(nodes):
            nodes = better
    order = [usable[node - 1][0] for node in nodes]
    # The times are recomputed as early as possible along the order found (the solver's own
    # cumul values may sit anywhere within the slack).
    windows_of = {s.id: w for s, w in usable}
    plan = schedule(
        start,
        [Stop(s.id, s.lat, s.lon, s.priority, windows_of[s.id]) for s in order],
        day_start_s=day_start_s,
        day_end_s=day_end_s,
        params=params,
    )
    kept = {v.id for v in plan.visits}
    plan.skipped = skipped + [
        Skip(s.id, "DROPPED", REASON_DROPPED) for s, _ in usable if s.id not in kept
    ]
    plan.solver = "or-tools"
    return plan


def _search(
    usable: Sequence[tuple[Stop, tuple[tuple[int, int], ...]]],
    matrix: list[list[int]],
    transit: list[list[int]],
    day_start_s: int,
    day_end_s: int,
    params: Params,
    *,
    time_limit_s: float,
    span_cost: bool,
    initial: list[int] | None,
) -> list[int]:
    """One OR-Tools search; the visited nodes (1-based indices into `usable`) in order."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    manager = pywrapcp.RoutingIndexManager(len(matrix), 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def distance_cb(from_index: int, to_index: int) -> int:
        i, j = int(manager.IndexToNode(from_index)), int(manager.IndexToNode(to_index))
        return matrix[i][j]

    def time_cb(from_index: int, to_index: int) -> int:
        i, j = int(manager.IndexToNode(from_index)), int(manager.IndexToNode(to_index))
        return transit[i][j]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance_cb))
    time_index = routing.RegisterTransitCallback(time_cb)
    # Slack: waiting at a door for its window to open.
    routing.AddDimension(time_index, day_end_s - day_start_s, day_end_s, False, "time")
    time = routing.GetDimensionOrDie("time")
    if span_cost:
        time.SetGlobalSpanCostCoefficient(1)
    time.CumulVar(routing.Start(0)).SetRange(day_start_s, day_start_s)
    time.CumulVar(routing.End(0)).SetRange(day_start_s, day_end_s)
    for node, (stop, windows) in enumerate(usable, start=1):
        index = manager.NodeToIndex(node)
        cumul = time.CumulVar(index)
        cumul.SetRange(windows[0][0], windows[-1][1])
        for (_, gap_from), (gap_to, _) in pairwise(windows):
            if gap_to - 1 >= gap_from + 1:
                cumul.RemoveInterval(gap_from + 1, gap_to - 1)
        penalty = int(DROP_PENALTY.get(stop.priority, DROP_PENALTY[3]) * stop.weight)
        routing.AddDisjunction([index], penalty)

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution
    )
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    # Guided local search never stops on its own: the caller scales the limit to the size.
    search.time_limit.FromMilliseconds(max(30, int(time_limit_s * 1000)))
    if initial is not None:
        routing.CloseModelWithParameters(search)
        start = routing.ReadAssignmentFromRoutes(
            [[manager.NodeToIndex(node) for node in initial]], True
        )
        solution = (
            routing.SolveFromAssignmentWithParameters(start, search) if start is not None else None
        )
    else:
        solution = routing.SolveWithParameters(search)
    nodes: list[int] = []
    if solution is not None:
        index = solution.Value(routing.NextVar(routing.Start(0)))
        while not routing.IsEnd(index):
            nodes.append(int(manager.IndexToNode(index)))
            index = solution.Value(routing.NextVar(index))
    return nodes


# --- residents' preferred days and times (free text on the card) ----------------------------

WEEKDAYS = "月火水木金土日"
_DAY_WORDS = {
    "平日": {0, 1, 2, 3, 4},
    "週末": {5, 6},
    "土日": {5, 6},
    "休日": {5, 6},
    "毎日": set(range(7)),
    "いつでも": set(range(7)),
}
_TIME_WORDS = (
    ("午前中", (0, 12 * 3600)),
    ("午前", (0, 12 * 3600)),
    ("午後", (12 * 3600, 18 * 3600)),
    ("日中", (9 * 3600, 17 * 3600)),
    ("昼間", (10 * 3600, 16 * 3600)),
    ("お昼", (11 * 3600, 14 * 3600)),
    ("昼", (11 * 3600, 14 * 3600)),
    ("夕方", (16 * 3600, 19 * 3600)),
    ("夜間", (19 * 3600, 22 * 3600)),
    ("夜", (19 * 3600, 22 * 3600)),
    ("朝", (7 * 3600, 10 * 3600)),
)
_CLOCK = r"(午前|午後)?(\d{1,2})(?:時(?:(\d{1,2})分?|半)?|:(\d{2}))"
_RANGE = re.compile(_CLOCK + r"\s*[~〜\-ー－から]+\s*" + _CLOCK + r"(?:まで)?")
_FROM = re.compile(_CLOCK + r"\s*(?:以降|から|以後|~|〜|過ぎ)")
_UNTIL = re.compile(_CLOCK + r"\s*(?:まで|以前|前)")


def _clock(groups: Sequence[str | None], text: str) -> int:
    half, hour, minute, colon_minute = groups
    h = int(hour or 0)
    if half == "午後" and h < 12:
        h += 12
    m = int(minute or colon_minute or 0)
    if "半" in text and not minute and not colon_minute:
        m = 30
    return min(DAY_S, h * 3600 + m * 60)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "").replace("　", "")


def parse_preferred_times(text: str) -> tuple[tuple[int, int], ...] | None:
    """訪問希望の時間帯 as windows (seconds from midnight); None when it states nothing usable.

    「午前中」「18時以降」「10時〜12時」「午後3時まで」「夕方・夜」: several parts are a union.
    Free text that matches none of these gives None (no constraint; the text is shown as is).
    """
    rest = _normalise(text)
    if not rest:
        return None
    windows: list[tuple[int, int]] = []
    for pattern, kind in ((_RANGE, "range"), (_FROM, "from"), (_UNTIL, "until")):
        for match in list(pattern.finditer(rest)):
            g = match.groups()
            if kind == "range":
                a, b = _clock(g[:4], match.group(0)), _clock(g[4:], match.group(0))
                windows.append((a, b) if a < b else (a, DAY_S))
            elif kind == "from":
                windows.append((_clock(g, match.group(0)), DAY_S))
            else:
                windows.append((0, _clock(g, match.group(0))))
            rest = rest.replace(match.group(0), "／")
    for word, window in _TIME_WORDS:
        if word in rest:
            windows.append(window)
            rest = rest.replace(word, "／")
    if not windows:
        return None
    return merge_windows(windows)


def merge_windows(windows: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(w for w in windows if w[0] < w[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def subtract_night(
    windows: Sequence[tuple[int, int]], night_start_s: int, night_end_s: int
) -> tuple[tuple[int, int], ...]:
    """The daytime part of `windows` (the night window may span midnight, 19:00–07:00)."""
    if night_start_s > night_end_s:
        day = [(night_end_s, night_start_s)]
    else:
        day = [(0, night_start_s), (night_end_s, DAY_S)]
    return merge_windows(
        [(max(a, c), min(b, d)) for a, b in windows for c, d in day if max(a, c) < min(b, d)]
    )


def parse_preferred_days(text: str) -> set[int] | None:
    """訪問希望の曜日 as weekdays (0 = Monday); None when it states nothing usable.

    「土・日」「平日」「水曜」「月〜金」「日曜以外」.
    """
    rest = _normalise(text)
    if not rest:
        return None
    days: set[int] = set()
    for word, value in _DAY_WORDS.items():
        if word in rest:
            days |= value
            rest = rest.replace(word, "／")
    for match in re.finditer(rf"([{WEEKDAYS}])(?:曜日?)?[~〜\-ー－から]+([{WEEKDAYS}])", rest):
        a, b = WEEKDAYS.index(match.group(1)), WEEKDAYS.index(match.group(2))
        days |= {(a + k) % 7 for k in range((b - a) % 7 + 1)}
        rest = rest.replace(match.group(0), "／")
    for char in rest:
        if char in WEEKDAYS:
            days.add(WEEKDAYS.index(char))
    if not days:
        return None
    if "以外" in text:
        days = set(range(7)) - days
    return days


def hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
