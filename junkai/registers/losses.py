"""Selectors of 亡失・盗難の報告: the open reports an officer must act on (the 要対応 inbox
asks this), and a report's households with their progress."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from junkai.access.roles import loss_report_units
from junkai.org.models import Officer
from junkai.registers.models import LossReport, LossReportStatus


def open_loss_reports_for(officer: Officer | Any) -> QuerySet[LossReport]:
    """Open reports that reach the officer: those of his station for the 署長 and the 地域課長,
    of his post for its 取扱責任者 and 交番所長, every one for HQ, and those he reported himself.
    Newest first, each with `household_count` and `pending_count` (households not yet done)."""
    units, hq = loss_report_units(officer)
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return LossReport.objects.none()
    where = (
        Q()
        if hq
        else Q(post__station_id__in=units.station_ids)
        | Q(post_id__in=units.post_ids)
        | Q(reported_by_id=officer.id)
    )
    return with_progress(
        LossReport.objects.filter(where, status=LossReportStatus.OPEN)
        .select_related("post", "post__station", "binder", "device")
        .order_by("-reported_at", "-id")
    )


def with_progress(reports: QuerySet[LossReport]) -> QuerySet[LossReport]:
    """Annotate each report with its households and those not yet done."""
    return reports.annotate(
        household_count=Count("entries", distinct=True),
        pending_count=Count(
            "entries",
            filter=Q(entries__informed_at__isnull=True)
            | Q(found_at__isnull=True, entries__card_recreated_at__isnull=True),
            distinct=True,
        ),
    )
