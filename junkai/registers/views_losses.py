"""亡失・盗難 pages: the report form (from a binder or the 持出確認簿), the report with its
households and their follow-up, and the list for managers and HQ.

Reads through junkai.registers.access (scope, 404 alike, the read recorded), writes through
junkai.registers.actions; a refusal (403) is recorded through access.records.record_refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.records import record_refusal
from junkai.access.roles import can_write_post, is_hq, is_section_chief, register_scope
from junkai.access.units import record_register_read
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors
from junkai.org.models import Officer, Post
from junkai.registers import actions
from junkai.registers.access import (
    access_binders,
    access_loss_report,
    loss_reports_listed_for,
)
from junkai.registers.forms import FoundForm, InformedForm, LossReportForm, RecreatedForm
from junkai.registers.losses import open_loss_reports_for, with_progress
from junkai.registers.models import (
    InformMethod,
    LossReport,
    LossReportHousehold,
    LossReportStatus,
)

T = TypeVar("T")

#: `?show=pending`: the report's households not yet done (a query of no personal data).
PENDING_ONLY = "pending"


def _back_to_row(
    report: LossReport, household_id: int, request: AuthenticatedHttpRequest, *, done: bool
) -> str:
    """After a household's step, back to its row (in a 150-card report the top of the page is
    far away), keeping the pending filter the officer was working in; after a refusal, to the
    top, where its message is."""
    query = f"?show={PENDING_ONLY}" if request.POST.get("show") == PENDING_ONLY else ""
    row = f"#household-{household_id}" if done else ""
    return f"{reverse('loss_report', args=[report.id])}{query}{row}"


def refusal_recorded(
    officer: Officer, obj: Any, station_id: int, purpose: str, do: Callable[[], T]
) -> T:
    """Run an action; a refusal (403) is recorded on the way out (the action's own
    transaction rolled back, so it is written here)."""
    try:
        return do()
    except PermissionDeniedError:
        record_refusal(officer, obj, station_id=station_id, purpose=purpose)
        raise


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def loss_new(request: AuthenticatedHttpRequest, binder_id: int) -> HttpResponse:
    """亡失・盗難の報告: by the officer who has the binder out, or its keepers."""
    officer = request.user
    binder = access_binders(officer, [binder_id])[0]
    post = binder.post
    refusal = actions.loss_reporter_refusal(officer, binder)
    if refusal is not None:
        record_refusal(officer, binder, station_id=post.station_id, purpose="亡失・盗難の報告")
        raise PermissionDeniedError(refusal)
    if request.method == "GET":
        record_register_read(officer, post=post, purpose="亡失・盗難の報告", obj=binder)
    return loss_form_page(
        request,
        post=post,
        subject=str(binder),
        earlier=actions.lost_binder_report(binder),
        report=lambda facts: actions.do_report_loss(binder, acting_officer=officer, **facts),
        reported=f"{binder} の亡失・盗難を報告しました。地域課長・署長・本部に通知されます。",
        held=lambda: f"この簿冊には現在 {binder.cards().count()} 世帯のカードが綴られています。",
    )


#: The facts of a report, as the form gives them and the actions take them.
LOSS_FACTS = ("kind", "occurred_at", "place", "circumstances", "measures")


def loss_form_page(
    request: AuthenticatedHttpRequest,
    *,
    post: Post,
    subject: str,
    earlier: LossReport | None,
    report: Callable[[dict[str, Any]], LossReport],
    reported: str,
    held: Callable[[], str],
) -> HttpResponse:
    """The one report form, for a binder or a device (junkai.devices.views): the caller has
    checked and recorded who may report; `report` files it through the app's action."""
    form = LossReportForm(request.POST or None)
    status = 200
    if request.method == "POST" and earlier is None:
        status = 422
        if form.is_valid():
            try:
                made = report({name: form.cleaned_data[name] for name in LOSS_FACTS})
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, reported)
                return redirect("loss_report", loss_report_id=made.id)
    return render(
        request,
        "registers/loss_form.html",
        {
            "post": post,
            "subject": subject,
            "form": form,
            "earlier": earlier,
            "held": held(),
            "back_url": reverse("register_post", args=[post.id]),
        },
        status=status,
    )


@declare_access("scoped")
@signed_in_view
def loss_reports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """亡失・盗難の報告の一覧: open first. HQ sees every station's, by station and binder."""
    officer = request.user
    show = request.GET.get("show", "open")
    found = loss_reports_listed_for(officer)
    if show != "all":
        found = found.filter(status=LossReportStatus.OPEN)
    rows = list(
        with_progress(found.select_related("post", "post__station", "binder", "device")).order_by(
            "status", "-reported_at", "-id"
        )[:200]
    )
    mine = {r.id for r in open_loss_reports_for(officer)}
    return render(
        request,
        "registers/loss_reports.html",
        {
            "rows": rows,
            "show_all": show == "all",
            "hq_only": is_hq(officer) and register_scope(officer) is None,
            "mine": mine,
        },
    )


@declare_access("scoped")
@signed_in_view
def loss_report(request: AuthenticatedHttpRequest, loss_report_id: int) -> HttpResponse:
    """The report, the households whose cards the binder held, and each one's follow-up."""
    officer = request.user
    report = access_loss_report(officer, loss_report_id)
    return _detail(request, report)


def _detail(
    request: AuthenticatedHttpRequest,
    report: LossReport,
    *,
    status: int = 200,
    forms: dict[str, Any] | None = None,
) -> HttpResponse:
    officer = request.user
    entries = list(
        LossReportHousehold.objects.filter(report=report)
        .select_related("household", "household__building", "informed_by", "card_recreated_by")
        .order_by("index_number", "household_id")
    )
    not_done = [e for e in entries if not e.is_done(report)]
    not_done_ids = {e.id for e in not_done}
    for e in entries:
        e.done = e.id not in not_done_ids  # type: ignore[attr-defined]
    pending = len(not_done)
    is_open = report.status == LossReportStatus.OPEN
    # A binder can hold 150 cards: the officer working through them sees only those not done.
    only_pending = request.GET.get("show") == PENDING_ONLY
    return render(
        request,
        "registers/loss_report.html",
        {
            "report": report,
            "entries": not_done if only_pending else entries,
            "held": len(entries),
            "informed": sum(1 for e in entries if e.informed_at),
            "recreated": sum(1 for e in entries if e.card_recreated_at),
            "only_pending": only_pending,
            "pending": pending,
            "is_open": is_open,
            "may_follow_up": is_open and can_write_post(officer, report.post_id),
            "may_close": is_open
            and (officer.is_superuser or is_section_chief(officer, report.post.station_id)),
            "methods": InformMethod.choices,
            "found_form": (forms or {}).get("found") or FoundForm(),
            "forms": forms or {},
        },
        status=status,
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def loss_household_informed(
    request: AuthenticatedHttpRequest, loss_report_id: int, household_id: int
) -> HttpResponse:
    officer = request.user
    report = access_loss_report(officer, loss_report_id, record_read=False)
    form = InformedForm(request.POST)
    if form.is_valid():
        try:
            refusal_recorded(
                officer,
                report,
                report.post.station_id,
                "住民等への連絡",
                lambda: actions.do_record_household_informed(
                    report,
                    household_id,
                    acting_officer=officer,
                    method=form.cleaned_data["method"],
                    note=form.cleaned_data["note"],
                ),
            )
        except ValidationError as error:
            messages.error(request, "、".join(error.messages))
        else:
            messages.success(request, "住民等への連絡を記録しました。")
            return redirect(_back_to_row(report, household_id, request, done=True))
    else:
        messages.error(request, "、".join(str(m) for ms in form.errors.values() for m in ms))
    return redirect(_back_to_row(report, household_id, request, done=False))


@declare_access("scoped")
@signed_in_view
@require_POST
def loss_card_recreated(
    request: AuthenticatedHttpRequest, loss_report_id: int, household_id: int
) -> HttpResponse:
    officer = request.user
    report = access_loss_report(officer, loss_report_id, record_read=False)
    form = RecreatedForm(request.POST)
    if form.is_valid():
        try:
            refusal_recorded(
                officer,
                report,
                report.post.station_id,
                "カードの再作成",
                lambda: actions.do_record_card_recreated(
                    report, household_id, acting_officer=officer, note=form.cleaned_data["note"]
                ),
            )
        except ValidationError as error:
            messages.error(request, "、".join(error.messages))
        else:
            messages.success(request, "カードの再作成を記録しました。")
            return redirect(_back_to_row(report, household_id, request, done=True))
    else:
        messages.error(request, "、".join(str(m) for ms in form.errors.values() for m in ms))
    return redirect(_back_to_row(report, household_id, request, done=False))


@declare_access("scoped")
@signed_in_view
@require_POST
def loss_found(request: AuthenticatedHttpRequest, loss_report_id: int) -> HttpResponse:
    officer = request.user
    report = access_loss_report(officer, loss_report_id, record_read=False)
    form = FoundForm(request.POST)
    if form.is_valid():
        try:
            refusal_recorded(
                officer,
                report,
                report.post.station_id,
                "発見の記録",
                lambda: actions.do_record_loss_found(
                    report,
                    acting_officer=officer,
                    place=form.cleaned_data["place"],
                    note=form.cleaned_data["note"],
                ),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"発見を記録しました。{report.subject}は再び使用できます。")
            return redirect("loss_report", loss_report_id=report.id)
    report = access_loss_report(officer, loss_report_id)
    return _detail(request, report, status=422, forms={"found": form})


@declare_access("scoped")
@signed_in_view
@require_POST
def loss_close(request: AuthenticatedHttpRequest, loss_report_id: int) -> HttpResponse:
    officer = request.user
    report = access_loss_report(officer, loss_report_id, record_read=False)
    try:
        refusal_recorded(
            officer,
            report,
            report.post.station_id,
            "亡失・盗難の報告の完了",
            lambda: actions.do_close_loss_report(report, acting_officer=officer),
        )
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        messages.success(request, "亡失・盗難の報告を完了にしました。")
    return redirect("loss_report", loss_report_id=report.id)
