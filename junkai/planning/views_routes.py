"""巡回経路 pages: choose households from the work list (or let Junkai choose), see the ordered
stops with times on a map, print the route sheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import posts_writable_by
from junkai.documents.printing import record_household_prints
from junkai.households.access import access_households, record_list_read
from junkai.households.models import Household
from junkai.households.schedule import current_policy
from junkai.lib.returns import NEXT_PARAM, household_id, list_path, record_url
from junkai.org.models import today
from junkai.planning import actions, maps, routing
from junkai.planning.models import KeptRoute
from junkai.planning.routing_plan import (
    MODES,
    Route,
    RouteInput,
    clean_input,
    default_start_time,
    fixed_route,
    max_stops,
    speed_kmh,
    work_list,
)
from junkai.planning.routing_sheet import route_sheet_pdf
from junkai.visits.models import Visit


def done_households(household_ids: list[int], day: dt.date) -> set[int]:
    """Households among these with a visit recorded on `day` (local): the stops done."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return set(
        Visit.objects.filter(
            household_id__in=household_ids,
            started_at__gte=start,
            started_at__lt=start + dt.timedelta(days=1),
        ).values_list("household_id", flat=True)
    )


HOUR_CHOICES = ("0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "5", "6", "7", "8")

FORM_FIELDS = {
    "household_ids": "household",
    "start_time": "start_time",
    "hours": "hours",
    "mode": "mode",
    "start": "start_lat",
    "auto": "auto",
}


def _id(value: str) -> int | None:
    """An id as sent by the page: ASCII digits that fit a database integer, else None.

    (str.isdigit admits "²", which int() refuses, and int() admits digits past any id.)"""
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _ids(values: list[str]) -> list[int]:
    return [i for i in map(_id, values) if i is not None]


def _id_list(text: str, field: str) -> list[int]:
    """Comma-separated ids (the sheet's order and left-out lists); any bad one is a 422."""
    tokens = [t for t in text.split(",") if t.strip()]
    ids = _ids(tokens)
    if len(ids) != len(tokens):
        raise ValidationError({field: "世帯の指定が正しくありません"})
    return ids


def _float(value: str | None) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except ValueError:
        return float("nan")


def _input(data: QueryDict, *, auto: bool, household_ids: list[int] | None = None) -> RouteInput:
    bad_ids = [v for v in data.getlist("household") if _id(v) is None]
    if bad_ids:
        raise ValidationError({"household_ids": "世帯の指定が正しくありません"})
    return clean_input(
        household_ids=household_ids
        if household_ids is not None
        else _ids(data.getlist("household")),
        start=(_float(data.get("start_lat")), _float(data.get("start_lon"))),
        start_time=data.get("start_time"),
        hours=data.get("hours"),
        mode=data.get("mode"),
        auto=auto,
    )


def _worklist(request: AuthenticatedHttpRequest) -> list[Household]:
    officer = request.user
    rows = list(work_list(officer, today())[:200])
    record_list_read(officer, beat=None, count=len(rows), purpose="巡回経路の作成")
    return rows


def _form_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    post = request.POST if request.method == "POST" else QueryDict()
    return {
        "rows": _worklist(request),
        "chosen": set(_ids(post.getlist("household"))),
        "start_time": post.get("start_time") or f"{default_start_time():%H:%M}",
        "hours": post.get("hours") or "4",
        "mode": post.get("mode") or settings.JUNKAI_ROUTE_MODE,
        "start_lat": post.get("start_lat", ""),
        "start_lon": post.get("start_lon", ""),
        "modes": [(k, v, speed_kmh(k)) for k, v in MODES.items()],
        "max_stops": max_stops(),
        "hour_choices": HOUR_CHOICES,
        "policy": current_policy(),
        "service_min": settings.JUNKAI_ROUTE_SERVICE_MINUTES,
        "detour": settings.JUNKAI_ROUTE_DETOUR,
    }


@declare_access("scoped")
@signed_in_view
def route_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the form over the work list. POST: plan, and show the route (or the errors)."""
    if request.method == "POST":
        auto = request.POST.get("auto") == "1"
        try:
            data = _input(request.POST, auto=auto)
            route, kept = actions.do_plan_route(request.user, data)
        except ValidationError as error:
            context = _form_context(request)
            context["errors"] = {
                FORM_FIELDS.get(k, k): " ".join(v) for k, v in error.message_dict.items()
            }
            return render(request, "planning/route_form.html", context, status=422)
        # The page shows each household's address, name and preferred times (card contents):
        # a read of each, on each household's own 閲覧記録 (ROUTE_PLANNED names them only by id
        # in its details, which the access log does not search).
        access_households(request.user, [h.id for h in route.households], purpose="巡回経路の作成")
        return _render_route(request, route, data, kept)
    return render(request, "planning/route_form.html", _form_context(request))


@declare_access("scoped")
@signed_in_view
def route_today(request: AuthenticatedHttpRequest) -> HttpResponse:
    """今日の経路: the officer's own route kept for today (or the next day he planned), each
    stop ticked once a visit to it is recorded that day, each with its 記録 button."""
    officer = request.user
    kept = (
        KeptRoute.objects.filter(officer=officer, day__gte=today())
        .order_by("day", "-created_at")
        .first()
    )
    if kept is None:
        return render(request, "planning/route_kept.html", {"kept": None})
    stops = list(kept.stops.select_related("household", "household__building"))
    ids = [s.household_id for s in stops]
    done = done_households(ids, kept.day)
    back = list_path(request)
    marked = household_id(request.GET.get(NEXT_PARAM))
    visit_base = reverse("visit_new", args=[0])
    writable = set(posts_writable_by(officer).values_list("id", flat=True))
    rows = []
    for index, stop in enumerate(stops):
        # 次の世帯: the next stop of the route not yet done.
        after = next(
            (s.household_id for s in stops[index + 1 :] if s.household_id not in done), None
        )
        rows.append(
            {
                "stop": stop,
                "done": stop.household_id in done,
                "is_next": stop.household_id == marked,
                "record_url": record_url(
                    visit_base.replace("/0/", f"/{stop.household_id}/", 1), back=back, then=after
                )
                if stop.household.post_id in writable
                else "",
            }
        )
    # The page shows each stop's address, name and preferred times: one list read, its rows
    # named (a route is work, like the work list it was made from).
    record_list_read(officer, beat=None, count=len(ids), purpose="巡回経路", household_ids=ids)
    tiles = maps.tiles()
    return render(
        request,
        "planning/route_kept.html",
        {
            "kept": kept,
            "rows": rows,
            "done_count": len(done),
            "distance_km": kept.distance_m / 1000,
            "duration": "{}時間{:02d}分".format(*divmod(kept.duration_s // 60, 60)),
            "mode_label": MODES.get(kept.mode, kept.mode),
            "map_data": {
                "tiles": tiles["url"] or "",
                "attribution": tiles["attribution"] or "",
                "start": [kept.start_lat, kept.start_lon],
                "startLabel": kept.start_label,
                "stops": [
                    {
                        "n": s.number,
                        "lat": float(s.household.latitude or 0),
                        "lon": float(s.household.longitude or 0),
                        "label": f"{s.number}. {s.start} {s.household.address}",
                        "done": s.household_id in done,
                    }
                    for s in stops
                ],
            },
        },
    )


def map_data(route: Route) -> dict[str, Any]:
    tiles = maps.tiles()
    return {
        "tiles": tiles["url"] or "",
        "attribution": tiles["attribution"] or "",
        "start": [route.start.lat, route.start.lon],
        "startLabel": route.start_label,
        "stops": [
            {
                "n": s.number,
                "lat": float(s.household.latitude or 0),
                "lon": float(s.household.longitude or 0),
                "label": f"{s.number}. {routing.hhmm(s.visit.start_s)} {s.household.address}",
            }
            for s in route.stops
        ],
    }


def _render_route(
    request: AuthenticatedHttpRequest, route: Route, data: RouteInput, kept: KeptRoute
) -> HttpResponse:
    writable = set(posts_writable_by(request.user).values_list("id", flat=True))
    return render(
        request,
        "planning/route.html",
        {
            "route": route,
            "kept": kept,
            "is_today": kept.day == today(),
            "data": data,
            "map_data": map_data(route),
            "distance_km": route.plan.distance_m / 1000,
            "duration": "{}時間{:02d}分".format(*divmod(route.plan.duration_s // 60, 60)),
            "speed": speed_kmh(route.mode),
            "stops": [
                {
                    "number": s.number,
                    "household": s.household,
                    "arrival": routing.hhmm(s.visit.arrival_s),
                    "start": routing.hhmm(s.visit.start_s),
                    "wait_min": s.visit.wait_s // 60,
                    "leg_m": s.visit.leg_m,
                    "leg_min": (s.visit.leg_s + 59) // 60,
                    "preferred": s.preferred,
                    # The route is kept: a visit recorded from here returns to 今日の経路.
                    "record_url": record_url(
                        reverse("visit_new", args=[s.household.id]),
                        back=reverse("route_today"),
                        then=route.stops[i + 1].household.id if i + 1 < len(route.stops) else None,
                    )
                    if kept.day == today() and s.household.post_id in writable
                    else "",
                }
                for i, s in enumerate(route.stops)
            ],
            "order_ids": ",".join(str(i) for i in route.order),
            "skipped_ids": ",".join(str(s.household.id) for s in route.skipped),
        },
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def route_sheet(request: AuthenticatedHttpRequest) -> HttpResponse:
    """巡回経路表 (PDF) of a route as planned: the order kept, the times recomputed.

    Every household on it is recorded as printed (PRINT_FORM, form 巡回経路表).
    """
    officer = request.user
    try:
        order = _id_list(request.POST.get("order", ""), "household_ids")
        skipped = _id_list(request.POST.get("skipped", ""), "skipped")
        if not order:
            raise ValidationError({"household_ids": "経路に世帯がありません"})
        data = _input(request.POST, auto=False, household_ids=order)
        route = fixed_route(officer, data, skipped)
    except ValidationError as error:
        return HttpResponse(
            "　".join(" ".join(v) for v in error.message_dict.values()),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    pdf = route_sheet_pdf(route, officer)
    with transaction.atomic():
        record_household_prints(officer, route.households, "巡回経路表")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="route-{route.day:%Y%m%d}.pdf"'
    # Addresses and names on paper are in custody (第5); a copy in a browser or proxy cache is not.
    response["Cache-Control"] = "private, no-store"
    return response
