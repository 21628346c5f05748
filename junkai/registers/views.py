"""The register pages of 第5-3: a post's binders, cabinet and key holder; the 持出確認簿
(第6号様式) month by month with its four steps; overdue alerts; the manager's monthly review;
the key's custody; inspections (巡視・点検) and their follow-up.

Reads go through junkai.access (scope, 404 alike, the read recorded), writes through
junkai.registers.actions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import (
    alert_posts,
    can_write_post,
    custodians_of,
    eligible_key_holders,
    is_custodian,
    is_post_manager,
    keeps_post,
    managed_posts,
    managers_of,
    may_inspect,
    posts_visible_to,
    review_watch_posts,
)
from junkai.access.units import access_managed_post, access_register_post, record_register_read
from junkai.accounts.cosign import CoSignRefused, co_signer
from junkai.households.models import CardStatus, ContactCard
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors
from junkai.lib.months import (
    current_month,
    due_for,
    month_bounds,
    month_label,
    next_month,
    previous_month,
)
from junkai.org.models import KeyDeputy, Officer, Post, today
from junkai.registers import actions
from junkai.registers.access import access_checkout, access_inspection, inspections_visible_to
from junkai.registers.forms import (
    BinderForm,
    CabinetForm,
    CheckoutForm,
    FollowUpForm,
    InspectionForm,
    KeyHandoverForm,
)
from junkai.registers.models import (
    OPEN_CHECKOUT,
    Binder,
    BinderCheckout,
    Cabinet,
    CheckoutBinder,
    CheckoutMonthReview,
    CheckoutStatus,
    FollowUpStatus,
    Inspection,
    InspectionStatus,
    KeyCustody,
    LossReport,
    number_key,
)
from junkai.registers.reviews import MonthState, month_grid, overdue_months


def _month(year: int | None, month: int | None) -> dt.date:
    if year is None or month is None:
        return current_month()
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise Http404("見つかりません")
    return dt.date(year, month, 1)


#: An entry for a device (junkai.devices, which stands on this app) names the device and the
#: beat in the 簿冊番号 column: joined by name here, so each row costs no query of its own.
DEVICE_ROW = ("device_checkout__device", "device_checkout__beat")


def _entries(post: Post) -> QuerySet[BinderCheckout]:
    return (
        BinderCheckout.objects.filter(post=post)
        # A device reported lost on this entry: its report, in the same query.
        .annotate(
            device_loss_id=Subquery(
                LossReport.objects.filter(checkout=OuterRef("pk"), device__isnull=False)
                .order_by("-id")
                .values("id")[:1]
            )
        )
        .select_related(
            "borrower",
            "declared_to",
            "out_confirmed_by",
            "return_confirmed_by",
            *DEVICE_ROW,
        )
        .prefetch_related(
            Prefetch("lines", queryset=CheckoutBinder.objects.select_related("binder"))
        )
        .order_by("declared_at", "id")
    )


def _mark_steps(officer: Officer, post: Post, entries: list[BinderCheckout]) -> None:
    """Which of the four buttons this officer gets on each row (the actions check again)."""
    # The rule depends only on whether he is the borrower: ask it once for each case.
    self_ok = actions.confirmation_refusal(officer, post=post, borrower_id=officer.id) is None
    may_confirm = actions.confirmation_refusal(officer, post=post, borrower_id=None) is None
    mfa_on = bool(settings.JUNKAI_REQUIRE_MFA)
    now = timezone.now()
    for e in entries:
        own = e.borrower_id == officer.id
        confirms = self_ok if own else may_confirm
        status = e.status
        e.can_confirm_out = status == CheckoutStatus.DECLARED and confirms  # type: ignore[attr-defined]
        e.can_return = status == CheckoutStatus.OUT and own  # type: ignore[attr-defined]
        e.can_confirm_return = status == CheckoutStatus.RETURNED and confirms  # type: ignore[attr-defined]
        # Who cannot confirm (the borrower on the 交番's shared tablet) may hand the device to
        # a second officer, who confirms with his own ID and password (accounts.cosign).
        e.co_sign = not confirms and status in (CheckoutStatus.DECLARED, CheckoutStatus.RETURNED)  # type: ignore[attr-defined]
        e.mfa = mfa_on  # type: ignore[attr-defined]
        e.overdue = e.is_overdue(now)  # type: ignore[attr-defined]


# --- index and a post's binders -------------------------------------------------------------


@declare_access("scoped")
@signed_in_view
def registers_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The posts in the officer's scope with their binders out and overdue."""
    now = timezone.now()
    open_entries = BinderCheckout.objects.filter(OPEN_CHECKOUT, post=OuterRef("pk"))
    posts = (
        posts_visible_to(request.user)
        .select_related("station")
        .annotate(
            binder_count=Count("binders", distinct=True),
            has_open=Exists(open_entries),
            has_overdue=Exists(open_entries.filter(due_at__lt=now)),
        )
        .order_by("station__code", "code")
    )
    out = dict(
        CheckoutBinder.objects.filter(open=True, binder__post__in=posts)
        .values("binder__post_id")
        .annotate(n=Count("id"))
        .values_list("binder__post_id", "n")
    )
    rows = [(p, out.get(p.id, 0)) for p in posts]
    return render(
        request,
        "registers/index.html",
        {
            "rows": rows,
            "has_alerts": alert_posts(request.user).exists()
            or review_watch_posts(request.user).exists(),
            "manages": managed_posts(request.user).exists(),
        },
    )


@declare_access("scoped")
@signed_in_view
def register_post(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    """簿冊一覧: each binder with its cabinet, the cards it holds, and whether it is out."""
    officer = request.user
    post = access_register_post(officer, post_id, purpose="簿冊・保管庫")
    binders = list(Binder.objects.filter(post=post).select_related("cabinet").order_by("number"))
    binders.sort(key=lambda b: number_key(b.number))
    cards = {
        row["binder_number"]: row
        for row in ContactCard.objects.filter(post=post, status=CardStatus.ACTIVE)
        .values("binder_number")
        .annotate(n=Count("id"), first=Min("index_number"), last=Max("index_number"))
        .order_by()
    }
    out = {
        line.binder_id: line.checkout
        for line in CheckoutBinder.objects.filter(binder__post=post, open=True).select_related(
            "checkout", "checkout__borrower"
        )
    }
    lost = {
        r.binder_id: r for r in LossReport.objects.filter(binder__post=post, found_at__isnull=True)
    }
    for b in binders:
        b.card_info = cards.pop(b.number, None)  # type: ignore[attr-defined]
        b.out_entry = out.get(b.id)  # type: ignore[attr-defined]
        b.loss = lost.get(b.id)  # type: ignore[attr-defined]
    no_number = cards.pop("", None)
    unregistered = sorted(cards.values(), key=lambda r: number_key(r["binder_number"]))
    cabinets = list(Cabinet.objects.filter(post=post).order_by("name"))
    for c in cabinets:
        c.custody = actions.current_key_custody(c)  # type: ignore[attr-defined]
    # The post's devices that carry beats (junkai.devices stands on this app: read by name),
    # each with its open entry of the 持出確認簿 or its loss report.
    devices = list(post.devices.order_by("label"))
    device_out = {
        e.device_checkout.device_id: e
        for e in BinderCheckout.objects.filter(
            OPEN_CHECKOUT, post=post, device_checkout__isnull=False
        ).select_related("device_checkout", "device_checkout__beat", "borrower")
    }
    device_lost = {
        r.device_id: r for r in LossReport.objects.filter(device__post=post, found_at__isnull=True)
    }
    for d in devices:
        d.out_entry = device_out.get(d.id)  # type: ignore[attr-defined]
        d.loss = device_lost.get(d.id)  # type: ignore[attr-defined]
    return render(
        request,
        "registers/post.html",
        {
            "post": post,
            "devices": devices,
            "binders": binders,
            "cabinets": cabinets,
            "unregistered": unregistered,
            "no_number": no_number,
            "keeper": keeps_post(officer, post),
            "can_declare": can_write_post(officer, post.id) and bool(binders),
            "can_inspect": may_inspect(officer, post),
        },
    )


def _keeper_post(request: AuthenticatedHttpRequest, post_id: int, what: str) -> Post:
    post = access_register_post(request.user, post_id, purpose=what, record_read=False)
    if not keeps_post(request.user, post):
        raise PermissionDeniedError(f"{what}は取扱責任者、交番所長または管理責任者が行います")
    return post


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def binder_new(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    post = _keeper_post(request, post_id, "簿冊の登録")
    cabinets = Cabinet.objects.filter(post=post).order_by("name")
    form = BinderForm(request.POST or None, cabinets=cabinets)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                binder = actions.do_create_binder(
                    post,
                    acting_officer=request.user,
                    number=form.cleaned_data["number"],
                    title=form.cleaned_data["title"],
                    cabinet=form.cleaned_data["cabinet"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"簿冊 {binder.number} を登録しました。")
                return redirect("register_post", post_id=post.id)
    return render(
        request,
        "registers/binder_form.html",
        {"post": post, "form": form, "no_cabinet": not cabinets.exists()},
        status=status,
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def cabinet_new(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    post = _keeper_post(request, post_id, "保管庫の登録")
    form = CabinetForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                cabinet = actions.do_create_cabinet(
                    post,
                    acting_officer=request.user,
                    name=form.cleaned_data["name"],
                    location=form.cleaned_data["location"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"保管庫「{cabinet.name}」を登録しました。")
                return redirect("register_post", post_id=post.id)
    return render(
        request, "registers/cabinet_form.html", {"post": post, "form": form}, status=status
    )


# --- the 持出確認簿 ------------------------------------------------------------------------


@declare_access("scoped")
@signed_in_view
def checkout_register(
    request: AuthenticatedHttpRequest,
    post_id: int,
    year: int | None = None,
    month: int | None = None,
) -> HttpResponse:
    """巡回連絡カード持出確認簿 (第6号様式) of a post for one month, with the four steps."""
    officer = request.user
    first = _month(year, month)
    post = access_register_post(officer, post_id, purpose="持出確認簿")
    start, end = month_bounds(first)
    entries = list(_entries(post).filter(declared_at__gte=start, declared_at__lt=end))
    # Entries of earlier months still open belong on today's page too: they are still out.
    earlier = (
        list(_entries(post).filter(OPEN_CHECKOUT, declared_at__lt=start))
        if first == current_month()
        else []
    )
    _mark_steps(officer, post, entries + earlier)
    review = (
        CheckoutMonthReview.objects.filter(post=post, month=first)
        .select_related("reviewed_by")
        .first()
    )
    now_month = current_month()
    return render(
        request,
        "registers/checkout_register.html",
        {
            "post": post,
            "month": first,
            "month_label": month_label(first),
            "entries": entries,
            "earlier": earlier,
            "review": review,
            "review_overdue": review is None and first < now_month,
            "previous": previous_month(first),
            "next": next_month(first) if first < now_month else None,
            "is_current": first == now_month,
            "can_declare": can_write_post(officer, post.id)
            and Binder.objects.filter(post=post).exists(),
            "is_manager": is_post_manager(officer, post.id),
        },
    )


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def checkout_new(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    """持出しの申告: choose the binders and say why; the manager is the one declared to."""
    officer = request.user
    post = access_register_post(officer, post_id, purpose="持出しの申告", record_read=False)
    if not can_write_post(officer, post.id):
        raise PermissionDeniedError(
            f"{post}の簿冊を持ち出す権限がありません（持ち出せるのはこの交番等の警察官です）"
        )
    record_register_read(officer, post=post, purpose="持出しの申告")
    # A binder reported lost or stolen (and not found) is out of service: not offered.
    binders = (
        Binder.objects.filter(post=post)
        .exclude(
            id__in=LossReport.objects.filter(found_at__isnull=True, binder__isnull=False).values(
                "binder_id"
            )
        )
        .select_related("cabinet")
        .order_by("number")
    )
    form = CheckoutForm(request.POST or None, binders=binders)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                checkout = actions.do_declare_checkout(
                    list(form.cleaned_data["binder_ids"]),
                    acting_officer=officer,
                    purpose=form.cleaned_data["purpose"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                numbers = "、".join(line.binder.number for line in checkout.lines.all())
                messages.success(
                    request,
                    f"簿冊 {numbers} の持出しを申告しました。持出確認者の確認を受けてください。",
                )
                return redirect("checkout_register", post_id=post.id)
    out = {
        line.binder_id: line.checkout
        for line in CheckoutBinder.objects.filter(binder__post=post, open=True).select_related(
            "checkout__borrower"
        )
    }
    choices = [(widget, out.get(binder.id)) for widget, binder in form.binder_picks()]
    return render(
        request,
        "registers/checkout_form.html",
        {
            "post": post,
            "form": form,
            "choices": choices,
            "managers": list(managers_of(post)),
            "self_confirm": post.single_officer,
            "due": due_for(timezone.now()),
        },
        status=status,
    )


def _checkout_step(request: AuthenticatedHttpRequest, checkout_id: int, step: str) -> HttpResponse:
    officer = request.user
    checkout = access_checkout(officer, checkout_id)
    do = {
        "confirm_out": actions.do_confirm_checkout_out,
        "return": actions.do_record_return,
        "confirm_return": actions.do_confirm_return,
    }[step]
    acting = officer
    if step != "return" and "co_username" in request.POST:
        # The second officer on this device, by his own credentials (accounts.cosign): the
        # step is his, the session stays the first officer's.
        try:
            acting = co_signer(
                request,
                username=request.POST.get("co_username", ""),
                password=request.POST.get("co_password", ""),
                otp_token=request.POST.get("co_otp", ""),
            )
        except CoSignRefused as refused:
            messages.error(request, str(refused))
            return _back_to_register(checkout)
    try:
        checkout = do(checkout, acting_officer=acting)
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    except PermissionDeniedError as refused:
        if acting is officer:
            raise
        messages.error(request, f"{acting.full_name}さん: {refused}")
        return _back_to_register(checkout)
    else:
        numbers = "、".join(line.binder.number for line in checkout.lines.select_related("binder"))
        what = f"簿冊 {numbers}"
        # A device's entry (junkai.devices stands on this app: reached by the relation's name).
        device = getattr(checkout, "device_checkout", None)
        if device is not None:
            what = f"端末 {device.device.label}（受持区 {device.beat.name}）"
        done = {
            "confirm_out": "の持出しを確認しました",
            "return": "の返却を記録しました。返却確認者の確認を受けてください",
            "confirm_return": "の返却を確認しました",
        }[step]
        note = (
            "（一人勤務の駐在所のため本人確認）"
            if checkout.self_confirmed and step != "return"
            else ""
        )
        who = f"（確認者 {acting}）" if acting is not officer else ""
        messages.success(request, f"{what} {done}{note}{who}。")
    return _back_to_register(checkout)


def _back_to_register(checkout: BinderCheckout) -> HttpResponse:
    local = timezone.localtime(checkout.declared_at)
    if (local.year, local.month) == (current_month().year, current_month().month):
        return redirect("checkout_register", post_id=checkout.post_id)
    return redirect(
        "checkout_register_month", post_id=checkout.post_id, year=local.year, month=local.month
    )


@declare_access("scoped")
@signed_in_view
@sensitive_post_parameters("co_password", "co_otp")
@require_POST
def checkout_confirm_out(request: AuthenticatedHttpRequest, checkout_id: int) -> HttpResponse:
    return _checkout_step(request, checkout_id, "confirm_out")


@declare_access("scoped")
@signed_in_view
@require_POST
def checkout_return(request: AuthenticatedHttpRequest, checkout_id: int) -> HttpResponse:
    return _checkout_step(request, checkout_id, "return")


@declare_access("scoped")
@signed_in_view
@sensitive_post_parameters("co_password", "co_otp")
@require_POST
def checkout_confirm_return(request: AuthenticatedHttpRequest, checkout_id: int) -> HttpResponse:
    return _checkout_step(request, checkout_id, "confirm_return")


# --- alerts and the monthly review ----------------------------------------------------------


@declare_access("scoped")
@signed_in_view
def register_alerts(request: AuthenticatedHttpRequest) -> HttpResponse:
    """未返却の警告 (to the custodian and the manager) and unsigned months (to the manager and
    the station chief)."""
    officer = request.user
    chased_posts = alert_posts(officer)
    watch = list(review_watch_posts(officer).select_related("station").order_by("code"))
    overdue = list(
        BinderCheckout.objects.filter(
            OPEN_CHECKOUT, post__in=chased_posts, due_at__lt=timezone.now()
        )
        .select_related("post", "borrower", "out_confirmed_by", *DEVICE_ROW)
        .prefetch_related(
            Prefetch("lines", queryset=CheckoutBinder.objects.select_related("binder"))
        )
        .order_by("due_at", "id")
    )
    for e in overdue:
        e.overdue = True  # type: ignore[attr-defined]
    if overdue:
        record_register_read(officer, post=None, purpose="未返却の警告")
    return render(
        request,
        "registers/alerts.html",
        {
            "overdue": overdue,
            "months": overdue_months(watch) if watch else [],
            "receives_checkouts": chased_posts.exists(),
            "receives_months": bool(watch),
            "manages": managed_posts(officer).exists(),
        },
    )


@declare_access("post_manager")
@signed_in_view
def checkout_reviews(request: AuthenticatedHttpRequest) -> HttpResponse:
    """持出確認簿の月次確認: months × the posts the manager is 管理責任者 of."""
    posts = list(managed_posts(request.user).select_related("station").order_by("code"))
    if not posts:
        raise Http404("見つかりません")
    months, rows = month_grid(posts)
    by_month = [(m, [cells[i] for _, cells in rows]) for i, m in enumerate(months)]
    overdue = sum(1 for _, cells in rows for c in cells if c.state == MonthState.OVERDUE)
    return render(
        request,
        "registers/reviews.html",
        {"posts": posts, "by_month": by_month, "overdue": overdue},
    )


@declare_access("post_manager")
@signed_in_view
@require_http_methods(["GET", "POST"])
def checkout_review_month(
    request: AuthenticatedHttpRequest, post_id: int, year: int, month: int
) -> HttpResponse:
    """One post's month of the register, read by the manager and signed."""
    officer = request.user
    post = access_managed_post(officer, post_id)
    first = _month(year, month)
    if request.method == "POST":
        try:
            actions.do_sign_checkout_month(post, first, acting_officer=officer)
        except ValidationError as error:
            messages.error(request, "、".join(error.messages))
            return redirect(
                "checkout_review_month", post_id=post.id, year=first.year, month=first.month
            )
        messages.success(request, f"{post}の{month_label(first)}分の持出確認簿を確認しました。")
        return redirect("checkout_reviews")
    record_register_read(officer, post=post, purpose="持出確認簿の月次確認")
    start, end = month_bounds(first)
    entries = list(_entries(post).filter(declared_at__gte=start, declared_at__lt=end))
    now = timezone.now()
    for e in entries:
        e.overdue = e.is_overdue(now)  # type: ignore[attr-defined]
    review = (
        CheckoutMonthReview.objects.filter(post=post, month=first)
        .select_related("reviewed_by")
        .first()
    )
    return render(
        request,
        "registers/review_month.html",
        {
            "post": post,
            "month": first,
            "month_label": month_label(first),
            "entries": entries,
            "review": review,
            "can_sign": review is None and first <= current_month(),
            "is_current": first == current_month(),
            "incomplete": [e for e in entries if e.is_open],
            "self_confirmed": [e for e in entries if e.self_confirmed],
        },
    )


# --- the cabinet key ------------------------------------------------------------------------


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def key_custody(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    """保管庫の鍵: who holds it now, every handover, and the handover form."""
    officer = request.user
    post = access_register_post(officer, post_id, purpose="保管庫の鍵の引継ぎ")
    cabinets = Cabinet.objects.filter(post=post).order_by("name")
    eligible = eligible_key_holders(post, today())
    holders = {c.id: actions.current_key_custody(c) for c in cabinets}
    holder_ids = {h.to_officer_id for h in holders.values() if h is not None}
    may_record = (
        officer.id in holder_ids
        or eligible.filter(id=officer.id).exists()
        or is_custodian(officer, post.id)
        or is_post_manager(officer, post.id)
    )
    form = KeyHandoverForm(
        request.POST or None,
        cabinets=cabinets,
        officers=eligible.order_by("username"),
        initial={"cabinet": cabinets.first()},
    )
    status = 200
    if request.method == "POST":
        if not may_record:
            raise PermissionDeniedError(
                "鍵の引継ぎを記録できるのは、鍵を引き渡す者・受け取る者、取扱責任者または"
                "管理責任者です"
            )
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                custody = actions.do_hand_over_key(
                    data["cabinet"],
                    data["to_officer"],
                    acting_officer=officer,
                    reason=data["reason"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request, f"鍵の引継ぎを記録しました（保管者: {custody.to_officer}）。"
                )
                return redirect("key_custody", post_id=post.id)
    history = list(
        KeyCustody.objects.filter(cabinet__post=post)
        .select_related("cabinet", "from_officer", "to_officer", "recorded_by")
        .order_by("-handed_at", "-id")[:100]
    )
    deputies = (
        KeyDeputy.objects.filter(post=post, valid_from__lte=today())
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today()))
        .select_related("officer", "designated_by")
    )
    rows = [(c, holders[c.id]) for c in cabinets]
    return render(
        request,
        "registers/key_custody.html",
        {
            "post": post,
            "rows": rows,
            "history": history,
            "deputies": deputies,
            "custodians": list(custodians_of(post)),
            "form": form if may_record and rows else None,
            "is_manager": is_post_manager(officer, post.id),
        },
        status=status,
    )


# --- inspections ----------------------------------------------------------------------------


@declare_access("scoped")
@signed_in_view
def inspections(request: AuthenticatedHttpRequest) -> HttpResponse:
    """巡視・点検の一覧 (posts in scope), open ones first, and the posts one may inspect."""
    officer = request.user
    visible = inspections_visible_to(officer)
    post_filter = request.GET.get("post", "")
    if post_filter.isdigit():
        visible = visible.filter(post_id=int(post_filter))
    rows = list(
        visible.select_related("post", "inspector")
        .annotate(open_items=Count("follow_ups", filter=Q(follow_ups__status=FollowUpStatus.OPEN)))
        .order_by("status", "-inspected_on", "-id")[:200]
    )
    posts = [
        p
        for p in posts_visible_to(officer).select_related("station").order_by("code")
        if may_inspect(officer, p)
    ]
    return render(
        request,
        "registers/inspections.html",
        {"rows": rows, "posts": posts, "open": InspectionStatus.OPEN},
    )


def _post_facts(post: Post) -> dict[str, Any]:
    """What the registers say about a post, beside the inspector's own checklist."""
    last_month = previous_month(current_month())
    open_entries = BinderCheckout.objects.filter(OPEN_CHECKOUT, post=post)
    holder = None
    cabinet = Cabinet.objects.filter(post=post).order_by("name").first()
    if cabinet is not None:
        holder = actions.current_key_custody(cabinet)
    return {
        "binders": Binder.objects.filter(post=post).count(),
        "open": open_entries.count(),
        "overdue": open_entries.filter(due_at__lt=timezone.now()).count(),
        "last_month": month_label(last_month),
        "last_month_signed": CheckoutMonthReview.objects.filter(
            post=post, month=last_month
        ).exists(),
        "key_holder": holder.to_officer if holder else None,
        "cabinet": cabinet,
    }


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def inspection_new(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    officer = request.user
    post = access_register_post(officer, post_id, purpose="巡視・点検", record_read=False)
    if not may_inspect(officer, post):
        raise PermissionDeniedError(
            "巡視・点検の記録は地域課長代理・交番所長（巡視する者）または管理責任者が行います"
        )
    form = InspectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                inspection = actions.do_record_inspection(
                    post,
                    acting_officer=officer,
                    inspected_on=data["inspected_on"],
                    checklist=form.checklist(),
                    findings=data["findings"],
                    guidance=data["guidance"],
                    follow_ups=form.follow_up_lines(),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"{post}の巡視・点検を記録しました。")
                return redirect("inspection_detail", inspection_id=inspection.id)
    else:
        record_register_read(officer, post=post, purpose="巡視・点検")
    return render(
        request,
        "registers/inspection_form.html",
        {"post": post, "form": form, "facts": _post_facts(post)},
        status=status,
    )


@declare_access("scoped")
@signed_in_view
def inspection_detail(request: AuthenticatedHttpRequest, inspection_id: int) -> HttpResponse:
    officer = request.user
    inspection = access_inspection(officer, inspection_id)
    return _inspection_page(request, inspection)


def _inspection_page(
    request: AuthenticatedHttpRequest,
    inspection: Inspection,
    *,
    form: FollowUpForm | None = None,
    status: int = 200,
) -> HttpResponse:
    officer = request.user
    post = inspection.post
    items = list(inspection.follow_ups.select_related("done_by"))
    may_report = can_write_post(officer, post.id) or may_inspect(officer, post)
    open_items = [i for i in items if i.status == FollowUpStatus.OPEN]
    may_close = inspection.status == InspectionStatus.OPEN and (
        officer.id == inspection.inspector_id or may_inspect(officer, post)
    )
    return render(
        request,
        "registers/inspection_detail.html",
        {
            "inspection": inspection,
            "post": post,
            "items": items,
            "may_report": may_report and inspection.status == InspectionStatus.OPEN,
            "may_close": may_close,
            "open_items": len(open_items),
            "form": form,
            "open": InspectionStatus.OPEN,
            "item_open": FollowUpStatus.OPEN,
        },
        status=status,
    )


@declare_access("scoped")
@signed_in_view
@require_POST
def inspection_follow_up(request: AuthenticatedHttpRequest, inspection_id: int) -> HttpResponse:
    officer = request.user
    inspection = access_inspection(officer, inspection_id, record_read=False)
    form = FollowUpForm(request.POST, items=inspection.follow_ups.all())
    if form.is_valid():
        try:
            actions.do_follow_up(
                form.cleaned_data["item"],
                acting_officer=officer,
                action_taken=form.cleaned_data["action_taken"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "措置を報告しました。")
            return redirect("inspection_detail", inspection_id=inspection.id)
    return _inspection_page(request, inspection, form=form, status=422)


@declare_access("scoped")
@signed_in_view
@require_POST
def inspection_close(request: AuthenticatedHttpRequest, inspection_id: int) -> HttpResponse:
    officer = request.user
    inspection = access_inspection(officer, inspection_id, record_read=False)
    try:
        actions.do_close_inspection(inspection, acting_officer=officer)
    except ValidationError as error:
        messages.error(request, "、".join(error.messages))
    else:
        messages.success(request, "巡視・点検を完了にしました。")
    return redirect("inspection_detail", inspection_id=inspection.id)
