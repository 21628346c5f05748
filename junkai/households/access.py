"""Reads of households and their cards: scope, 404 alike for absent and out of scope, and the
read recorded in the household's 閲覧記録."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import FilteredRelation, Q, QuerySet

from junkai.access.purposes import StatedPurpose, task_at_hand
from junkai.access.records import deny
from junkai.access.roles import (
    can_write_post,
    may_view_access_log,
    own_beat_ids,
    register_scope,
    unit_scope,
)
from junkai.audit.chain import append, prepare, record
from junkai.audit.models import AuditEvent, AuditEventHousehold, EventType
from junkai.households.models import Building, CardStatus, ContactCard, Household
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Beat, Officer


def active_card(household: Household) -> ContactCard | None:
    """The household's active card: as `access_household(with_card=True)` loaded it, else
    read now."""
    if hasattr(household, "_active_card"):
        found: ContactCard | None = household._active_card
        return found
    return household.cards.filter(status=CardStatus.ACTIVE).first()


def households_visible_to(officer: Officer | Any) -> QuerySet[Household]:
    """The households whose personal data the officer may see (not yet a recorded read)."""
    in_scope = unit_scope(officer)
    return Household.objects.none() if in_scope is None else Household.objects.filter(in_scope)


def access_household(
    officer: Officer,
    household_id: int,
    *,
    purpose: str = "閲覧",
    record_read: bool = True,
    with_card: bool = False,
) -> Household:
    """One household with its card, for the officer; 404 alike for absent and out of scope.

    The read goes to the access log (閲覧記録) with its purpose. `with_card`: its active card
    comes by the same query (`active_card(household)` then asks nothing).
    """
    households = households_visible_to(officer).select_related(
        "beat", "post", "station", "building"
    )
    if with_card:
        households = households.annotate(
            _active_card=FilteredRelation("cards", condition=Q(cards__status=CardStatus.ACTIVE))
        ).select_related("_active_card")  # type: ignore[misc]  # a FilteredRelation
    household = households.filter(id=household_id).first()
    if household is None:
        raise deny(officer, "households.household", household_id)
    if record_read:
        record(
            EventType.READ_HOUSEHOLD,
            actor=officer,
            obj=household,
            station_id=household.station_id,
            purpose=purpose,
        )
    return household


def access_households(
    officer: Officer,
    household_ids: list[int],
    *,
    purpose: str = "閲覧",
    record_read: bool = True,
) -> list[Household]:
    """Households named by id, in the order given; 404 alike if any is absent or out of scope.

    Each read goes to that household's own access log (閲覧記録), one READ_HOUSEHOLD event per
    household in the order given, all in one transaction. With record_read=False the caller
    records what it shows instead (a route planned names the households by id only; a form
    printed records PRINT_FORM on each).
    """
    wanted = list(dict.fromkeys(household_ids))
    found = {
        h.id: h
        for h in households_visible_to(officer)
        .select_related("beat", "post", "building")
        .filter(id__in=wanted)
    }
    for household_id in wanted:
        if household_id not in found:
            raise deny(officer, "households.household", household_id)
    households = [found[i] for i in wanted]
    if record_read:
        with transaction.atomic():
            for household in households:
                record(
                    EventType.READ_HOUSEHOLD,
                    actor=officer,
                    obj=household,
                    station_id=household.station_id,
                    purpose=purpose,
                )
    return households


@dataclass(frozen=True)
class HouseholdForAction:
    household: Household
    #: The read's event, prepared: the action appends it with its own (`along=`).
    read: AuditEvent


@contextmanager
def household_for_action(
    officer: Officer, household_id: int, *, purpose: str
) -> Iterator[HouseholdForAction]:
    """`access_household` for an action that records its own event (a visit): the read goes
    to the audit log by the action's own INSERT, in its transaction — one round trip, not two.

    If the block raises, the action's transaction rolled back with the read's event in it (or
    the action refused before appending): the read is appended on its own, as it always was.
    Pass `.read` to exactly one action's `record(along=...)` inside the block.
    """
    household = access_household(officer, household_id, record_read=False)
    read = prepare(
        EventType.READ_HOUSEHOLD,
        actor=officer,
        obj=household,
        station_id=household.station_id,
        purpose=purpose,
    )
    try:
        yield HouseholdForAction(household, read)
    except BaseException:
        append(read)
        raise
    if read.pk is None:  # the action appended nothing after all
        append(read)


def access_household_for_write(
    officer: Officer, household_id: int, *, purpose: str = "補正画面の表示"
) -> Household:
    """A household whose card the officer may change: in scope and at a post he writes for.

    Edit pages show the card too, so this is a recorded read like any other.
    """

    household = access_household(officer, household_id, record_read=False)
    if not can_write_post(officer, household.post_id):
        # In scope but read-only (the chief, the 地域課長代理): 403, and on the record.
        deny(officer, "households.household", household_id)
        raise PermissionDeniedError("この交番等の巡回連絡カードを変更する権限がありません")
    record(
        EventType.READ_HOUSEHOLD,
        actor=officer,
        obj=household,
        station_id=household.station_id,
        purpose=purpose,
    )
    return household


def access_building(officer: Officer, building_id: int) -> Building:
    """An apartment building (アパート等) of a post in the officer's scope; 404 otherwise.

    The caller records what it shows of the households living there."""
    in_scope = register_scope(officer)
    building = (
        Building.objects.filter(in_scope, id=building_id)
        .select_related("post", "post__station", "beat")
        .first()
        if in_scope is not None
        else None
    )
    if building is None:
        raise deny(officer, "households.building", building_id)
    return building


def record_list_read(
    officer: Officer,
    *,
    beat: Beat | None,
    count: int,
    purpose: str = "一覧",
    household_ids: Iterable[int] | None = None,
) -> AuditEvent:
    """A list of households (names, addresses) is personal data too: one event per list.

    `household_ids`: the rows the list showed (the audit log's (event, household) rows). Only
    these can explain a later read of a household as work from that list (misuse.py); a list
    recorded without them explains nothing beyond its beat.
    """
    return record(
        EventType.LIST_HOUSEHOLDS,
        actor=officer,
        obj=beat,
        object_type="" if beat else "scope",
        station_id=beat.post.station_id if beat else None,
        purpose=purpose,
        details={"count": count},
        household_ids=household_ids,
    )


def household_access_log(household: Household) -> QuerySet[AuditEvent]:
    """Audit events on the household and its cards (reads, prints, changes, releases), newest
    first. Only for those `may_view_access_log` admits; the caller records that read."""
    card_ids = [str(i) for i in household.cards.values_list("id", flat=True)]
    return (
        AuditEvent.objects.filter(
            Q(object_type="households.household", object_id=str(household.id))
            | Q(object_type="households.contactcard", object_id__in=card_ids)
            # Prints and lists that showed it among others (one event naming many).
            | Q(
                id__in=AuditEventHousehold.objects.filter(household_id=household.id).values(
                    "event_id"
                )
            )
        )
        .select_related("actor")
        .order_by("-id")
    )


def read_access_log(
    officer: Officer, household: Household, *, purpose: str, limit: int
) -> list[AuditEvent] | None:
    """The household's 閲覧記録 (newest `limit` events) for those `may_view_access_log` admits,
    the read recorded; None for anyone else (the caller decides whether that is a denial: the
    household page simply shows no log, the API answers 403)."""
    if not may_view_access_log(officer, household):
        return None
    record(
        EventType.READ_ACCESS_LOG,
        actor=officer,
        obj=household,
        station_id=household.station_id,
        purpose=purpose,
    )
    return list(household_access_log(household)[:limit])


def record_households_out_of_scope(officer: Officer, household_ids: Sequence[object]) -> None:
    """Record a denial for each household named that is absent or outside the officer's scope
    (a 利用確認簿 entry or an agency request naming another post's household). The action
    refuses the entry with its message and rolls back; the denial, recorded here before it,
    stays on the record."""
    ids = {int(str(i)) for i in household_ids if isinstance(i, int) or str(i).isdigit()}
    visible = set(households_visible_to(officer).filter(id__in=ids).values_list("id", flat=True))
    for household_id in sorted(ids - visible):
        deny(officer, "households.household", household_id)


class PurposeRequired(Exception):
    """A household outside the officer's own beats, read without a stated purpose: the page
    asks for one (nothing of the household shown), the API answers 422."""

    def __init__(self, household: Household) -> None:
        super().__init__("受持区外の世帯の閲覧には目的が必要です")
        self.household = household


def needs_stated_purpose(officer: Officer, household: Household) -> bool:
    """A read outside his own beats states why (DESIGN.md "A read states why")."""
    return household.beat_id not in own_beat_ids(officer)


def purpose_of_read(
    officer: Officer,
    household: Household,
    stated: StatedPurpose | Mapping[int, StatedPurpose] | None,
) -> StatedPurpose | None:
    """The stated purpose that covers a read of the household's card (a Mapping: what the
    session remembers, by beat); None in his own beats; PurposeRequired outside them without
    one. Every read of a card — the page, its print, the API's card, revisions and print —
    asks this. A task waiting on him for the household (an approval, a report, an entry)
    states its own purpose without asking."""
    if isinstance(stated, Mapping):
        stated = stated.get(household.beat_id)
    if stated is None and needs_stated_purpose(officer, household):
        stated = task_at_hand(officer, household.id)
        if stated is None:
            raise PurposeRequired(household)
    return stated


def access_household_to_read(
    officer: Officer,
    household_id: int,
    *,
    stated: StatedPurpose | Mapping[int, StatedPurpose] | None,
    purpose: str,
    with_card: bool = False,
) -> Household:
    """A read of one household's card: in his own beat with the caller's purpose; outside it
    only with a stated purpose (PurposeRequired otherwise), whose label is the event's purpose
    and whose note (その他) is in the event by id and digest."""
    household = access_household(officer, household_id, record_read=False, with_card=with_card)
    stated = purpose_of_read(officer, household, stated)
    record(
        EventType.READ_HOUSEHOLD,
        actor=officer,
        obj=household,
        station_id=household.station_id,
        purpose=stated.label if stated is not None else purpose,
        details=stated.details() if stated is not None else {},
    )
    return household
