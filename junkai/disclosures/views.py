"""Pages of the 利用確認簿 (第7号様式), of requests from other agencies and of misuse signals.

Every entry is read through junkai.access (scope, 404 alike, the read recorded)
and changed through junkai.disclosures.actions, as the API does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.records import record_read
from junkai.access.roles import (
    data_use_stations,
    is_disclosure_manager,
    may_handle,
    may_see_misuse_flags,
    posts_visible_to,
    recording_unit,
    scope_of,
)
from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import actions
from junkai.disclosures.access import (
    access_agency_request,
    access_data_use,
    access_misuse_flag,
    agency_requests_visible_to,
    data_uses_visible_to,
    may_handle_agency_request,
    may_review_flag,
    misuse_flags_visible_to,
)
from junkai.disclosures.accounting import access_accounting, releases_of
from junkai.disclosures.forms import (
    AgencyRequestForm,
    DataUseForm,
    DecideForm,
    RefuseForm,
    RegisterFilter,
    ReleaseForm,
    ReviewForm,
    UploadForm,
    VerifyForm,
)
from junkai.disclosures.misuse import thresholds
from junkai.disclosures.models import (
    DOCUMENT_SUFFIXES,
    FIELD_GROUPS,
    AgencyDocument,
    AgencyRequest,
    DataUse,
    DecisionStatus,
    MisuseFlag,
    UnitScoped,
    filter_register,
)
from junkai.households.access import (
    access_household,
    households_visible_to,
    record_households_out_of_scope,
)
from junkai.households.models import Household
from junkai.households.search import Hit, search_households
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors
from junkai.org.models import Station

#: Rows on one register page (the filter narrows it down).
REGISTER_LIMIT = 300


# --- the register (list) ----------------------------------------------------------------


@dataclass
class RegisterView:
    station: Station | None
    stations: list[Station]
    units: list[tuple[str, str]]
    unit: str
    form: RegisterFilter
    rows: list[Any] = field(default_factory=list)
    truncated: bool = False


def _register(
    request: AuthenticatedHttpRequest, entries: QuerySet[Any], *, purpose: str
) -> RegisterView:
    """Filter a register by station, unit (a post or the 地域課) and period; record the read."""
    officer = request.user
    stations = list(data_use_stations(officer).order_by("code"))
    form = RegisterFilter(request.GET or None)
    if not stations:
        return RegisterView(None, [], [], "", form)
    chosen = request.GET.get("station", "")
    station = next((s for s in stations if str(s.id) == chosen), stations[0])
    units: list[tuple[str, str]] = []
    if station.id in scope_of(officer).station_ids:
        units.append(("station", f"{station.name}地域課"))
    units += [(str(p.id), p.name) for p in posts_visible_to(officer).filter(station=station)]
    unit = request.GET.get("unit", "")
    period = form.cleaned_data if form.is_valid() else {}
    entries = filter_register(
        entries,
        station_id=station.id,
        unit=unit,
        since=period.get("since"),
        until=period.get("until"),
    )
    rows = list(
        entries.select_related("post", "station", "recorded_by").prefetch_related(
            Prefetch("households", queryset=Household.objects.select_related("building"))
        )[: REGISTER_LIMIT + 1]
    )
    for row in rows:
        row.household_rows = _household_rows(row, list(row.households.all()))
    record_read(
        officer,
        EventType.READ_DISCLOSURE,
        station_id=station.id,
        purpose=purpose,
        count=min(len(rows), REGISTER_LIMIT),
    )
    return RegisterView(
        station,
        stations,
        units,
        unit,
        form,
        rows[:REGISTER_LIMIT],
        len(rows) > REGISTER_LIMIT,
    )


def _household_rows(
    entry: UnitScoped, households: list[Household]
) -> list[tuple[Household, list[str]]]:
    """Each household of an entry with the groups of card data released of it (if any)."""
    released = dict(entry.released_groups())
    return [(h, released.get(h.id, [])) for h in households]


@declare_access("scoped")
@signed_in_view
def data_use_register(request: AuthenticatedHttpRequest) -> HttpResponse:
    """巡回連絡カード利用確認簿 (第7号様式), per station, filtered by unit and period."""
    view = _register(
        request,
        data_uses_visible_to(request.user).select_related(
            "verified_by", "approved_by", "released_by", "refused_by"
        ),
        purpose="利用確認簿の閲覧",
    )
    return render(
        request,
        "disclosures/data_use_register.html",
        {"view": view, "can_record": recording_unit(request.user) is not None},
    )


@declare_access("scoped")
@signed_in_view
def agency_request_register(request: AuthenticatedHttpRequest) -> HttpResponse:
    """他の行政機関からの照会: per station, filtered by unit and period."""
    view = _register(
        request,
        agency_requests_visible_to(request.user).select_related("decided_by", "released_by"),
        purpose="照会の一覧",
    )
    return render(
        request,
        "disclosures/agency_request_register.html",
        {"view": view, "can_record": recording_unit(request.user) is not None},
    )


# --- choosing the households -----------------------------------------------------------


@dataclass
class Picker:
    ids: list[int]
    selected: list[Household]
    query: str = ""
    hits: list[Hit] | None = None
    errors: list[str] = field(default_factory=list)


def _picker(request: AuthenticatedHttpRequest) -> Picker:
    """The households of a new entry: ticked ones, plus the officer's search (by POST, so the
    query stays out of URLs and logs; the search is recorded as any other)."""
    officer = request.user
    ids = [int(v) for v in request.POST.getlist("household_ids") if v.isdigit()]
    if request.method == "GET" and (wanted := request.GET.get("household", "")).isdigit():
        household = access_household(officer, int(wanted), purpose="利用確認簿・照会の記録")
        ids = [household.id]
    ids = list(dict.fromkeys(ids))
    visible = {
        h.id: h
        for h in households_visible_to(officer)
        .filter(id__in=ids)
        .select_related("building", "beat")
    }
    picker = Picker(ids, [visible[i] for i in ids if i in visible])
    if request.method == "POST" and request.POST.get("action") == "search":
        picker.query = request.POST.get("query", "").strip()[:100]
        if picker.query:
            picker.hits = [
                h for h in search_households(officer, picker.query) if h.household.id not in ids
            ]
    return picker


def _errors_beside(
    form: Form, error: ValidationError, *, beside: tuple[str, ...]
) -> dict[str, list[str]]:
    """Put the action's messages on the form; return those under `beside`, the names the page
    shows next to its own inputs (the household picker, the released items).

    Any other name the form has no field for goes to the form's non-field errors: a message
    the page has no place for must still show, or the officer sees a 422 with no reason.
    """
    aside: dict[str, list[str]] = {}
    apply_errors(form, error, aside=aside)
    for name, texts in aside.items():
        if name not in beside:
            form.add_error(None, texts)
    return {name: aside.get(name, []) for name in beside}


def _new_entry(
    request: AuthenticatedHttpRequest,
    *,
    form: Form,
    template: str,
    create: Any,
) -> HttpResponse:
    officer = request.user
    unit = recording_unit(officer)
    if unit is None:
        return render(request, template, {"not_a_unit": actions.NOT_A_UNIT})
    picker = _picker(request)
    status = 200
    household_errors: list[str] = []
    if request.method == "POST" and request.POST.get("action") == "record":
        form.is_valid()
        # The raw text goes to the action: its rules (and messages) are the ones that count.
        data = {name: str(request.POST.get(name, "")) for name in form.fields}
        record_households_out_of_scope(officer, picker.ids)
        try:
            entry = create(acting_officer=officer, household_ids=picker.ids, **data)
        except ValidationError as error:
            shown = _errors_beside(form, error, beside=("household_ids",))
            household_errors = shown["household_ids"]
            status = 422
        else:
            messages.success(request, f"{entry.label} として記録しました。")
            return redirect(entry.detail_url_name, entry.id)
    station, post = unit
    return render(
        request,
        template,
        {
            "form": form,
            "picker": picker,
            "household_errors": household_errors,
            "unit_label": post.name if post is not None else f"{station.name}地域課",
        },
        status=status,
    )


# --- 利用確認簿 ----------------------------------------------------------------------------


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def data_use_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """受付: a request by another police unit, with the households concerned."""
    return _new_entry(
        request,
        form=DataUseForm(request.POST or None),
        template="disclosures/data_use_form.html",
        create=actions.do_record_data_use,
    )


def _entry_households(entry: UnitScoped) -> list[Household]:
    return list(entry.households.select_related("building", "beat").order_by("id"))  # type: ignore[attr-defined]


@declare_access("scoped")
@signed_in_view
def data_use_detail(request: AuthenticatedHttpRequest, data_use_id: int) -> HttpResponse:
    officer = request.user
    entry = access_data_use(officer, data_use_id)
    return render(
        request,
        "disclosures/data_use_detail.html",
        {
            "entry": entry,
            "household_rows": _household_rows(entry, _entry_households(entry)),
            "can_handle": may_handle(officer, entry.station_id, entry.post_id),
            "is_manager": is_disclosure_manager(officer, entry.station_id, entry.post_id),
            "refuse_form": RefuseForm(),
        },
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def data_use_verify(request: AuthenticatedHttpRequest, data_use_id: int) -> HttpResponse:
    """警察職員であることの確認: the callback on the police phone (第5-4(2)ア)."""
    officer = request.user
    entry = access_data_use(officer, data_use_id, purpose="折り返し確認")
    if not may_handle(officer, entry.station_id, entry.post_id):
        raise PermissionDeniedError(
            f"この利用確認簿の記録を取り扱う権限がありません（{entry.unit_label}）"
        )
    if entry.verified_at is not None or entry.is_closed:
        messages.info(request, "この申出の確認は記録済みです。")
        return redirect("data_use_detail", entry.id)
    form = VerifyForm(request.POST or None)
    status = 200
    extra: dict[str, list[str]] = {}
    if request.method == "POST":
        form.is_valid()
        try:
            actions.do_verify_identity(
                entry,
                acting_officer=officer,
                callback_number=str(request.POST.get("callback_number", "")),
                note=str(request.POST.get("note", "")),
            )
        except ValidationError as error:
            apply_errors(form, error, aside=extra)
            status = 422
        else:
            messages.success(request, "警察職員であることの確認（折り返し電話）を記録しました。")
            return redirect("data_use_detail", entry.id)
    return render(
        request,
        "disclosures/data_use_verify.html",
        {"entry": entry, "form": form, "other_errors": extra},
        status=status,
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def data_use_approve(request: AuthenticatedHttpRequest, data_use_id: int) -> HttpResponse:
    """The 管理責任者's approval of a provision to another prefecture (403 for others)."""
    entry = access_data_use(request.user, data_use_id, record_read=False)
    try:
        actions.do_approve_data_use(entry, acting_officer=request.user)
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        messages.success(request, "他の都道府県警察への提供を承認しました。")
    return redirect("data_use_detail", entry.id)


@declare_access("scoped")
@signed_in_view
@require_POST
def data_use_refuse(request: AuthenticatedHttpRequest, data_use_id: int) -> HttpResponse:
    entry = access_data_use(request.user, data_use_id, record_read=False)
    form = RefuseForm(request.POST)
    form.is_valid()
    try:
        actions.do_refuse_data_use(
            entry, acting_officer=request.user, reason=form.cleaned_data.get("reason") or ""
        )
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        messages.success(request, "利用の申出を不承認にしました。")
    return redirect("data_use_detail", entry.id)


def _release_blocker(entry: DataUse | AgencyRequest) -> str:
    if isinstance(entry, DataUse):
        if entry.is_closed:
            return f"この申出は{entry.get_status_display()}です。"
        if entry.verified_at is None:
            return "警察電話への折り返しで警察職員であることを確認するまで、提供できません（第5-4(2)ア）。"
        if entry.needs_approval:
            return "他の都道府県警察への提供には、管理責任者（地域課長）の承認が必要です。"
        return ""
    if entry.status == DecisionStatus.RELEASED:
        return "この照会は提供済みです。"
    if entry.status != DecisionStatus.APPROVED:
        return "管理責任者（地域課長）が提供可と判断するまで、提供できません（第5-4(2)イ）。"
    return ""


def _release_page(
    request: AuthenticatedHttpRequest,
    entry: DataUse | AgencyRequest,
    *,
    release: Any,
    detail: str,
    template_title: str,
) -> HttpResponse:
    officer = request.user
    households = _entry_households(entry)
    form = ReleaseForm(request.POST or None)
    chosen: dict[int, list[str]] = {
        h.id: request.POST.getlist(f"groups_{h.id}") if request.method == "POST" else []
        for h in households
    }
    status = 200
    item_errors: list[str] = []
    if request.method == "POST":
        form.is_valid()
        try:
            release(
                entry,
                acting_officer=officer,
                items=chosen,
                method=form.cleaned_data.get("method") or "",
                note=form.cleaned_data.get("note") or "",
            )
        except ValidationError as error:
            shown = _errors_beside(form, error, beside=("items", "status"))
            item_errors = shown["items"] + shown["status"]
            status = 422
        else:
            messages.success(request, "提供した内容を記録しました。各世帯の閲覧記録に残ります。")
            return redirect(detail, entry.id)
    rows = [
        (h, [(key, label, key in chosen[h.id]) for key, label in FIELD_GROUPS.items()])
        for h in households
    ]
    return render(
        request,
        "disclosures/release.html",
        {
            "entry": entry,
            "rows": rows,
            "form": form,
            "blocker": _release_blocker(entry),
            "item_errors": item_errors,
            "detail": detail,
            "title": template_title,
        },
        status=status,
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def data_use_release(request: AuthenticatedHttpRequest, data_use_id: int) -> HttpResponse:
    """提供: which card data of which household was shown or given."""
    officer = request.user
    entry = access_data_use(officer, data_use_id, purpose="提供内容の記録")
    if not may_handle(officer, entry.station_id, entry.post_id):
        raise PermissionDeniedError(
            f"この利用確認簿の記録を取り扱う権限がありません（{entry.unit_label}）"
        )
    return _release_page(
        request,
        entry,
        release=actions.do_release_data_use,
        detail="data_use_detail",
        template_title="利用確認簿: 提供した内容",
    )


# --- 他の行政機関からの照会 -----------------------------------------------------------------


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def agency_request_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _new_entry(
        request,
        form=AgencyRequestForm(request.POST or None),
        template="disclosures/agency_request_form.html",
        create=actions.do_record_agency_request,
    )


@declare_access("scoped")
@signed_in_view
def agency_request_detail(
    request: AuthenticatedHttpRequest, agency_request_id: int
) -> HttpResponse:
    officer = request.user
    entry = access_agency_request(officer, agency_request_id)
    return render(
        request,
        "disclosures/agency_request_detail.html",
        {
            "entry": entry,
            "household_rows": _household_rows(entry, _entry_households(entry)),
            "can_handle": may_handle_agency_request(officer, entry),
            "is_manager": is_disclosure_manager(officer, entry.station_id, entry.post_id),
            "upload_form": UploadForm(),
            "decide_form": DecideForm(),
            "max_mb": actions.document_max_bytes() // (1024 * 1024),
        },
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def agency_request_upload(
    request: AuthenticatedHttpRequest, agency_request_id: int
) -> HttpResponse:
    """Attach the written request (PDF or image): kept in the database, never at a URL."""
    entry = access_agency_request(request.user, agency_request_id, record_read=False)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationError({"file": "照会文書のファイルを選んでください"})
        actions.do_attach_agency_document(entry, acting_officer=request.user, upload=upload)
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
        return redirect("agency_request_detail", entry.id)
    messages.success(request, "照会文書を添付しました。")
    return redirect("agency_request_detail", entry.id)


@declare_access("scoped")
@signed_in_view
def agency_request_document(
    request: AuthenticatedHttpRequest, agency_request_id: int
) -> HttpResponse:
    """The written request, to those who see the entry; the download is recorded."""
    entry = access_agency_request(request.user, agency_request_id, purpose="照会文書のダウンロード")
    if not entry.has_document:
        messages.info(request, "照会文書はまだ添付されていません。")
        return redirect("agency_request_detail", entry.id)
    # Read apart from the entry: only this view ever loads the bytes.
    document = (
        AgencyDocument.objects.filter(request_id=entry.id).only("content", "content_type").first()
    )
    if document is None:
        raise Http404("照会文書が見つかりません")
    suffix = DOCUMENT_SUFFIXES.get(document.content_type, ".bin").lstrip(".")
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    name = f"agency-request-{entry.fiscal_year}-{entry.number}.{suffix}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


@declare_access("scoped")
@signed_in_view
@require_POST
def agency_request_decide(
    request: AuthenticatedHttpRequest, agency_request_id: int
) -> HttpResponse:
    """第5-4(2)イ: the 管理責任者 decides (403 for others); refused while no document."""
    entry = access_agency_request(request.user, agency_request_id, record_read=False)
    form = DecideForm(request.POST)
    form.is_valid()
    try:
        actions.do_decide_agency_request(
            entry,
            acting_officer=request.user,
            decision=form.cleaned_data.get("decision") or "",
            reason=form.cleaned_data.get("reason") or "",
        )
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        messages.success(request, "提供の可否を記録しました。")
    return redirect("agency_request_detail", entry.id)


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def agency_request_release(
    request: AuthenticatedHttpRequest, agency_request_id: int
) -> HttpResponse:
    officer = request.user
    entry = access_agency_request(officer, agency_request_id, purpose="提供内容の記録")
    if not may_handle_agency_request(officer, entry):
        raise PermissionDeniedError(f"この照会を取り扱う権限がありません（{entry.unit_label}）")
    return _release_page(
        request,
        entry,
        release=actions.do_release_agency_request,
        detail="agency_request_detail",
        template_title="照会: 提供した内容",
    )


# --- misuse signals -----------------------------------------------------------------------


@declare_access("scoped")
@signed_in_view
def misuse_flags(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The manager's list of signals; unreviewed first."""
    officer = request.user
    if not may_see_misuse_flags(officer):
        return render(request, "disclosures/misuse_flags.html", {"not_manager": True})
    show_all = request.GET.get("all") == "1"
    flags = misuse_flags_visible_to(officer).select_related(
        "officer", "station", "post", "reviewed_by"
    )
    if not show_all:
        flags = flags.filter(reviewed_at__isnull=True)
    rows = list(flags.order_by("reviewed_at", "-window_start", "-id")[:300])
    record_read(
        officer, EventType.READ_AUDIT_LOG, purpose="不適正利用の兆候の一覧", count=len(rows)
    )
    return render(
        request,
        "disclosures/misuse_flags.html",
        {"flags": rows, "show_all": show_all, "thresholds": thresholds()},
    )


@declare_access("scoped")
@signed_in_view
def misuse_flag_detail(request: AuthenticatedHttpRequest, misuse_flag_id: int) -> HttpResponse:
    """A flag with the audit events behind it, and the officer's work around them."""
    officer = request.user
    flag = access_misuse_flag(officer, misuse_flag_id)
    return render(
        request,
        "disclosures/misuse_flag.html",
        {
            "flag": flag,
            **_flag_evidence(flag),
            "form": ReviewForm(),
            "may_review": may_review_flag(officer, flag) and flag.reviewed_at is None,
        },
    )


def _flag_evidence(flag: MisuseFlag) -> dict[str, Any]:
    events = list(AuditEvent.objects.filter(id__in=flag.event_ids).order_by("id"))
    around = dt.timedelta(hours=thresholds().context_hours)
    nearby = list(
        AuditEvent.objects.filter(
            actor_id=flag.officer_id,
            created_at__gte=flag.window_start - around,
            created_at__lte=flag.window_end + around,
        )
        .exclude(id__in=flag.event_ids)
        .order_by("id")[:200]
    )
    ids = {int(e.object_id) for e in events if e.object_id.isdigit()}
    beats = dict(Household.objects.filter(id__in=ids).values_list("id", "beat__name"))
    for e in events:
        e.beat_name = beats.get(int(e.object_id)) if e.object_id.isdigit() else None  # type: ignore[attr-defined]
    return {"events": events, "nearby": nearby}


@declare_access("scoped")
@signed_in_view
@require_POST
def misuse_flag_review(request: AuthenticatedHttpRequest, misuse_flag_id: int) -> HttpResponse:
    flag = access_misuse_flag(request.user, misuse_flag_id)
    form = ReviewForm(request.POST)
    form.is_valid()
    try:
        actions.do_review_misuse_flag(
            flag, acting_officer=request.user, note=form.cleaned_data.get("note") or ""
        )
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
        return redirect("misuse_flag", flag.id)
    messages.success(request, "確認結果を記録しました。")
    return redirect("misuse_flags")


# --- the disclosure accounting (for a resident who asks who received his data) ------------


@declare_access("scoped")
@signed_in_view
def disclosure_accounting(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """Every release and print of one household's data, for its 管理責任者 or the 署長 to hand
    to the resident (printed through the API's PDF)."""
    household = access_accounting(request.user, household_id)
    return render(
        request,
        "disclosures/accounting.html",
        {"household": household, "releases": releases_of(household)},
    )
