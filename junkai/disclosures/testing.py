"""Fixtures for tests that walk every URL (junkai/web/tests/test_access_walk.py)."""

from __future__ import annotations

from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import actions
from junkai.households.access import access_household
from junkai.households.models import Household
from junkai.org.models import Officer


def disclosure_walk_ids(household: Household, username: str) -> dict[str, int]:
    """A 利用確認簿 entry, an agency request and a misuse flag at the household's post, recorded
    by the named beat officer of that post: the ids the walk substitutes for *_id."""
    officer = Officer.objects.get(username=username)
    data_use = actions.do_record_data_use(
        acting_officer=officer,
        requester_name="巡査 試験",
        requester_unit="刑事課",
        requester_prefecture="北海道",
        police_phone="7-0000",
        purpose="試験",
        household_ids=[household.id],
    )
    agency_request = actions.do_record_agency_request(
        acting_officer=officer,
        agency_name="市役所",
        recipient_name="試験",
        recipient_contact="000-0000",
        purpose="試験",
        legal_basis="試験",
        household_ids=[household.id],
    )
    access_household(officer, household.id, purpose="試験")
    read = AuditEvent.objects.filter(event_type=EventType.READ_HOUSEHOLD, actor=officer).latest(
        "id"
    )
    flag = actions.do_raise_misuse_flag(
        station_id=household.station_id,
        post_id=household.post_id,
        officer_id=officer.id,
        kind="UNEXPLAINED",
        window_start=read.created_at,
        window_end=read.created_at,
        event_ids=[read.id],
        household_count=1,
    )
    return {
        "data_use_id": data_use.id,
        "agency_request_id": agency_request.id,
        "misuse_flag_id": flag.id,
    }
