"""進捗状況 over the API: a station's figures for its chief, 地域課長 and 地域課長代理, and every
station side by side (aggregate only) for 本部地域課. The same figures as the pages
(junkai.dashboards.figures, where each is defined); every read recorded as READ_DASHBOARD.

Ratios (coverage, card_rate) are fractions 0–1, null when there is no household.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from junkai.access.declare import declare_access
from junkai.access.units import access_dashboard_station, access_hq_dashboard
from junkai.api.auth import request_officer
from junkai.api.boundary import Id
from junkai.api.schemas import Message
from junkai.dashboards import figures
from junkai.dashboards.figures import RegisterFigures, Tally
from junkai.households.models import Category
from junkai.lib.months import current_month
from junkai.org.models import Officer

router = Router(tags=["dashboards"])


class DashboardParams(Schema):
    station: Id | None = Field(None, description="警察署ID（省略時は本部地域課の全署集計）")


class Figures(Schema):
    households: int = Field(description="居住・営業中の世帯数")
    covered: int = Field(description="最後の面接が区分の実施間隔内の世帯")
    coverage: float | None = Field(description="実施率 = covered ÷ households")
    card_rate: float | None = Field(description="把握率 = カードのある世帯 ÷ households")
    overdue: int = Field(description="次回予定日が本日より前の世帯")
    unknown: int = Field(description="未把握世帯（カードなし）")
    visits: int = Field(description="今月の実施件数")
    met: int
    absent: int
    refused: int
    new_cards: int
    corrections: int
    concerns_resolved: int
    open_concerns: int
    oldest_open_concern_days: int | None
    expected_per_month: float = Field(description="Σ 1 ÷ 実施間隔（月）")
    visit_index: float | None = Field(description="実施件数 ÷ expected_per_month")
    met_index: float | None


class CategoryOut(Schema):
    category: str
    label: str
    households: int
    covered: int
    coverage: float | None
    overdue: int


class BeatOut(Figures):
    id: int
    name: str
    post_id: int


class RegistersOut(Schema):
    binders_out: int = Field(description="持出中の簿冊")
    overdue_returns: int = Field(description="返却期限を過ぎた持出し")
    unsigned_months: int = Field(description="管理責任者の月次確認が済んでいない月")
    pending_approvals: int = Field(description="承認待ちの夜間実施と未確認の拒否の報告")
    open_inspections: int


class PostOut(Figures):
    id: int
    name: str
    kind: str
    registers: RegistersOut
    last_inspected: dt.date | None
    inspection_due: bool


class OfficerOut(Schema):
    id: int
    name: str
    post_id: int | None
    beat_ids: list[int]
    coverage: float | None
    visits: int
    met: int
    new_cards: int
    corrections: int
    concerns_resolved: int
    expected_per_month: float
    visit_index: float | None
    met_index: float | None
    plan_target: int | None
    open_concerns: int


class StationRef(Schema):
    id: int
    name: str


class TrendOut(Schema):
    labels: list[str]
    coverage: list[float | None] = Field(description="百分率（各月末の集計と現在値）")
    card_rate: list[float | None]


class StationDashboardOut(Figures):
    station: StationRef
    month: dt.date
    computed_at: dt.datetime
    categories: list[CategoryOut]
    registers: RegistersOut
    inspections_due: int
    posts: list[PostOut]
    beats: list[BeatOut]
    officers: list[OfficerOut]
    trend: TrendOut


class HqStationOut(Figures):
    id: int
    name: str
    registers: RegistersOut


class HqDashboardOut(Schema):
    month: dt.date
    computed_at: dt.datetime = Field(description="集計時刻（全署の集計は最長1分ごと）")
    total: Figures
    categories: list[CategoryOut]
    stations: list[HqStationOut]
    trend: TrendOut


def _figures(t: Tally) -> dict[str, Any]:
    return {
        "households": t.households,
        "covered": t.covered,
        "coverage": t.coverage,
        "card_rate": t.card_rate,
        "overdue": t.overdue,
        "unknown": t.unknown,
        "visits": t.visits,
        "met": t.met,
        "absent": t.absent,
        "refused": t.refused,
        "new_cards": t.new_cards,
        "corrections": t.corrections,
        "concerns_resolved": t.concerns_resolved,
        "open_concerns": t.open_concerns,
        "oldest_open_concern_days": t.oldest_concern_days,
        "expected_per_month": round(t.expected, 2),
        "visit_index": t.visit_index,
        "met_index": t.met_index,
    }


def _registers(r: RegisterFigures) -> dict[str, int]:
    return {
        "binders_out": r.binders_out,
        "overdue_returns": r.overdue_returns,
        "unsigned_months": r.unsigned_months,
        "pending_approvals": r.pending_approvals,
        "open_inspections": r.open_inspections,
    }


def _categories(t: Tally) -> list[dict[str, Any]]:
    return [
        {
            "category": c.value,
            "label": c.label,
            "households": t.by_category[c.value].households,
            "covered": t.by_category[c.value].covered,
            "coverage": t.by_category[c.value].coverage,
            "overdue": t.by_category[c.value].overdue,
        }
        for c in Category
    ]


def _trend(trend: dict[str, Any]) -> dict[str, Any]:
    return {k: trend[k] for k in ("labels", "coverage", "card_rate")}


def station_payload(officer: Officer, station_id: int) -> dict[str, Any]:
    station = access_dashboard_station(officer, station_id, purpose="進捗状況の閲覧（API）")
    board = figures.board_cached(station)
    trend = figures.trend(station_ids=[station.id], live=board.total)
    return {
        **_figures(board.total),
        "station": {"id": station.id, "name": station.name},
        "month": board.month,
        "computed_at": board.computed_at,
        "categories": _categories(board.total),
        "registers": _registers(board.registers),
        "inspections_due": board.inspections_due,
        "posts": [
            {
                **_figures(t),
                "id": p.id,
                "name": p.name,
                "kind": p.kind,
                "registers": _registers(r),
                "last_inspected": r.last_inspected,
                "inspection_due": r.inspection_due,
            }
            for p, t, r in board.posts
        ],
        "beats": [
            {**_figures(t), "id": b.id, "name": b.name, "post_id": b.post_id}
            for b, t in board.beats
        ],
        "officers": [
            {
                "id": r.officer.id,
                "name": r.officer.full_name,
                "post_id": r.post.id if r.post else None,
                "beat_ids": [b.id for b in r.beats],
                "coverage": r.tally.coverage if r.beats else None,
                "visits": r.tally.visits,
                "met": r.tally.met,
                "new_cards": r.tally.new_cards,
                "corrections": r.tally.corrections,
                "concerns_resolved": r.tally.concerns_resolved,
                "expected_per_month": round(r.tally.expected, 2),
                "visit_index": r.tally.visit_index,
                "met_index": r.tally.met_index,
                "plan_target": r.target,
                "open_concerns": r.tally.open_concerns,
            }
            for r in board.officers
        ],
        "trend": _trend(trend),
    }


def hq_payload(officer: Officer) -> dict[str, Any]:
    access_hq_dashboard(
        officer,
        purpose="全署の進捗状況（API）",
        refusal="全署の集計は本部地域課が閲覧できます。署の進捗状況は station を指定してください",
    )
    hq = figures.hq_board_cached()
    rows, total = hq.rows, hq.total
    return {
        "month": current_month(),
        "computed_at": hq.computed_at,
        "total": _figures(total),
        "categories": _categories(total),
        "stations": [
            {
                **_figures(r.tally),
                "id": r.station.id,
                "name": r.station.name,
                "registers": _registers(r.registers),
            }
            for r in rows
        ],
        "trend": _trend(figures.trend(live=total)),
    }


@router.get(
    "/dashboard",
    response={200: StationDashboardOut | HqDashboardOut, 403: Message, 404: Message},
)
@declare_access("dashboard")
def dashboard(request: HttpRequest, params: Query[DashboardParams]) -> dict[str, Any]:
    """`?station={id}`: the station's figures, per post, beat and officer (its chief,
    地域課長 and 地域課長代理; 403 for others who serve there, 404 for anyone else). Without
    `station`: every station side by side, in aggregate only (本部地域課; 403 for others)."""
    officer = request_officer(request)
    if params.station is None:
        return hq_payload(officer)
    return station_payload(officer, params.station)
