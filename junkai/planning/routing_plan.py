"""An officer's route for the day, from households (one function for the page, the API and
the print): scope, the residents' preferred days and times, the night rule, the solver, and
the audit event.

The start is the officer's post (交番等) where its position is registered (Post.latitude /
longitude, set on the beat map); without one, the centroid of the households of the officer's
beats (or, for someone without a beat, of the chosen households' beats), and the page says so.
A caller may give a position instead.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Avg, Q, QuerySet
from django.utils import timezone

from junkai.access.roles import own_beats
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households.access import access_households, households_visible_to
from junkai.households.models import (
    CardStatus,
    ContactCard,
    Household,
    HouseholdStatus,
    SchedulePolicy,
)
from junkai.households.schedule import current_policy
from junkai.org.models import Beat, Officer, Post, today
from junkai.planning import routing
from junkai.planning.routing import Params, Plan, Point, Stop, Visit
from junkai.visits.worklist import due_households

MODES = {"walk": "徒歩", "drive": "車両"}
MIN_HOURS, MAX_HOURS = 0.5, 12.0
#: A start further than this from the stops is a mistyped position (swapped lat/lon, a typo).
MAX_START_KM = 30.0
#: How far ahead a route may be planned (the 実施日): the residents' preferred days are read
#: for it, and nothing plans further than a year.
MAX_DAYS_AHEAD = 366

REASON_NO_LOCATION = "位置（緯度・経度）が登録されていません"
REASON_INACTIVE = "転出・空室のため巡回の対象外です"


def max_stops() -> int:
    return int(getattr(settings, "JUNKAI_ROUTE_MAX_STOPS", 100))


def speed_kmh(mode: str) -> float:
    return float(
        settings.JUNKAI_ROUTE_DRIVE_KMH if mode == "drive" else settings.JUNKAI_ROUTE_WALK_KMH
    )


def params_for(mode: str) -> Params:
    return Params(
        speed_mps=speed_kmh(mode) / 3.6,
        detour=settings.JUNKAI_ROUTE_DETOUR,
        service_s=settings.JUNKAI_ROUTE_SERVICE_MINUTES * 60,
        time_limit_s=settings.JUNKAI_ROUTE_TIME_LIMIT_S,
    )


@dataclass
class RouteStop:
    number: int
    household: Household
    visit: Visit
    preferred: str


@dataclass
class RouteSkip:
    household: Household
    reason: str


@dataclass
class Route:
    day: dt.date
    mode: str
    params: Params
    start: Point
    start_label: str
    plan: Plan
    stops: list[RouteStop] = field(default_factory=list)
    skipped: list[RouteSkip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    auto: bool = False
    #: Work-list households considered but left out (auto mode): a count, not a list.
    not_picked: int = 0
    #: The households asked for (or picked, in auto mode), as the audit event names them.
    considered: list[Household] = field(default_factory=list)

    @property
    def order(self) -> list[int]:
        return [s.household.id for s in self.stops]

    @property
    def households(self) -> list[Household]:
        """Every household the route shows: its stops, then those left out."""
        return [s.household for s in self.stops] + [x.household for x in self.skipped]

    @property
    def end_time(self) -> str:
        return routing.hhmm(self.plan.end_s)

    @property
    def start_time(self) -> str:
        return routing.hhmm(self.plan.start_s)

    @property
    def mode_label(self) -> str:
        return MODES.get(self.mode, self.mode)


@dataclass(frozen=True)
class RouteInput:
    """What the page, the API and the print send, validated (Japanese messages per field)."""

    household_ids: list[int]
    start: Point | None
    start_time: dt.time
    hours: float
    mode: str
    day: dt.date
    auto: bool = False


def clean_input(
    *,
    household_ids: list[int] | None,
    start: tuple[float | None, float | None] | None,
    start_time: str | dt.time | None,
    hours: float | str | None,
    mode: str | None,
    day: dt.date | None = None,
    auto: bool = False,
) -> RouteInput:
    errors: dict[str, str] = {}
    if day is not None and not today() <= day <= today() + dt.timedelta(days=MAX_DAYS_AHEAD):
        errors["date"] = f"実施日は今日から{MAX_DAYS_AHEAD}日後までの日付で指定してください"
        day = None
    ids = list(dict.fromkeys(household_ids or []))
    if any(not 0 < i < 2**63 for i in ids):
        # Past a database integer the query itself fails (a 500, not an answer).
        errors["household_ids"] = "世帯の指定が正しくありません"
    elif not auto:
        if not ids:
            errors["household_ids"] = "経路に入れる世帯を1件以上選んでください"
        elif len(ids) > max_stops():
            errors["household_ids"] = (
                f"1つの経路に入れられる世帯は{max_stops()}件までです（{len(ids)}件が選ばれています）"
            )
    point: Point | None = None
    if start is not None and (start[0] is not None or start[1] is not None):
        lat, lon = start
        if lat is None or lon is None:
            errors["start"] = "出発地点は緯度と経度の両方を指定してください"
        elif not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat + lon):
            errors["start"] = "出発地点の緯度は-90〜90、経度は-180〜180で指定してください"
        else:
            point = Point(float(lat), float(lon))
    mode = mode or settings.JUNKAI_ROUTE_MODE
    if mode not in MODES:
        errors["mode"] = "移動手段は walk（徒歩）か drive（車両）を指定してください"
    try:
        hours_value = 4.0 if hours is None or hours == "" else float(hours)
    except (TypeError, ValueError):
        hours_value = -1.0
    if not MIN_HOURS <= hours_value <= MAX_HOURS or math.isnan(hours_value):
        errors["hours"] = f"使える時間は{MIN_HOURS:g}〜{MAX_HOURS:g}時間で指定してください"
    when = _clean_time(start_time, errors)
    if when is not None and "start_time" not in errors:
        policy = current_policy()
        moment = timezone.make_aware(dt.datetime.combine(day or today(), when))
        if policy.is_night(moment):
            errors["start_time"] = (
                f"開始時刻 {when:%H:%M} は夜間（{policy.night_start:%H:%M}〜"
                f"{policy.night_end:%H:%M}）です。夜間の巡回連絡は事前の承認を受けて個別に行ってください"
            )
    if errors:
        raise ValidationError(errors)
    assert when is not None
    return RouteInput(ids, point, when, hours_value, mode, day or today(), auto)


def _clean_time(value: str | dt.time | None, errors: dict[str, str]) -> dt.time | None:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if value in (None, ""):
        return default_start_time()
    try:
        return dt.datetime.strptime(str(value).strip(), "%H:%M").time()
    except ValueError:
        errors["start_time"] = "開始時刻は 09:30 のように時:分で指定してください"
        return None


def default_start_time() -> dt.time:
    """Now, rounded up to five minutes; 09:00 when now is at night."""
    now = timezone.localtime()
    minutes = (now.hour * 60 + now.minute + 4) // 5 * 5
    if minutes >= 24 * 60:
        return dt.time(9, 0)
    candidate = dt.time(minutes // 60, minutes % 60)
    if current_policy().is_night(timezone.make_aware(dt.datetime.combine(today(), candidate))):
        return dt.time(9, 0)
    return candidate


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60


def day_bounds(data: RouteInput) -> tuple[int, int, list[str]]:
    """[start, end] of the day's route in seconds: the hours, cut at the night window."""
    policy = current_policy()
    start_s = _seconds(data.start_time)
    end_s = min(routing.DAY_S, start_s + round(data.hours * 3600))
    night_start, night_end = _seconds(policy.night_start), _seconds(policy.night_end)
    notes = []
    # The first night start after the start (the night may span midnight).
    cut = night_start if night_start > start_s else routing.DAY_S
    if night_start <= start_s < night_end:
        cut = start_s
    if end_s > cut:
        end_s = cut
        notes.append(
            f"夜間（{policy.night_start:%H:%M}〜）に入らないよう、{routing.hhmm(cut)}までに"
            "帰着する経路にしました"
        )
    return start_s, end_s, notes


def _preferences(household_ids: list[int]) -> dict[int, tuple[str, str]]:
    rows = ContactCard.objects.filter(
        household_id__in=household_ids, status=CardStatus.ACTIVE
    ).values_list("household_id", "preferred_days", "preferred_times")
    return {h: (days, times) for h, days, times in rows}


def preferred_text(days: str, times: str) -> str:
    return " ".join(t for t in (days, times) if t)


def _stop_or_reason(
    household: Household,
    days: str,
    times: str,
    day: dt.date,
    policy: SchedulePolicy,
    weight: float = 1.0,
) -> Stop | str:
    if household.status != HouseholdStatus.ACTIVE:
        return REASON_INACTIVE
    if household.latitude is None or household.longitude is None:
        return REASON_NO_LOCATION
    wanted_days = routing.parse_preferred_days(days)
    if wanted_days is not None and day.weekday() not in wanted_days:
        return f"訪問希望の曜日（{days}）ではありません"
    windows: tuple[tuple[int, int], ...] = ()
    wanted = routing.parse_preferred_times(times)
    if wanted is not None:
        windows = routing.subtract_night(
            wanted, _seconds(policy.night_start), _seconds(policy.night_end)
        )
        if not windows:
            return (
                f"訪問希望の時間帯（{times}）が夜間のみです。夜間の実施には地域課長等の"
                "事前の承認が必要です"
            )
    return Stop(
        household.id,
        float(household.latitude),
        float(household.longitude),
        int(household.priority),
        windows,
        weight,
    )


def default_start(officer: Officer, households: list[Household]) -> tuple[Point, str]:
    """The officer's post (交番等) where its position is registered, else the households' post;
    failing both, the centroid of the officer's beats (or of the chosen households' beats)."""
    posts = [a.post for a in officer.current_assignments() if a.post is not None]
    posts += list(Post.objects.filter(id__in={h.post_id for h in households}).order_by("id"))
    for post in posts:
        if post.latitude is not None and post.longitude is not None:
            return Point(float(post.latitude), float(post.longitude)), post.name
    beats = own_beats(officer)
    if not beats.exists():
        beats = Beat.objects.filter(id__in={h.beat_id for h in households})
    centre = Household.objects.filter(
        beat__in=beats, latitude__isnull=False, longitude__isnull=False
    ).aggregate(lat=Avg("latitude"), lon=Avg("longitude"))
    if centre["lat"] is None or centre["lon"] is None:
        located = [h for h in households if h.latitude is not None and h.longitude is not None]
        if not located:
            return Point(0.0, 0.0), "（位置不明）"
        return (
            Point(
                sum(float(h.latitude or 0) for h in located) / len(located),
                sum(float(h.longitude or 0) for h in located) / len(located),
            ),
            "選んだ世帯の中心（交番等の位置は未登録）",
        )
    return Point(float(centre["lat"]), float(centre["lon"])), "受持区の中心（交番等の位置は未登録）"


def _start(
    officer: Officer, data: RouteInput, stops: list[Stop], households: list[Household]
) -> tuple[Point, str]:
    """The position given (checked against the stops), else the default start."""
    if data.start is None:
        return default_start(officer, households)
    _check_start(data.start, stops)
    return data.start, "指定の地点"


def _check_start(point: Point, stops: list[Stop]) -> None:
    if not stops:
        return
    lat = sum(s.lat for s in stops) / len(stops)
    lon = sum(s.lon for s in stops) / len(stops)
    far = routing.haversine_m(point, Point(lat, lon)) / 1000
    if far > MAX_START_KM:
        raise ValidationError(
            {
                "start": f"出発地点が世帯から{far:.0f}km離れています（{MAX_START_KM:g}km以内で"
                "指定してください。緯度と経度が逆になっていないか確かめてください）"
            }
        )


def plan_route(officer: Officer, data: RouteInput) -> Route:
    """Plan (nothing written but refusals: the caller, planning.actions.do_plan_route, keeps
    the route with its ROUTE_PLANNED event). 404 if any id is out of scope."""
    weights: dict[int, float] = {}
    if data.auto:
        households, weights, prefs = _auto_candidates(officer, data)
    else:
        # Not yet a read: the route names them by id (ROUTE_PLANNED); a page that shows them
        # records the read of those it shows.
        households = access_households(officer, data.household_ids, record_read=False)
        prefs = _preferences([h.id for h in households])
    policy = current_policy()
    stops: list[Stop] = []
    early_skips: dict[int, str] = {}
    for household in households:
        days, times = prefs.get(household.id, ("", ""))
        weight = weights.get(household.id, 1.0)
        built = _stop_or_reason(household, days, times, data.day, policy, weight)
        if isinstance(built, Stop):
            stops.append(built)
        else:
            early_skips[household.id] = built
    start, label = _start(officer, data, stops, households)
    start_s, end_s, notes = day_bounds(data)
    params = params_for(data.mode)
    plan = routing.solve(start, stops, day_start_s=start_s, day_end_s=end_s, params=params)
    route = _route(data, end_s, params, start, label, plan, households, early_skips, prefs, notes)
    if data.auto:
        # Left out of an automatic pick is not "skipped": it was never asked for.
        route.not_picked = max(0, len(households) - len(route.stops))
        route.skipped = []
    route.considered = households
    return route


def fixed_route(officer: Officer, data: RouteInput, skipped_ids: list[int] | None = None) -> Route:
    """A route in the order given (for the print): the times recomputed, nothing reordered."""
    order = list(dict.fromkeys(data.household_ids))
    left_out = [i for i in dict.fromkeys(skipped_ids or []) if i not in order]
    # The sheet lists what the route left out: no more than a route could hold (the page sends
    # what it showed; a longer list would print any number of the post's households).
    if len(left_out) > max_stops():
        raise ValidationError(
            {"skipped": f"経路に入らなかった世帯は{max_stops()}件までしか印刷できません"}
        )
    # The print records each household it puts on paper (PRINT_FORM), not a read.
    households = access_households(officer, order + left_out, record_read=False)
    prefs = _preferences([h.id for h in households])
    start_s, end_s, notes = day_bounds(data)
    params = params_for(data.mode)
    policy = current_policy()
    stops: list[Stop] = []
    early_skips: dict[int, str] = {}
    for position, household in enumerate(households):
        days, times = prefs.get(household.id, ("", ""))
        built = _stop_or_reason(household, days, times, data.day, policy)
        if not isinstance(built, Stop):
            early_skips[household.id] = built
        elif position < len(order):
            stops.append(built)
        elif built.windows and not routing.clip_windows(
            built.windows, start_s, end_s - params.service_s
        ):
            early_skips[household.id] = (
                f"訪問希望の時間帯（{times}）が今回の時間（{routing.hhmm(start_s)}〜"
                f"{routing.hhmm(end_s)}）にありません"
            )
        else:
            early_skips[household.id] = routing.REASON_DROPPED
    start, label = _start(officer, data, stops, households)
    plan = routing.schedule(start, stops, day_start_s=start_s, day_end_s=end_s, params=params)
    return _route(data, end_s, params, start, label, plan, households, early_skips, prefs, notes)


def _route(
    data: RouteInput,
    day_end: int,
    params: Params,
    start: Point,
    label: str,
    plan: Plan,
    households: list[Household],
    early_skips: dict[int, str],
    prefs: dict[int, tuple[str, str]],
    notes: list[str],
) -> Route:
    by_id = {h.id: h for h in households}
    route = Route(data.day, data.mode, params, start, label, plan, notes=notes, auto=data.auto)
    for number, visit in enumerate(plan.visits, start=1):
        days, times = prefs.get(visit.id, ("", ""))
        route.stops.append(RouteStop(number, by_id[visit.id], visit, preferred_text(days, times)))
    solver_skips = {}
    for skip in plan.skipped:
        solver_skips[skip.id] = skip.reason
        if skip.code == "WINDOW":
            times = prefs.get(skip.id, ("", ""))[1]
            solver_skips[skip.id] = (
                f"訪問希望の時間帯（{times}）が今回の時間（{routing.hhmm(plan.start_s)}〜"
                f"{routing.hhmm(day_end)}）にありません"
            )
    for household in households:
        reason = early_skips.get(household.id) or solver_skips.get(household.id)
        if reason:
            route.skipped.append(RouteSkip(household, reason))
    return route


def work_list(officer: Officer, day: dt.date) -> QuerySet[Household]:
    """The officer's work list (his own beats, due by the policy's horizon from `day`), the
    order the page offers and 「自動で選ぶ」 picks from."""
    horizon = day + dt.timedelta(days=current_policy().horizon_days)
    beats = own_beats(officer)
    return due_households(households_visible_to(officer).filter(beat__in=beats), horizon)


def _auto_candidates(
    officer: Officer, data: RouteInput
) -> tuple[list[Household], dict[int, float], dict[int, tuple[str, str]]]:
    """「自動で選ぶ」: the work list (HIGH first, then by due date), as many as could fit, with
    their weights and preferences.

    The solver gets about twice what the hours could hold, each weighted by its place in the
    work list, and keeps what fits: priority first, then the earlier due dates.
    """
    if not own_beats(officer).exists():
        raise ValidationError({"auto": "受持区の指定がないため、作業リストから選べません"})
    queue = work_list(officer, data.day).filter(
        Q(latitude__isnull=False) & Q(longitude__isnull=False)
    )
    params = params_for(data.mode)
    fits = math.ceil(data.hours * 3600 / (params.service_s + 120))
    limit = min(max_stops(), 2 * fits + 5)
    households = list(queue[: limit * 2])
    # The work list carries each household's preferences (its active card's, or "").
    prefs: dict[int, tuple[str, str]] = {
        h.id: (h.preferred_days, h.preferred_times)  # type: ignore[attr-defined]
        for h in households
    }
    policy = current_policy()
    picked = [
        h
        for h in households
        if isinstance(_stop_or_reason(h, *prefs[h.id], data.day, policy), Stop)
    ][:limit]
    if not picked:
        raise ValidationError({"auto": "作業リストに今日回れる世帯がありません"})
    weights = {h.id: 2.0 - rank / len(picked) for rank, h in enumerate(picked)}
    return picked, weights, prefs


def record_route_planned(officer: Officer, route: Route, *, purpose: str) -> None:
    """ROUTE_PLANNED: the households by id only (its stops in order, those left out)."""
    households = route.considered
    record(
        EventType.ROUTE_PLANNED,
        actor=officer,
        object_type="households.household",
        station_id=households[0].station_id if households else None,
        purpose=purpose,
        details={
            "household_ids": [h.id for h in households],
            "order": route.order,
            "skipped": [s.household.id for s in route.skipped],
            "auto": route.auto,
            "mode": route.mode,
        },
    )
