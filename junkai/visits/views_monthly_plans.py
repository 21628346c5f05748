"""Planning pages: the schedule policy (別表), the officer's monthly plan against actual, the
manager's 専従日 (第3-2), the handover of a beat to a 新任受持警察官 (第4-6) and the follow-up of
困りごと・意見・要望. Reads of personal data go through junkai.access; every change through
junkai.visits.actions."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.records import record_read
from junkai.access.roles import can_write_post, is_hq, managed_posts, own_beats
from junkai.access.units import access_beat, access_managed_officer
from junkai.audit.models import EventType
from junkai.households.access import households_visible_to, record_list_read
from junkai.households.models import Category, Household, HouseholdStatus, Outcome, SchedulePolicy
from junkai.households.schedule import current_policy
from junkai.lib.dates import DateFormatError, parse_date, start_of_day
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors
from junkai.lib.months import month_bounds, month_label, next_month
from junkai.lib.wareki import format_wareki
from junkai.org.models import Assignment, Officer, today
from junkai.visits import actions
from junkai.visits.access import access_concern
from junkai.visits.forms_monthly_plans import (
    ConcernForm,
    DedicatedDayForm,
    HandoverNoteForm,
    PlanForm,
    PolicyForm,
)
from junkai.visits.handover import handover_context
from junkai.visits.models import (
    Concern,
    ConcernStatus,
    DedicatedDay,
    MonthlyPlan,
    Visit,
)

#: How many households a handover list shows before pointing to the beat's full list.


# --- 1. the schedule policy -----------------------------------------------------------------


def _policy_initial(policy: SchedulePolicy) -> dict[str, Any]:
    return {field: getattr(policy, field) for field in actions.POLICY_FIELDS}


@declare_access("signed_in")
@signed_in_view
@require_http_methods(["GET", "POST"])
def schedule_policy(request: AuthenticatedHttpRequest) -> HttpResponse:
    """別表 intervals: everyone reads them; only 本部地域課 changes them."""
    officer = request.user
    policy = current_policy()
    may_edit = is_hq(officer)
    form = None
    if may_edit:
        form = PolicyForm(
            request.POST if request.method == "POST" else None, initial=_policy_initial(policy)
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDeniedError("実施頻度の基準は本部地域課が変更します")
        if form.is_valid():
            try:
                actions.do_set_policy(acting_officer=officer, **form.cleaned_data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request,
                    "実施頻度の基準を変更しました。各世帯の次回予定日は新しい基準で計算し直しました。",
                )
                return redirect("schedule_policy")
    intervals = [
        (Category.UNKNOWN.label, policy.unknown_months, "unknown_months", Category.UNKNOWN),
        (Category.ELDERLY.label, policy.elderly_months, "elderly_months", Category.ELDERLY),
        (Category.HOME.label, policy.home_months, "home_months", Category.HOME),
        (Category.BUSINESS.label, policy.business_months, "business_months", Category.BUSINESS),
        ("自治委員・区長・班長・組長", policy.leader_months, "leader_months", ""),
    ]
    return render(
        request,
        "visits/monthly_plans/policy.html",
        {
            "policy": policy,
            "intervals": intervals,
            "saved": policy.pk is not None,
            "form": form,
        },
        status=422 if request.method == "POST" else 200,
    )


# --- 2. the officer's monthly plan against actual ------------------------------------------


def _month_span(year: int, month: int) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    """First and last day of the month, and its bounds as aware datetimes in Asia/Tokyo."""
    if not 2000 <= year <= 2100 or not 1 <= month <= 12:
        raise Http404("見つかりません")
    first = dt.date(year, month, 1)
    start, end = month_bounds(first)
    return first, next_month(first) - dt.timedelta(days=1), start, end


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET"])
def monthly_plan_current(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = today()
    return _plan_page(request, now.year, now.month)


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def monthly_plan(request: AuthenticatedHttpRequest, year: int, month: int) -> HttpResponse:
    return _plan_page(request, year, month)


def _plan_page(request: AuthenticatedHttpRequest, year: int, month: int) -> HttpResponse:
    """The officer's own plan for a month and what he actually did (計画的に実施)."""
    officer = request.user
    first, last, start, end = _month_span(year, month)
    plan = MonthlyPlan.objects.filter(officer=officer, month=first).first()
    beats = list(own_beats(officer).select_related("post"))
    visible = households_visible_to(officer).select_related("building", "beat")
    # His own beats' households due by the month's end (overdue ones are due this month too).
    due = list(
        visible.filter(beat__in=beats, status=HouseholdStatus.ACTIVE, next_due__lte=last).order_by(
            "priority", "next_due", "id"
        )
    )
    planned_ids: set[int] = set(plan.households.values_list("id", flat=True)) if plan else set()
    due_ids = {h.id for h in due}
    # Planned households no longer due (met since) stay on the list, still ticked.
    extra = list(visible.filter(id__in=planned_ids - due_ids).order_by("next_due", "id"))
    choices = due + extra
    # A list of households (addresses, names) is a read of personal data: one event.
    record_list_read(
        officer,
        beat=beats[0] if len(beats) == 1 else None,
        count=len(choices),
        purpose="月間計画",
        household_ids=[h.id for h in choices],
    )

    if request.method == "POST":
        form = PlanForm(request.POST, households=choices)
        if form.is_valid():
            selected = set(form.cleaned_data["households"])
            try:
                actions.do_save_monthly_plan(
                    acting_officer=officer,
                    month=first,
                    areas=form.cleaned_data["areas"],
                    target_visits=form.cleaned_data["target_visits"],
                    households=[h for h in choices if h.id in selected],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"{month_label(first)}の計画を保存しました。")
                return redirect("monthly_plan", year=first.year, month=first.month)
        checked = {int(v) for v in request.POST.getlist("households") if v.isdigit()}
    else:
        form = PlanForm(
            initial={
                "areas": plan.areas if plan else "",
                "target_visits": plan.target_visits if plan else 0,
                "households": sorted(planned_ids),
            },
            households=choices,
        )
        checked = planned_ids

    # Grouped by beat, town and 組・班 (a beat's due list runs to hundreds), each group folded.
    groups: dict[tuple[str, str, str], list[Household]] = {}
    for h in sorted(choices, key=lambda h: (h.beat.code, h.town, _natural(h.block_group))):
        groups.setdefault((h.beat.name, h.town, h.block_group), []).append(h)
    group_rows = [
        {
            "beat": beat_name,
            "town": town,
            "block_group": block_group,
            "households": members,
            "checked": sum(1 for h in members if h.id in checked),
            "overdue": sum(1 for h in members if h.next_due and h.next_due < today()),
        }
        for (beat_name, town, block_group), members in groups.items()
    ]
    actual = _actual(officer, start, end)
    planned_rows = _planned_progress(
        officer, [h for h in choices if h.id in planned_ids], start, end
    )
    days = list(DedicatedDay.objects.filter(officer=officer, day__range=(first, last)))
    per_day = actual["per_day"]
    dedicated = [{"day": d.day, "visits": per_day.get(d.day, 0)} for d in days]
    previous = first - dt.timedelta(days=1)
    return render(
        request,
        "visits/monthly_plans/plan.html",
        {
            "form": form,
            "plan": plan,
            "first": first,
            "month_label": month_label(first),
            "previous": previous,
            "following": last + dt.timedelta(days=1),
            "is_current": first == today().replace(day=1),
            "today_date": today(),
            "beats": beats,
            "choices": choices,
            "groups": group_rows,
            "due_ids": due_ids,
            "checked": checked,
            "actual": actual,
            "planned_rows": planned_rows,
            "planned_done": sum(1 for r in planned_rows if r["visited"]),
            "dedicated": dedicated,
            "dedicated_visits": sum(d["visits"] for d in dedicated),
            "target_rate": (
                round(100 * actual["total"] / plan.target_visits)
                if plan and plan.target_visits
                else None
            ),
        },
        status=422 if request.method == "POST" else 200,
    )


def _natural(text: str) -> list[tuple[int, str]]:
    """「2組」 before 「10組」."""
    return [(int(part), "") if part.isdigit() else (0, part) for part in re.split(r"(\d+)", text)]


def _actual(officer: Officer, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Counts of the visits the officer recorded in the period: no household is named."""
    visits = Visit.objects.filter(officer=officer, started_at__gte=start, started_at__lt=end)
    totals = visits.aggregate(
        total=Count("id"),
        met=Count("id", filter=Q(outcome=Outcome.MET)),
        absent=Count("id", filter=Q(outcome=Outcome.ABSENT)),
        refused=Count("id", filter=Q(outcome=Outcome.REFUSED)),
    )
    by_category = {
        row["household__category"]: row
        for row in visits.order_by()
        .values("household__category")
        .annotate(n=Count("id"), met=Count("id", filter=Q(outcome=Outcome.MET)))
    }
    categories = [
        {
            "label": label,
            "value": value,
            "n": by_category.get(value, {}).get("n", 0),
            "met": by_category.get(value, {}).get("met", 0),
        }
        for value, label in Category.choices
    ]
    per_day = {
        row["day"]: row["n"]
        for row in visits.order_by()
        .annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(n=Count("id"))
    }
    return {**totals, "categories": categories, "per_day": per_day}


def _planned_progress(
    officer: Officer, planned: list[Household], start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Each planned household: did the officer visit it this month, and meet someone?"""
    if not planned:
        return []
    in_month = Visit.objects.filter(
        officer=officer, household=OuterRef("pk"), started_at__gte=start, started_at__lt=end
    )
    flags = {
        row["id"]: row
        for row in Household.objects.filter(id__in=[h.id for h in planned])
        .annotate(visited=Exists(in_month), met=Exists(in_month.filter(outcome=Outcome.MET)))
        .values("id", "visited", "met")
    }
    return [
        {"household": h, "visited": flags[h.id]["visited"], "met": flags[h.id]["met"]}
        for h in planned
    ]


# --- 3. dedicated days (専従日), set by the 管理責任者 ------------------------------------------


@declare_access("post_manager")
@signed_in_view
@require_http_methods(["GET"])
def dedicated_days_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The officers of the posts the manager is 管理責任者 of, with their coming 専従日."""
    posts = list(managed_posts(request.user).order_by("code"))
    if not posts:
        raise Http404("見つかりません")
    current = (
        Assignment.objects.current()
        .filter(post__in=posts)
        .select_related("officer", "post")
        .order_by("post__code", "officer__username")
    )
    horizon = today() + dt.timedelta(days=60)
    upcoming: dict[int, list[dt.date]] = defaultdict(list)
    for officer_id, day in DedicatedDay.objects.filter(
        officer__in=current.values("officer_id"), day__range=(today(), horizon)
    ).values_list("officer_id", "day"):
        upcoming[officer_id].append(day)
    rows: dict[int, dict[str, Any]] = {}
    for a in current:
        row = rows.setdefault(a.officer_id, {"officer": a.officer, "posts": [], "roles": []})
        if a.post not in row["posts"]:
            row["posts"].append(a.post)
        row["roles"].append(a.role_label)
        row["days"] = upcoming.get(a.officer_id, [])
    return render(
        request,
        "visits/monthly_plans/dedicated_days_index.html",
        {"rows": list(rows.values()), "horizon": horizon},
    )


@declare_access("post_manager")
@signed_in_view
@require_http_methods(["GET", "POST"])
def dedicated_days(request: AuthenticatedHttpRequest, officer_id: int) -> HttpResponse:
    manager = request.user
    officer = access_managed_officer(manager, officer_id)
    form = DedicatedDayForm()
    if request.method == "POST":
        if request.POST.get("remove"):
            try:
                day = parse_date(request.POST["remove"])
            except DateFormatError:
                messages.error(request, "取り消す専従日の日付が読めません。")
                return redirect("dedicated_days", officer_id=officer.id)
            try:
                actions.do_set_dedicated_day(officer, day, acting_officer=manager, remove=True)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request, f"{officer}の専従日（{format_wareki(day)}）を取り消しました。"
                )
            return redirect("dedicated_days", officer_id=officer.id)
        form = DedicatedDayForm(request.POST)
        if form.is_valid():
            day = form.cleaned_data["day"]
            try:
                actions.do_set_dedicated_day(officer, day, acting_officer=manager)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request, f"{officer}の専従日に{format_wareki(day)}を指定しました。"
                )
                return redirect("dedicated_days", officer_id=officer.id)
    now = today()
    days = DedicatedDay.objects.filter(officer=officer).select_related("set_by")
    # The page offers 取消 where the action allows it (one rule: dedicated_day_removable).
    upcoming = [d for d in days.filter(day__gte=now) if actions.dedicated_day_removable(d.day)]
    recent = list(days.filter(day__lt=now, day__gte=now - dt.timedelta(days=62)).order_by("-day"))
    if recent:
        start = start_of_day(recent[-1].day)
        per_day = {
            row["day"]: row["n"]
            for row in Visit.objects.filter(officer=officer, started_at__gte=start)
            .order_by()
            .annotate(day=TruncDate("started_at"))
            .values("day")
            .annotate(n=Count("id"))
        }
        for d in recent:
            d.visit_count = per_day.get(d.day, 0)  # type: ignore[attr-defined]
    posts = [a.post for a in officer.current_assignments() if a.post is not None]
    return render(
        request,
        "visits/monthly_plans/dedicated_days.html",
        {
            "officer": officer,
            "posts": posts,
            "form": form,
            "upcoming": upcoming,
            "recent": recent,
        },
        status=422 if request.method == "POST" else 200,
    )


# --- 4. handover of a beat (第4-6 新任受持警察官の措置) -----------------------------------------


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def handover(request: AuthenticatedHttpRequest, beat_id: int) -> HttpResponse:
    """What the new officer needs to know of a beat, built from its records."""
    officer = request.user
    beat = access_beat(officer, beat_id)
    can_write = can_write_post(officer, beat.post_id)
    form = HandoverNoteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_write:
            raise PermissionDeniedError("この受持区の引継事項を書く権限がありません")
        if form.is_valid():
            try:
                actions.do_add_handover_note(
                    beat, acting_officer=officer, text=form.cleaned_data["text"]
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "引継事項を登録しました。")
                return redirect("handover", beat_id=beat.id)

    context = {
        **handover_context(beat),
        "form": form if can_write else None,
    }
    record_read(
        officer,
        EventType.READ_HANDOVER,
        obj=beat,
        station_id=beat.post.station_id,
        purpose="引継ぎ資料の閲覧",
        count=context["coverage"]["total"]["n"],
    )
    return render(
        request,
        "visits/monthly_plans/handover.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


# --- 5. concerns (困りごと・意見・要望) ---------------------------------------------------------


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET"])
def concern_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The officer's open concerns: the ones he owns and has yet to resolve."""
    officer = request.user
    mine = Concern.objects.filter(owner=officer, household__in=households_visible_to(officer))
    concerns = list(
        mine.exclude(status=ConcernStatus.RESOLVED)
        .select_related("household", "household__building", "household__beat", "visit")
        .order_by("visit__started_at", "id")
    )
    record_list_read(officer, beat=None, count=len(concerns), purpose="困りごと等の一覧")
    resolved = mine.filter(
        status=ConcernStatus.RESOLVED, resolved_at__gte=timezone.now() - dt.timedelta(days=30)
    ).count()
    return render(
        request,
        "visits/monthly_plans/concerns.html",
        {"concerns": concerns, "resolved_recently": resolved},
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def concern_detail(request: AuthenticatedHttpRequest, concern_id: int) -> HttpResponse:
    officer = request.user
    concern = access_concern(officer, concern_id)
    can_write = can_write_post(officer, concern.household.post_id)
    if request.method == "POST":
        if not can_write:
            raise PermissionDeniedError("この困りごと等を更新する権限がありません")
        form = ConcernForm(request.POST)
        if form.is_valid():
            try:
                actions.do_update_concern(
                    concern,
                    acting_officer=officer,
                    status=form.cleaned_data["status"],
                    resolution=form.cleaned_data["resolution"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "対応状況を更新しました。")
                return redirect("concerns")
    else:
        form = ConcernForm(initial={"status": concern.status, "resolution": concern.resolution})
    return render(
        request,
        "visits/monthly_plans/concern.html",
        {"concern": concern, "household": concern.household, "form": form if can_write else None},
        status=422 if request.method == "POST" else 200,
    )
