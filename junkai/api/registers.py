"""Binders and the checkout register (持出確認簿, 第6号様式) over the API.

The caller is the actor of every step. Reads go through junkai.access's scoped lookups (404
alike for absent and out of scope; each read of a register recorded), writes through
junkai.registers.actions: a rule of the 要領 that refuses answers 403 with the reason (the
borrower confirming his own checkout outside a single-officer 駐在所, a non-manager signing a
month) or 422 naming the field (a binder still out, a missing purpose).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from junkai.access.declare import declare_access
from junkai.access.units import access_register_post, record_register_read
from junkai.api.auth import request_officer
from junkai.api.boundary import Id, In, Month, Text, most
from junkai.api.schemas import ErrorsOut, Message
from junkai.lib.months import current_month, month_bounds, parse_month
from junkai.registers import actions
from junkai.registers.access import access_binders, access_checkout, binders_visible_to
from junkai.registers.actions import MAX_PURPOSE
from junkai.registers.models import (
    BinderCheckout,
    CheckoutBinder,
    CheckoutMonthReview,
    number_key,
)

router = Router(tags=["registers"])

MAX_BINDERS = 100


# --- schemas ---------------------------------------------------------------------------


class BinderParams(Schema):
    post_id: Id | None = Field(None, description="交番等ID（省略時は範囲内のすべて）")


class BinderOut(Schema):
    id: int
    number: str = Field(description="簿冊番号（カードの簿冊番号と同じ）")
    post_id: int
    title: str
    cabinet_id: int
    checked_out: bool = Field(description="持出中（返却の確認が済んでいない記載がある）")
    checkout_id: int | None = Field(description="持出中の記載のID")


class BinderList(Schema):
    items: list[BinderOut]


class CheckoutIn(In):
    binder_ids: list[Id] = Field(
        max_length=MAX_BINDERS, description="持ち出す簿冊のID（同じ交番等のもの）"
    )
    purpose: Text = Field(json_schema_extra=most(MAX_PURPOSE), description="目的")


class CheckoutOut(Schema):
    id: int
    post_id: int
    binder_ids: list[int]
    binder_numbers: list[str]
    borrower_id: int = Field(description="持出警察官")
    purpose: str
    status: str = Field(
        description=(
            "DECLARED / OUT / RETURNED / CLOSED / LOST（亡失により終了）/ REVOKED（端末の使用停止"
            "により終了: 返却ではない）"
        )
    )
    declared_at: dt.datetime = Field(description="持出日時（申告）")
    declared_to_id: int | None = Field(description="申告先（管理責任者）")
    due_at: dt.datetime = Field(description="返却期限")
    out_confirmed_by_id: int | None = Field(description="持出確認者")
    out_confirmed_at: dt.datetime | None
    returned_at: dt.datetime | None = Field(description="返却日時（持出警察官が記録）")
    return_confirmed_by_id: int | None = Field(description="返却確認者")
    return_confirmed_at: dt.datetime | None
    self_confirmed: bool = Field(description="一人勤務の駐在所で本人が確認した")
    overdue: bool


class CheckoutParams(Schema):
    post_id: Id
    month: Month | None = Field(None, description="対象月 YYYY-MM（省略時は当月）")


class CheckoutList(Schema):
    month: str
    items: list[CheckoutOut]


class ReviewIn(In):
    post_id: Id
    month: Month = Field(description="対象月 YYYY-MM")


class ReviewOut(Schema):
    id: int
    post_id: int
    month: str
    reviewed_by_id: int
    reviewed_at: dt.datetime
    entry_count: int
    open_count: int


# --- helpers ---------------------------------------------------------------------------


def _checkout_out(checkout: BinderCheckout) -> dict[str, Any]:
    lines = sorted(
        CheckoutBinder.objects.filter(checkout=checkout).select_related("binder"),
        key=lambda line: number_key(line.binder.number),
    )
    return _entry(checkout, lines)


def _entry(checkout: BinderCheckout, lines: list[CheckoutBinder]) -> dict[str, Any]:
    return {
        "id": checkout.id,
        "post_id": checkout.post_id,
        "binder_ids": [line.binder_id for line in lines],
        "binder_numbers": [line.binder.number for line in lines],
        "borrower_id": checkout.borrower_id,
        "purpose": checkout.purpose,
        "status": checkout.status.value,
        "declared_at": checkout.declared_at,
        "declared_to_id": checkout.declared_to_id,
        "due_at": checkout.due_at,
        "out_confirmed_by_id": checkout.out_confirmed_by_id,
        "out_confirmed_at": checkout.out_confirmed_at,
        "returned_at": checkout.returned_at,
        "return_confirmed_by_id": checkout.return_confirmed_by_id,
        "return_confirmed_at": checkout.return_confirmed_at,
        "self_confirmed": checkout.self_confirmed,
        "overdue": checkout.is_overdue(),
    }


def _month_or_422(text: str) -> dt.date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise ValidationError({"month": str(exc)}) from exc


# --- operations ------------------------------------------------------------------------


@router.get("/binders", response={200: BinderList, 404: Message})
@declare_access("scoped")
def binders(request: HttpRequest, params: Query[BinderParams]) -> dict[str, Any]:
    """簿冊の一覧: 自分の交番等（範囲内）の簿冊と、持出中かどうか."""
    officer = request_officer(request)
    found = binders_visible_to(officer)
    post = None
    if params.post_id is not None:
        post = access_register_post(
            officer, params.post_id, purpose="簿冊の一覧", record_read=False
        )
        found = found.filter(post=post)
    open_line = CheckoutBinder.objects.filter(binder=OuterRef("pk"), open=True)
    rows = list(
        found.annotate(
            checked_out=Exists(open_line),
            checkout_id=open_line.values("checkout_id")[:1],
        ).order_by("post_id", "number")
    )
    rows.sort(key=lambda b: (b.post_id, *number_key(b.number)))
    record_register_read(officer, post=post, purpose="簿冊の一覧")
    return {
        "items": [
            {
                "id": b.id,
                "number": b.number,
                "post_id": b.post_id,
                "title": b.title,
                "cabinet_id": b.cabinet_id,
                "checked_out": b.checked_out,
                "checkout_id": b.checkout_id,
            }
            for b in rows
        ]
    }


@router.get("/checkouts", response={200: CheckoutList, 404: Message, 422: ErrorsOut})
@declare_access("scoped")
def checkouts(request: HttpRequest, params: Query[CheckoutParams]) -> dict[str, Any]:
    """持出確認簿: 交番等の1か月分の記載（持出日時の順）."""
    officer = request_officer(request)
    month = _month_or_422(params.month) if params.month else current_month()
    post = access_register_post(officer, params.post_id, purpose="持出確認簿")
    start, end = month_bounds(month)
    entries = (
        BinderCheckout.objects.filter(post=post, declared_at__gte=start, declared_at__lt=end)
        .prefetch_related(
            Prefetch("lines", queryset=CheckoutBinder.objects.select_related("binder"))
        )
        .order_by("declared_at", "id")
    )
    items = []
    for e in entries:
        lines = sorted(e.lines.all(), key=lambda li: number_key(li.binder.number))
        items.append(_entry(e, lines))
    return {"month": f"{month:%Y-%m}", "items": items}


@router.post("/checkouts", response={201: CheckoutOut, 403: Message, 404: Message, 422: ErrorsOut})
@declare_access("scoped")
def declare_checkout(request: HttpRequest, payload: CheckoutIn) -> tuple[int, dict[str, Any]]:
    """持出しの申告（持出警察官 = 呼び出した職員）. 持出中の簿冊は 422、範囲外の簿冊は 404、
    この交番等の簿冊を持ち出せない職員は 403."""
    officer = request_officer(request)
    binders = access_binders(officer, payload.binder_ids)
    checkout = actions.do_declare_checkout(binders, acting_officer=officer, purpose=payload.purpose)
    return 201, _checkout_out(checkout)


def _step(request: HttpRequest, checkout_id: Id, step: str) -> dict[str, Any]:
    officer = request_officer(request)
    checkout = access_checkout(officer, checkout_id)
    do = {
        "confirm_out": actions.do_confirm_checkout_out,
        "return": actions.do_record_return,
        "confirm_return": actions.do_confirm_return,
    }[step]
    return _checkout_out(do(checkout, acting_officer=officer))


@router.post(
    "/checkouts/{checkout_id}/confirm-out",
    response={200: CheckoutOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def confirm_out(request: HttpRequest, checkout_id: Id) -> dict[str, Any]:
    """持出確認者の確認（持出警察官以外。一人勤務の駐在所では本人が確認し self_confirmed）."""
    return _step(request, checkout_id, "confirm_out")


@router.post(
    "/checkouts/{checkout_id}/return",
    response={200: CheckoutOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def record_return(request: HttpRequest, checkout_id: Id) -> dict[str, Any]:
    """返却の記録（持出警察官本人）."""
    return _step(request, checkout_id, "return")


@router.post(
    "/checkouts/{checkout_id}/confirm-return",
    response={200: CheckoutOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def confirm_return(request: HttpRequest, checkout_id: Id) -> dict[str, Any]:
    """返却確認者の確認. 確認が済むと簿冊は再び持ち出せます."""
    return _step(request, checkout_id, "confirm_return")


@router.post(
    "/checkout-reviews", response={201: ReviewOut, 403: Message, 404: Message, 422: ErrorsOut}
)
@declare_access("scoped")
def sign_month(request: HttpRequest, payload: ReviewIn) -> tuple[int, dict[str, Any]]:
    """持出確認簿の月次確認（管理責任者。第5-3(3)エ）."""
    officer = request_officer(request)
    month = _month_or_422(payload.month)
    post = access_register_post(
        officer, payload.post_id, purpose="持出確認簿の月次確認", record_read=False
    )
    review: CheckoutMonthReview = actions.do_sign_checkout_month(
        post, month, acting_officer=officer
    )
    return 201, {
        "id": review.id,
        "post_id": review.post_id,
        "month": f"{review.month:%Y-%m}",
        "reviewed_by_id": review.reviewed_by_id,
        "reviewed_at": review.reviewed_at,
        "entry_count": review.entry_count,
        "open_count": review.open_count,
    }
