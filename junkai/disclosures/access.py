"""Reads of the 利用確認簿, agency requests and misuse flags (第5-4(2))."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from junkai.access.records import deny
from junkai.access.roles import flag_reader_filter, is_disclosure_manager, may_handle, unit_scope
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.disclosures.models import AgencyRequest, DataUse, MisuseFlag
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Officer

# --- disclosures: 利用確認簿, agency requests, misuse flags (第5-4(2)) ----------------


def data_uses_visible_to(officer: Officer | Any) -> QuerySet[DataUse]:
    """利用確認簿 entries of the units in the officer's scope (not yet a recorded read)."""
    in_scope = unit_scope(officer)
    if in_scope is None:
        return DataUse.objects.none()
    return DataUse.objects.filter(in_scope)


def agency_requests_visible_to(officer: Officer | Any) -> QuerySet[AgencyRequest]:
    in_scope = unit_scope(officer)
    if in_scope is None:
        return AgencyRequest.objects.none()
    return AgencyRequest.objects.filter(in_scope)


def access_data_use(
    officer: Officer,
    data_use_id: int,
    *,
    purpose: str = "利用確認簿の閲覧",
    record_read: bool = True,
) -> DataUse:
    """One 利用確認簿 entry for the officer; 404 alike for absent and out of scope.

    The entry names households (addresses, the requester): its read goes to the log.
    """
    entry = (
        data_uses_visible_to(officer)
        .select_related("station", "post", "recorded_by", "verified_by", "approved_by")
        .filter(id=data_use_id)
        .first()
    )
    if entry is None:
        raise deny(officer, "disclosures.datause", data_use_id)
    if record_read:
        record(
            EventType.READ_DISCLOSURE,
            actor=officer,
            obj=entry,
            station_id=entry.station_id,
            purpose=purpose,
        )
    return entry


def access_agency_request(
    officer: Officer,
    agency_request_id: int,
    *,
    purpose: str = "照会の閲覧",
    record_read: bool = True,
) -> AgencyRequest:
    entry = (
        agency_requests_visible_to(officer)
        .select_related("station", "post", "recorded_by", "decided_by")
        .filter(id=agency_request_id)
        .first()
    )
    if entry is None:
        raise deny(officer, "disclosures.agencyrequest", agency_request_id)
    if record_read:
        record(
            EventType.READ_DISCLOSURE,
            actor=officer,
            obj=entry,
            station_id=entry.station_id,
            purpose=purpose,
        )
    return entry


def may_handle_agency_request(officer: Officer, entry: AgencyRequest) -> bool:
    """Attach the written request to, and release data for, an agency request: those who hold
    the unit's cards (`may_handle`) and its 管理責任者, who decides on it."""
    return may_handle(officer, entry.station_id, entry.post_id) or is_disclosure_manager(
        officer, entry.station_id, entry.post_id
    )


def misuse_flags_visible_to(officer: Officer) -> QuerySet[MisuseFlag]:
    readers = flag_reader_filter(officer)
    if readers is None:
        return MisuseFlag.objects.none()
    return MisuseFlag.objects.filter(readers)


def access_misuse_flag(officer: Officer, misuse_flag_id: int) -> MisuseFlag:
    """A flag for its manager: 404 out of scope; 403 for others in scope (it names an officer
    and the audit events behind it). The read of those events is recorded."""

    in_scope = unit_scope(officer)
    flag = (
        MisuseFlag.objects.filter(in_scope, id=misuse_flag_id)
        .select_related("officer", "station", "post", "reviewed_by")
        .first()
        if in_scope is not None
        else None
    )
    if flag is None:
        raise deny(officer, "disclosures.misuseflag", misuse_flag_id)
    if not misuse_flags_visible_to(officer).filter(id=flag.id).exists():
        deny(officer, "disclosures.misuseflag", misuse_flag_id)
        raise PermissionDeniedError("不適正利用の兆候は管理責任者と警察署長のみが確認できます")
    record(
        EventType.READ_AUDIT_LOG,
        actor=officer,
        obj=flag,
        station_id=flag.station_id,
        purpose="不適正利用の兆候の確認",
    )
    return flag


def may_review_flag(officer: Officer, flag: MisuseFlag) -> bool:
    """The manager reviews; a flag about the manager himself goes to the 署長 alone."""
    if flag.officer_id == officer.id:
        return False
    return misuse_flags_visible_to(officer).filter(id=flag.id).exists()
