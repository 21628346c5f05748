"""Route planning (巡回経路) over the API: the same planner as the page.

Households must all be in the caller's scope (404 alike for absent and out of scope, for any
id). The answer names households by id only (addresses are personal data: the caller reads
them through the households API, which records the read). The plan is recorded as
ROUTE_PLANNED with the household ids.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from junkai.access.declare import declare_access
from junkai.api.auth import request_officer
from junkai.api.boundary import MAX_ITEMS, Date, Id, In, Text, one_of
from junkai.planning import routing
from junkai.planning.actions import do_plan_route
from junkai.planning.routing_plan import MAX_HOURS, MIN_HOURS, MODES, Route, clean_input, speed_kmh

router = Router(tags=["routes"])


# The ranges below are stated in the document and checked by planning's clean_input, which
# names what is wrong in the officer's words (「緯度は-90〜90」「0.5〜12時間」), not pydantic's.
class StartIn(In):
    lat: float = Field(json_schema_extra={"minimum": -90, "maximum": 90}, description="緯度")
    lon: float = Field(json_schema_extra={"minimum": -180, "maximum": 180}, description="経度")


class RouteIn(In):
    household_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="経路に入れる世帯のID（100件まで。auto のときは不要）",
    )
    start: StartIn | None = Field(
        None, description="出発・帰着地点（省略時は交番等。位置が未登録なら受持区の世帯の中心）"
    )
    start_time: str | None = Field(
        None,
        json_schema_extra={"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "maxLength": 5},
        description="開始時刻 HH:MM（省略時は現在時刻）",
    )
    hours: float | None = Field(
        None,
        json_schema_extra={"minimum": MIN_HOURS, "maximum": MAX_HOURS},
        description="使える時間（0.5〜12時間、既定4）",
    )
    mode: Text | None = Field(
        None, json_schema_extra=one_of(MODES), description="walk（徒歩）または drive（車両）"
    )
    date: Date | None = Field(None, description="実施日（訪問希望の曜日の判定、既定は今日）")
    auto: bool = Field(False, description="作業リストから優先度順に時間内に回れるだけ選ぶ")


class PointOut(Schema):
    lat: float
    lon: float
    label: str


class StopOut(Schema):
    household_id: int
    arrival: str = Field(description="到着予定 HH:MM")
    start: str = Field(description="訪問開始 HH:MM（訪問希望の時間帯まで待つときは到着より後）")
    departure: str = Field(description="出発予定 HH:MM")
    leg_distance_m: int = Field(description="前の地点からの距離（推定）")
    leg_duration_s: int = Field(description="前の地点からの移動時間（推定）")
    wait_s: int
    lat: float
    lon: float


class LegOut(Schema):
    distance_m: int
    duration_s: int


class SkipOut(Schema):
    household_id: int
    reason: str


class RouteOut(Schema):
    order: list[int] = Field(description="訪問順の世帯ID")
    distance_m: int = Field(description="総距離（直線距離×迂回係数、帰着まで）")
    duration_s: int = Field(description="開始から帰着までの所要時間（訪問時間・待ち時間を含む）")
    start: PointOut
    start_time: str
    end_time: str
    stops: list[StopOut]
    return_leg: LegOut
    skipped: list[SkipOut] = Field(description="経路に入らなかった世帯と理由")
    not_picked: int = Field(description="auto のとき時間内に入らなかった作業リストの世帯数")
    mode: str
    speed_kmh: float
    detour_factor: float
    service_min: int
    notes: list[str]


def route_out(route: Route) -> RouteOut:
    plan = route.plan
    return RouteOut(
        order=route.order,
        distance_m=plan.distance_m,
        duration_s=plan.duration_s,
        start=PointOut(lat=route.start.lat, lon=route.start.lon, label=route.start_label),
        start_time=route.start_time,
        end_time=route.end_time,
        stops=[
            StopOut(
                household_id=s.household.id,
                arrival=routing.hhmm(s.visit.arrival_s),
                start=routing.hhmm(s.visit.start_s),
                departure=routing.hhmm(s.visit.departure_s),
                leg_distance_m=s.visit.leg_m,
                leg_duration_s=s.visit.leg_s,
                wait_s=s.visit.wait_s,
                lat=float(s.household.latitude or 0),
                lon=float(s.household.longitude or 0),
            )
            for s in route.stops
        ],
        return_leg=LegOut(distance_m=plan.return_m, duration_s=plan.return_s),
        skipped=[SkipOut(household_id=s.household.id, reason=s.reason) for s in route.skipped],
        not_picked=route.not_picked,
        mode=route.mode,
        speed_kmh=speed_kmh(route.mode),
        detour_factor=route.params.detour,
        service_min=route.params.service_s // 60,
        notes=route.notes,
    )


@router.post("/routes", response=RouteOut)
@declare_access("scoped")
def create_route(request: HttpRequest, payload: RouteIn) -> RouteOut:
    """巡回経路: the order to visit the households from the post and back, with times.

    422 names the field: no households, more than 100, a start time at night, a bad start.
    """
    officer = request_officer(request)
    data = clean_input(
        household_ids=payload.household_ids,
        start=(payload.start.lat, payload.start.lon) if payload.start else None,
        start_time=payload.start_time,
        hours=payload.hours,
        mode=payload.mode,
        day=payload.date,
        auto=payload.auto,
    )
    route, _kept = do_plan_route(officer, data)  # kept as the officer's route of that day
    return route_out(route)
