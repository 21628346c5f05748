"""Progress dashboards (第3-3): station → post → beat → the work list, HQ's side-by-side view of
the stations, and the monthly report. Figures come from junkai.dashboards.figures; who may see
which dashboard from junkai.access (each view recorded as READ_DASHBOARD)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import dashboard_posts, dashboard_stations, is_hq
from junkai.access.units import (
    access_dashboard_beat,
    access_dashboard_post,
    access_dashboard_station,
    access_hq_dashboard,
)
from junkai.dashboards import figures, pending
from junkai.dashboards.figures import Board, Tally
from junkai.dashboards.report import report_pdf, report_workbook
from junkai.households.models import Category
from junkai.households.schedule import current_policy
from junkai.lib.months import current_month, month_label, months_back, parse_month
from junkai.lib.replica import replica_reads
from junkai.org.models import Beat, Post, Station


@declare_access("signed_in")
@signed_in_view
@require_GET
def dashboard_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """進捗状況: each reader goes to his own level; others see where their figures are."""
    officer = request.user
    if is_hq(officer):
        return redirect("dashboard_hq")
    stations = list(dashboard_stations(officer))
    if len(stations) == 1:
        return redirect("dashboard_station", station_id=stations[0].id)
    posts = list(dashboard_posts(officer).select_related("station").order_by("code"))
    if not stations and len(posts) == 1:
        return redirect("dashboard_post", post_id=posts[0].id)
    return render(request, "dashboards/index.html", {"stations": stations, "posts": posts})


def _charts(total: Tally, trend: dict[str, Any]) -> dict[str, Any]:
    """The charts every board has: the trend and the households by category."""
    return {
        "trend": {k: trend[k] for k in ("labels", "coverage", "card_rate")},
        "categories": {
            "labels": [c.label for c in Category],
            "values": [total.by_category[c.value].households for c in Category],
        },
    }


def _chart_data(board: Board, trend: dict[str, Any]) -> dict[str, Any]:
    """What dashboard.js draws: no household is named, officers by name as on the page."""
    return {
        **_charts(board.total, trend),
        "officers": {
            "labels": [r.officer.full_name for r in board.officers],
            "met": [r.tally.met for r in board.officers],
            "absent": [r.tally.absent for r in board.officers],
            "refused": [r.tally.refused for r in board.officers],
            "expected": [round(r.tally.expected, 1) for r in board.officers],
        },
    }


def _categories(tally: Tally) -> list[dict[str, Any]]:
    return [
        {"value": c.value, "label": c.label, "figures": tally.by_category[c.value]}
        for c in Category
    ]


def _render_board(
    request: AuthenticatedHttpRequest,
    board: Board,
    *,
    level: str,
    unit: Station | Post | Beat,
    trend: dict[str, Any],
) -> HttpResponse:
    station = board.station
    months = months_back(timezone.localdate(), 12)
    todo_counts = pending.counts(request.user)
    return render(
        request,
        "dashboards/board.html",
        {
            "board": board,
            "level": level,
            "unit": unit,
            "station": station,
            "categories": _categories(board.total),
            "chart_data": _chart_data(board, trend),
            "trend": trend,
            "month_label": month_label(board.month),
            "report_months": [(m.strftime("%Y-%m"), month_label(m)) for m in months],
            "may_report": level == "station"
            or dashboard_stations(request.user).filter(id=station.id).exists(),
            "inspection_due_days": figures.INSPECTION_DUE_DAYS,
            "policy": current_policy(),
            "todo_counts": todo_counts,
            "todo_total": sum(n for _, n in todo_counts),
            "age_minutes": int((timezone.now() - board.computed_at).total_seconds() // 60),
            "cache_seconds": figures.station_cache_seconds(),
        },
    )


@declare_access("dashboard")
@signed_in_view
@require_GET
def station_dashboard(request: AuthenticatedHttpRequest, station_id: int) -> HttpResponse:
    station = access_dashboard_station(request.user, station_id)
    board = figures.board_cached(station)
    trend = figures.trend(station_ids=[station.id], live=board.total)
    return _render_board(request, board, level="station", unit=station, trend=trend)


@declare_access("dashboard")
@signed_in_view
@require_GET
def post_dashboard(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    post = access_dashboard_post(request.user, post_id)
    board = figures.board_cached(post.station, posts=[post])
    trend = figures.trend(post_ids=[post.id], live=board.total)
    return _render_board(request, board, level="post", unit=post, trend=trend)


@declare_access("dashboard")
@signed_in_view
@require_GET
def beat_dashboard(request: AuthenticatedHttpRequest, beat_id: int) -> HttpResponse:
    beat = access_dashboard_beat(request.user, beat_id)
    board = figures.board_cached(beat.post.station, beat=beat)
    trend = figures.trend(beat_id=beat.id, live=board.total)
    return _render_board(request, board, level="beat", unit=beat, trend=trend)


@declare_access("dashboard")
@signed_in_view
@require_GET
def hq_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """本部地域課: every station side by side, in aggregate only."""
    access_hq_dashboard(request.user)
    hq = figures.hq_board_cached()
    rows, total = hq.rows, hq.total
    trend = figures.trend(live=total)
    chart = {
        **_charts(total, trend),
        "stations": {
            "labels": [r.station.name for r in rows],
            "coverage": [_pct(r.tally.coverage) for r in rows],
            "card_rate": [_pct(r.tally.card_rate) for r in rows],
        },
    }
    return render(
        request,
        "dashboards/hq.html",
        {
            "rows": rows,
            "total": total,
            "trend": trend,
            "chart_data": chart,
            "categories": _categories(total),
            "month_label": month_label(timezone.localdate()),
            "computed_at": hq.computed_at,
            "cache_seconds": figures.hq_cache_seconds(),
        },
    )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _report_month(request: AuthenticatedHttpRequest) -> dt.date | None:
    text = request.GET.get("month", "")
    if not text:
        return current_month()
    try:
        month = parse_month(text)
    except ValueError as exc:
        messages.error(request, f"月次報告: {exc}")
        return None
    if month > timezone.localdate():
        messages.error(request, "月次報告: 対象月に未来の月は指定できません")
        return None
    return month


@declare_access("dashboard")
@signed_in_view
@require_GET
def monthly_report(request: AuthenticatedHttpRequest, station_id: int, fmt: str) -> HttpResponse:
    """月次報告 (Excel or PDF) of a station: the dashboard's figures for a month."""
    if fmt not in ("xlsx", "pdf"):
        raise Http404("見つかりません")
    station = access_dashboard_station(request.user, station_id, record_read=False)
    month = _report_month(request)
    if month is None:
        return redirect(reverse("dashboard_station", args=[station.id]))
    with replica_reads():  # a month of a station's figures; the export's event goes to the primary
        if fmt == "xlsx":
            data = report_workbook(request.user, station, month)
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            data = report_pdf(request.user, station, month)
            content_type = "application/pdf"
    response = HttpResponse(data, content_type=content_type)
    name = f"monthly-report-{station.code}-{month:%Y-%m}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
