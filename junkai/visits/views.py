"""The officer's day: the work list, recording a visit, night-visit requests; and the
manager's inbox of reports (refusals, observations, night requests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.purposes import ReadPurpose, remembered_purposes
from junkai.access.roles import (
    can_write_post,
    own_beats,
    report_recipient_units,
    reports_addressed_to,
)
from junkai.access.units import access_beat
from junkai.households.access import (
    PurposeRequired,
    access_household,
    access_household_to_read,
    record_list_read,
)
from junkai.households.models import (
    CardStatus,
    Category,
    Household,
)
from junkai.households.schedule import current_policy
from junkai.households.views import PurposeForm, ask_purpose
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors, error_summary
from junkai.lib.returns import NEXT_PARAM, back_to_list, list_path, local_path, record_url
from junkai.lib.returns import household_id as household_id_param
from junkai.lib.wareki import format_wareki
from junkai.org.models import Beat, today
from junkai.visits import actions
from junkai.visits.access import access_info_report, access_night_approval, access_refusal_report
from junkai.visits.forms import NightRequestForm, RejectForm, VisitForm
from junkai.visits.models import (
    ConcernStatus,
    InfoReport,
    NightApprovalStatus,
    NightVisitApproval,
    RefusalReport,
)
from junkai.visits.worklist import due_households


@dataclass
class WorkGroup:
    """One 町名・組 of the work list, its households in work-list order."""

    number: int
    town: str
    block_group: str
    rows: list[Household]


@declare_access("scoped")
@signed_in_view
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """作業リスト: what to visit next in the officer's own beats."""
    officer = request.user
    beats = own_beats(officer)
    beat: Beat | None = None
    if beat_id := request.GET.get("beat"):
        if not beat_id.isdigit():
            raise Http404("見つかりません")
        beat = access_beat(officer, int(beat_id))
        beats = Beat.objects.filter(id=beat.id)
    policy = current_policy()
    day = today()
    horizon = day + dt.timedelta(days=policy.horizon_days)
    households = due_households(Household.objects.filter(beat__in=beats), horizon)
    town = request.GET.get("town", "")
    block_group = request.GET.get("block_group", "")
    if town:
        households = households.filter(town=town)
    if block_group:
        households = households.filter(block_group=block_group)
    rows = list(households[:500])
    # Grouped by 町名・組 (the order the officer walks them), each group in work-list order.
    rows.sort(key=lambda h: (h.town, h.block_group))
    # Up to 500 cards: links, dates and labels are worked out here once rather than by
    # template tags per row ({% url %}, |wareki and an {% include %} each cost per row).
    household_base = reverse("household", args=[0]).removesuffix("0/")
    visit_base = reverse("visit_new", args=[0])
    categories = dict(Category.choices)
    back = list_path(request)
    marked = household_id_param(request.GET.get(NEXT_PARAM))
    groups: list[WorkGroup] = []
    for index, h in enumerate(rows):
        after = rows[index + 1].id if index + 1 < len(rows) else None
        h.days_overdue = max(0, (day - h.next_due).days) if h.next_due else 0  # type: ignore[attr-defined]
        h.url = f"{household_base}{h.id}/"  # type: ignore[attr-defined]
        h.visit_url = record_url(  # type: ignore[attr-defined]
            visit_base.replace("/0/", f"/{h.id}/", 1), back=back, then=after
        )
        h.due_text = format_wareki(h.next_due)  # type: ignore[attr-defined]
        h.category_label = categories.get(h.category, "")  # type: ignore[attr-defined]
        h.category_class = h.category.lower()  # type: ignore[attr-defined]
        h.is_next = h.id == marked  # type: ignore[attr-defined]
        if not groups or (groups[-1].town, groups[-1].block_group) != (h.town, h.block_group):
            groups.append(WorkGroup(len(groups) + 1, h.town, h.block_group, []))
        groups[-1].rows.append(h)
    record_list_read(
        officer,
        beat=beat,
        count=len(rows),
        purpose="作業リスト",
        household_ids=[h.id for h in rows],
    )
    towns = sorted(
        set(Household.objects.filter(beat__in=beats).values_list("town", flat=True).distinct())
    )
    return render(
        request,
        "visits/worklist.html",
        {
            "rows": rows,
            "groups": groups,
            "beats": own_beats(officer),
            "beat": beat,
            "town": town,
            "towns": towns,
            "block_group": block_group,
            "horizon": horizon,
            "policy": policy,
        },
    )


#: The action names the first concern by its place in the list; the form has one concern.
CONCERN_FIELDS = {"concerns.0.kind": "concern_kind", "concerns.0.text": "concern_text"}


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def visit_new(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """Record a visit: an ordinary one is the outcome (面接, preselected), the guidance given,
    and 記録する."""
    officer = request.user
    back = local_path(request.GET.get("from"))
    then = household_id_param(request.GET.get("then"))
    try:
        # Outside his own beats the read states why, as on the household page: arriving from a
        # record button the question comes with 巡回連絡 already chosen (DESIGN.md ruling).
        household = access_household_to_read(
            officer,
            household_id,
            stated=remembered_purposes(request),
            purpose="巡回連絡の記録",
        )
    except PurposeRequired as required:
        return ask_purpose(
            request,
            required.household,
            PurposeForm(initial={"purpose": ReadPurpose.PATROL}),
            continue_to=request.get_full_path(),
        )
    if not can_write_post(officer, household.post_id):
        raise PermissionDeniedError("この世帯の巡回連絡を記録する権限がありません")
    form = VisitForm(request.POST or None)
    status = 200
    night_blocked = False
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_record_visit(
                    household,
                    acting_officer=officer,
                    started_at=data["started_at"],
                    method=data["method"],
                    outcome=data["outcome"],
                    guidance_topics=data["guidance_topics"],
                    note=data["note"],
                    refusal_explanation=data["refusal_explanation"],
                    concerns=form.concerns(),  # type: ignore[arg-type]
                    observations=[data["observation"]] if data["observation"] else [],
                )
            except ValidationError as error:
                apply_errors(form, error, rename=CONCERN_FIELDS)
            except PermissionDeniedError as denied:
                form.add_error(None, str(denied))
                night_blocked = True
                status = 403
            else:
                # do_record_visit set household.next_due as it saved it.
                messages.success(
                    request,
                    f"{household.address} の巡回連絡を記録しました。次回予定日: {format_wareki(household.next_due)}",
                )
                # Back to the same place of the same list, the next household marked (次の世帯).
                return redirect(back_to_list(back, then=then) if back else "worklist")
    open_concerns = household.concerns.exclude(status=ConcernStatus.RESOLVED)
    card = household.cards.filter(status=CardStatus.ACTIVE).first()
    return render(
        request,
        "visits/visit_form.html",
        {
            "household": household,
            "form": form,
            "card": card,
            "open_concerns": open_concerns,
            "night_blocked": night_blocked,
            "back": back or reverse("worklist"),
            "error_summary": error_summary([form]),
        },
        status=status,
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def night_request(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """夜間実施の承認申請 (第4-3): before the visit."""
    officer = request.user
    household = access_household(officer, household_id, purpose="夜間実施の申請")
    form = NightRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_request_night_approval(
                household,
                acting_officer=officer,
                planned_start=form.cleaned_data["planned_start"],
                planned_end=form.cleaned_data["planned_end"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, "夜間実施の承認を申請しました。承認されるまで実施できません。"
            )
            return redirect("household", household_id=household.id)
    pending = household.night_approvals.order_by("-requested_at")[:5]
    return render(
        request,
        "visits/night_request.html",
        {"household": household, "form": form, "pending": pending},
        status=422 if form.errors else 200,  # refused input, as every other form answers it
    )


@declare_access("scoped")
@signed_in_view
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The manager's inbox: refusal reports, observations and night requests to act on."""
    units = report_recipient_units(request.user)
    if units.empty:
        return render(request, "visits/inbox.html", {"not_recipient": True})
    mine = reports_addressed_to(units)
    refusals = (
        RefusalReport.objects.filter(mine)
        .select_related("visit", "visit__household", "visit__officer")
        .order_by("-visit__started_at")[:50]
    )
    infos = (
        InfoReport.objects.filter(station_id__in=units.station_ids)
        .select_related("visit__household", "reported_by", "acknowledged_by")
        .order_by("acknowledged_at", "-reported_at")[:50]
    )
    nights = (
        NightVisitApproval.objects.filter(mine)
        .select_related("household", "requested_by")
        .order_by("-requested_at")[:50]
    )
    record_list_read(
        request.user, beat=None, count=len(refusals) + len(infos), purpose="報告の確認"
    )
    return render(
        request,
        "visits/inbox.html",
        {
            "refusals": refusals,
            "infos": infos,
            "nights": nights,
            "is_section_chief": bool(units.station_ids),
            "pending": NightApprovalStatus.PENDING,
        },
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def refusal_acknowledge(request: AuthenticatedHttpRequest, report_id: int) -> HttpResponse:
    report = access_refusal_report(request.user, report_id)
    actions.do_acknowledge_refusal(report, acting_officer=request.user)
    messages.success(request, "拒否の報告を確認しました。")
    return redirect("inbox")


@declare_access("scoped")
@signed_in_view
@require_POST
def info_acknowledge(request: AuthenticatedHttpRequest, info_id: int) -> HttpResponse:
    report = access_info_report(request.user, info_id)
    try:
        actions.do_acknowledge_info_report(report, acting_officer=request.user)
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        messages.success(request, "見聞情報の報告を確認しました。")
    return redirect("inbox")


@declare_access("scoped")
@signed_in_view
@require_POST
def night_approve(request: AuthenticatedHttpRequest, approval_id: int) -> HttpResponse:
    approval = access_night_approval(request.user, approval_id)
    try:
        approval = actions.do_approve_night_visit(approval, acting_officer=request.user)
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        done = "承認が揃いました。" if approval.status == NightApprovalStatus.APPROVED else ""
        messages.success(request, f"夜間実施を承認しました。{done}")
    return redirect("inbox")


@declare_access("scoped")
@signed_in_view
@require_POST
def night_reject(request: AuthenticatedHttpRequest, approval_id: int) -> HttpResponse:
    approval = access_night_approval(request.user, approval_id)
    form = RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        actions.do_reject_night_visit(approval, acting_officer=request.user, reason=reason)
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        messages.success(request, "夜間実施を不承認にしました。")
    return redirect("inbox")
