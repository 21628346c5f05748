"""Reads of the registers: binders, the 持出確認簿, inspections (第5-3)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from junkai.access.records import deny
from junkai.access.roles import register_scope
from junkai.access.units import record_register_read
from junkai.org.models import Officer
from junkai.registers.models import Binder, BinderCheckout, Inspection

# --- registers: binders, the checkout register, keys, inspections (第5-3) ------------


def binders_visible_to(officer: Officer | Any) -> QuerySet[Binder]:
    where = register_scope(officer)
    return Binder.objects.none() if where is None else Binder.objects.filter(where)


def checkouts_visible_to(officer: Officer | Any) -> QuerySet[BinderCheckout]:
    where = register_scope(officer)
    return BinderCheckout.objects.none() if where is None else BinderCheckout.objects.filter(where)


def inspections_visible_to(officer: Officer | Any) -> QuerySet[Inspection]:
    where = register_scope(officer)
    return Inspection.objects.none() if where is None else Inspection.objects.filter(where)


def access_binders(officer: Officer, binder_ids: list[int]) -> list[Binder]:
    """Binders named by id, in the order given; 404 alike if any is absent or out of scope."""
    wanted = list(dict.fromkeys(binder_ids))
    found = {b.id: b for b in binders_visible_to(officer).filter(id__in=wanted)}
    for binder_id in wanted:
        if binder_id not in found:
            raise deny(officer, "registers.binder", binder_id)
    return [found[i] for i in wanted]


def access_checkout(officer: Officer, checkout_id: int) -> BinderCheckout:
    """An entry of the 持出確認簿 of a post in the officer's scope; 404 otherwise."""
    checkout = (
        checkouts_visible_to(officer)
        .select_related("post", "post__station", "borrower")
        .filter(id=checkout_id)
        .first()
    )
    if checkout is None:
        raise deny(officer, "registers.bindercheckout", checkout_id)
    return checkout


def access_inspection(
    officer: Officer, inspection_id: int, *, record_read: bool = True
) -> Inspection:
    """An inspection of a post in the officer's scope; 404 otherwise. The view is recorded."""
    inspection = (
        inspections_visible_to(officer)
        .select_related("post", "post__station", "inspector", "closed_by")
        .filter(id=inspection_id)
        .first()
    )
    if inspection is None:
        raise deny(officer, "registers.inspection", inspection_id)
    if record_read:
        record_register_read(officer, post=inspection.post, purpose="巡視・点検", obj=inspection)
    return inspection
