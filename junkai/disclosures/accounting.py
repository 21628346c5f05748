"""Disclosure accounting: for a resident who asks "who has received my data?".

One list per household of every release of its personal data: the 利用確認簿 entries released
(another unit of this prefecture, or another prefecture's police with the manager's approval),
the answers to other agencies' requests (照会), and every print or export of its data — its
own card and the post-wide forms that named it, found through the audit log's (event,
household) rows. Handed over by the household's 管理責任者 or the 署長
(`roles.may_account_disclosures`); reading it is itself recorded (`access_accounting`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from junkai.access.records import deny
from junkai.access.roles import may_account_disclosures
from junkai.audit.chain import record
from junkai.audit.models import AuditEvent, AuditEventHousehold, EventType
from junkai.disclosures.models import FIELD_GROUPS, AgencyRequest, DataUse
from junkai.households.access import access_household
from junkai.households.models import Household
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Officer

#: The audit events that put a household's data on paper or in a file.
PRINT_EVENTS = (EventType.PRINT_FORM, EventType.EXPORT_CARDS)

KIND_DATA_USE = "本県警察の他の所属への提供（利用確認簿）"
KIND_OTHER_PREFECTURE = "他の都道府県警察への提供（利用確認簿）"
KIND_AGENCY = "他の行政機関への提供（照会）"
KIND_PRINT = "様式の印刷"
KIND_EXPORT = "カードの出力（Excel）"


@dataclass(frozen=True)
class Release:
    """One line of the accounting."""

    at: dt.datetime
    kind: str
    recipient: str  # who received it (for a print: the officer who printed it)
    purpose: str
    content: str  # what went out: the card's groups, or the form printed
    by: str  # the officer who released or printed it
    reference: str  # the register's number, or the audit record's


def _groups(items: list[dict[str, object]], household_id: int) -> str:
    for item in items:
        if item.get("household") == household_id:
            groups = item.get("groups")
            if isinstance(groups, list):
                return "・".join(FIELD_GROUPS.get(str(g), str(g)) for g in groups)
    return ""


def releases_of(household: Household) -> list[Release]:
    """Every release and print of the household's data, oldest first (three queries and one
    for the prints' officers)."""
    found: list[Release] = []
    for use in (
        DataUse.objects.filter(households=household, released_at__isnull=False)
        .select_related("released_by", "approved_by", "station")
        .order_by("released_at", "id")
    ):
        assert use.released_at is not None
        approval = f"（承認 {use.approved_by}）" if use.approved_by else ""
        found.append(
            Release(
                at=use.released_at,
                kind=KIND_OTHER_PREFECTURE if use.other_prefecture else KIND_DATA_USE,
                recipient=(
                    f"{use.requester_prefecture}警察 {use.requester_unit} {use.requester_name}"
                ),
                purpose=use.purpose,
                content=(
                    f"{_groups(use.released_items, household.id)}"
                    f"（{use.get_release_method_display()}）"
                ),
                by=f"{use.released_by or ''}{approval}",
                reference=f"利用確認簿 {use.label}",
            )
        )
    for request in (
        AgencyRequest.objects.filter(households=household, released_at__isnull=False)
        .select_related("released_by", "decided_by", "station")
        .order_by("released_at", "id")
    ):
        assert request.released_at is not None
        found.append(
            Release(
                at=request.released_at,
                kind=KIND_AGENCY,
                recipient=f"{request.agency_name} {request.recipient_name}",
                purpose=f"{request.purpose}（根拠: {request.legal_basis}）",
                content=(
                    f"{_groups(request.released_items, household.id)}"
                    f"（{request.get_release_method_display()}）"
                ),
                by=f"{request.released_by or ''}（判断 {request.decided_by}）",
                reference=f"照会 {request.label}",
            )
        )
    prints = (
        AuditEvent.objects.filter(event_type__in=PRINT_EVENTS)
        .filter(
            Q(object_type="households.household", object_id=str(household.id))
            | Q(
                id__in=AuditEventHousehold.objects.filter(household_id=household.id).values(
                    "event_id"
                )
            )
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
    for event in prints:
        details = event.details if isinstance(event.details, dict) else {}
        printed = event.event_type == EventType.PRINT_FORM
        form = str(details.get("form", "")) if printed else "巡回連絡カード"
        shown = details.get("households")
        count = shown.get("count") if isinstance(shown, dict) else None
        who = str(event.actor) if event.actor is not None else "システム"
        found.append(
            Release(
                at=event.created_at,
                kind=KIND_PRINT if printed else KIND_EXPORT,
                recipient=f"{who}（職員による印刷）" if printed else f"{who}（職員による出力）",
                purpose=event.purpose,
                content=f"{form}（{count}世帯を記載）" if count and count > 1 else form,
                by=who,
                reference=f"監査記録 {event.id}",
            )
        )
    found.sort(key=lambda r: r.at)
    return found


def access_accounting(officer: Officer, household_id: int) -> Household:
    """The household whose accounting the officer may hand over, the read recorded; 404 alike
    for absent and out of scope, 403 (recorded) for anyone in scope but not its 管理責任者 or
    the 署長. The resident's request is the task at hand: no stated purpose is asked."""
    household = access_household(officer, household_id, record_read=False)
    if not may_account_disclosures(officer, household):
        deny(officer, "households.household", household_id)
        raise PermissionDeniedError(
            "提供の記録（開示記録）は世帯の管理責任者と警察署長のみが作成できます"
        )
    record(
        EventType.READ_DISCLOSURE,
        actor=officer,
        obj=household,
        station_id=household.station_id,
        purpose="提供の記録（本人の求め）の閲覧",
    )
    return household
