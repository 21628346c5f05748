"""Reads of the registers: binders, the 持出確認簿, inspections (第5-3)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from junkai.access.records import deny
from junkai.access.roles import is_hq, register_scope
from junkai.access.units import record_register_read
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.org.models import Officer
from junkai.registers.models import Binder, BinderCheckout, Inspection, LossReport

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


# --- 亡失・盗難の報告 ----------------------------------------------------------------------


def loss_reports_visible_to(officer: Officer | Any) -> QuerySet[LossReport]:
    """Reports of the posts in the officer's scope, with their households."""
    where = register_scope(officer)
    return LossReport.objects.none() if where is None else LossReport.objects.filter(where)


def loss_reports_listed_for(officer: Officer | Any) -> QuerySet[LossReport]:
    """The list of reports: those in scope, and for HQ (本部地域課) every station's — as a list
    of stations, binders and progress only; HQ opens no report (its households are the
    station's personal data, DESIGN.md: HQ aggregates)."""
    if getattr(officer, "is_authenticated", False) and officer.is_active and is_hq(officer):
        return LossReport.objects.all()
    return loss_reports_visible_to(officer)


def access_loss_report(officer: Officer, report_id: int, *, record_read: bool = True) -> LossReport:
    """A loss report of a post in the officer's scope; 404 alike otherwise. A read names the
    households it shows in the audit log (each household's 閲覧記録 lists it)."""
    report = (
        loss_reports_visible_to(officer)
        .select_related("post", "post__station", "binder", "device", "reported_by", "checkout")
        .filter(id=report_id)
        .first()
    )
    if report is None:
        raise deny(officer, "registers.lossreport", report_id)
    if record_read:
        record(
            EventType.READ_REGISTER,
            actor=officer,
            obj=report,
            station_id=report.post.station_id,
            purpose="亡失・盗難の報告",
            household_ids=list(report.entries.values_list("household_id", flat=True)),
        )
    return report
