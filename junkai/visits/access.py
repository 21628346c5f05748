"""Reads of the visits' records: concerns, night-visit requests, refusal and observation reports."""

from __future__ import annotations

from junkai.access.records import access_unit_row, deny
from junkai.access.roles import is_section_chief
from junkai.households.access import access_household, households_visible_to
from junkai.org.models import Officer
from junkai.visits.models import Concern, InfoReport, NightVisitApproval, RefusalReport


def access_concern(officer: Officer, concern_id: int) -> Concern:
    """A concern of a household in the officer's scope; the read of its household is recorded."""
    concern = (
        Concern.objects.filter(id=concern_id, household__in=households_visible_to(officer))
        .select_related("owner", "visit", "visit__officer")
        .first()
    )
    if concern is None:
        raise deny(officer, "visits.concern", concern_id)
    concern.household = access_household(officer, concern.household_id, purpose="困りごと等の対応")
    return concern


def access_night_approval(officer: Officer, approval_id: int) -> NightVisitApproval:
    """A night-visit request of a post or station in the officer's scope; 404 otherwise."""
    approval: NightVisitApproval = access_unit_row(
        officer, NightVisitApproval, approval_id, "visits.nightvisitapproval"
    )
    return approval


def access_refusal_report(officer: Officer, report_id: int) -> RefusalReport:
    report: RefusalReport = access_unit_row(
        officer, RefusalReport, report_id, "visits.refusalreport"
    )
    return report


def access_info_report(officer: Officer, report_id: int) -> InfoReport:
    """Observations go to the 地域課長: only he reads them."""
    report = InfoReport.objects.filter(id=report_id).first()
    if report is None or not is_section_chief(officer, report.station_id):
        raise deny(officer, "visits.inforeport", report_id)
    return report
