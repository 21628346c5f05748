"""What a pull sends: the beat's households and cards, the work list, the night-visit
approvals obtained beforehand and the data the visit rules run from offline (allowed methods
per household, the night window, what a refusal needs) — the server's answers, never a copy of
its rules in JavaScript. The server checks every rule again at push.

The cursor is signed (it names the checkout and a moment). A pull with a cursor sends the
households changed since that moment, less an overlap (`OVERLAP`) for transactions that
committed after it; the list of the beat's household ids always comes whole, so the device
drops those that left the beat. The device stores each household as it comes (idempotent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Q
from django.utils import timezone

from junkai.audit.models import AuditEvent, EventType
from junkai.devices.models import DeviceCheckout
from junkai.households import cards
from junkai.households.access import households_visible_to
from junkai.households.legend import due_status
from junkai.households.models import (
    CardRevision,
    CardStatus,
    ContactCard,
    Household,
    HouseholdStatus,
    Outcome,
    Priority,
)
from junkai.households.schedule import current_policy
from junkai.org.models import Officer
from junkai.visits.actions import allowed_methods
from junkai.visits.models import (
    GuidanceTopic,
    Method,
    NightApprovalStatus,
    NightVisitApproval,
    Visit,
)
from junkai.visits.worklist import due_households

#: Changes are looked for from this long before the cursor's moment (a write whose
#: transaction was still open at the last pull is not missed).
OVERLAP = dt.timedelta(minutes=10)
CURSOR_SALT = "junkai.devices.cursor"
#: A device away longer than this gets the whole beat again (rather than a long scan of the
#: audit log for what changed).
FULL_AFTER = dt.timedelta(days=3)

#: Events after which every household is sent again (the schedule or categories changed).
FULL_AGAIN = {EventType.POLICY_CHANGED, EventType.CATEGORIES_REFRESHED}
HOUSEHOLD_EVENTS = {
    EventType.HOUSEHOLD_CREATED,
    EventType.HOUSEHOLD_UPDATED,
    EventType.HOUSEHOLD_MOVED_OUT,
    EventType.HOUSEHOLDS_IMPORTED,
    EventType.CARD_CREATED,
    EventType.CARD_CORRECTED,
    EventType.CARD_DISPOSED,
}


class CursorInvalid(ValueError):
    pass


def make_cursor(checkout_id: int, moment: dt.datetime) -> str:
    return signing.dumps({"c": checkout_id, "t": moment.isoformat()}, salt=CURSOR_SALT)


def read_cursor(checkout_id: int, cursor: str) -> dt.datetime:
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
        moment = dt.datetime.fromisoformat(data["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise CursorInvalid(
            "カーソルが正しくありません。cursor なしで取得し直してください"
        ) from exc
    if data.get("c") != checkout_id:
        raise CursorInvalid("別の持出しのカーソルです。cursor なしで取得し直してください")
    return moment


@dataclass
class Pull:
    cursor: str
    full: bool
    household_ids: list[int]
    households: list[dict[str, Any]]
    worklist: list[dict[str, Any]]
    night_approvals: list[dict[str, Any]]
    rules: dict[str, Any]
    beat: dict[str, Any]


def _changed_since(
    beat_households: list[int], since: dt.datetime, station_id: int
) -> set[int] | None:
    """Households of the beat changed since `since`; None when everything must go again.
    Only the station's events are read (a prefecture writes many more)."""
    events = AuditEvent.objects.filter(created_at__gte=since)
    if events.filter(event_type__in=FULL_AGAIN).exists():
        return None
    events = events.filter(station_id=station_id)
    wanted = set(beat_households)
    changed: set[int] = set()
    rows = events.filter(event_type__in=HOUSEHOLD_EVENTS).values_list("object_type", "object_id")
    card_ids = []
    for object_type, object_id in rows:
        if not object_id.isdigit():
            continue
        if object_type == "households.household":
            changed.add(int(object_id))
        elif object_type == "households.contactcard":
            card_ids.append(int(object_id))
    if card_ids:
        changed |= set(
            ContactCard.objects.filter(id__in=card_ids).values_list("household_id", flat=True)
        )
    changed |= set(
        Visit.objects.filter(household_id__in=wanted, created_at__gte=since).values_list(
            "household_id", flat=True
        )
    )
    changed |= set(
        CardRevision.objects.filter(
            card__household_id__in=wanted, revised_at__gte=since
        ).values_list("card__household_id", flat=True)
    )
    return changed & wanted


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _household(h: Household, card: dict[str, Any] | None, day: dt.date) -> dict[str, Any]:
    return {
        "id": h.id,
        "address": h.address,
        "name": h.name,
        "town": h.town,
        "chome": h.chome,
        "banchi": h.banchi,
        "go": h.go,
        "room": h.room,
        "block_group": h.block_group,
        "map_number": h.map_number,
        "kind": h.kind,
        "status": h.status,
        "category": h.category,
        "priority": Priority(h.priority).name,
        "elderly_flag": h.elderly_flag,
        "community_leader": h.leader_role or None,
        "latitude": _float(h.latitude),
        "longitude": _float(h.longitude),
        # The map groups a building's rooms under one marker (as the beat map does).
        "building_id": h.building_id,
        "building_name": h.building.name if h.building_id and h.building else "",
        "due": due_status(h.status, h.next_due, day),
        "next_due": h.next_due,
        "last_visit_at": h.last_visit_at,
        "last_outcome": h.last_outcome or None,
        "allowed_methods": allowed_methods(h),
        "card": card,
    }


def _post(checkout: DeviceCheckout) -> dict[str, Any] | None:
    """The post on the device's map, where it has a position."""
    post = checkout.beat.post
    if post.latitude is None or post.longitude is None:
        return None
    return {
        "name": post.name,
        "latitude": _float(post.latitude),
        "longitude": _float(post.longitude),
    }


def build_pull(checkout: DeviceCheckout, officer: Officer, cursor: str | None) -> Pull:
    """The beat as the device should hold it (the caller records the read)."""
    now = timezone.now()
    beat = checkout.beat
    in_beat = households_visible_to(officer).filter(beat_id=beat.id, status=HouseholdStatus.ACTIVE)
    since = read_cursor(checkout.id, cursor) - OVERLAP if cursor else None
    recent = since is not None and now - since <= FULL_AFTER
    ids: list[int] = []
    changed = None
    if since is not None and recent:
        ids = sorted(in_beat.values_list("id", flat=True))
        changed = _changed_since(ids, since, checkout.entry.post.station_id)
    full = changed is None
    chosen = in_beat if changed is None else in_beat.filter(id__in=changed)
    rows = list(chosen.select_related("building").order_by("id"))
    if full:
        ids = [h.id for h in rows]  # the whole beat: its ids need no query of their own
    # The cards by subquery, not by a list of a thousand ids (each such list is bound and
    # sent parameter by parameter).
    active = ContactCard.objects.filter(
        household_id__in=chosen.values("id"), status=CardStatus.ACTIVE
    )
    heads = list(active.values_list("household_id", "id", "version"))
    contents = cards.snapshots(active.values("id"))
    card_of = {
        household_id: {**contents[card_id], "id": card_id, "version": version}
        for household_id, card_id, version in heads
    }
    policy = current_policy()
    until = timezone.localdate() + dt.timedelta(days=policy.horizon_days)
    worklist = [
        {
            "household_id": h.id,
            "due_date": h.next_due,
            "priority": Priority(h.priority).name,
        }
        for h in due_households(in_beat, until)
    ]
    approvals = [
        {
            "id": a.id,
            "household_id": a.household_id,
            "planned_start": a.planned_start,
            "planned_end": a.planned_end,
        }
        for a in NightVisitApproval.objects.filter(
            Q(household_id__in=in_beat.values("id")),
            status=NightApprovalStatus.APPROVED,
            planned_end__gte=now,
        ).order_by("planned_start", "id")
    ]
    rules = {
        "night_start": policy.night_start,
        "night_end": policy.night_end,
        "night_needs_approval": True,
        "methods": {m.value: str(m.label) for m in Method},
        "outcomes": {o.value: str(o.label) for o in Outcome},
        "refusal_needs_explanation": [Outcome.REFUSED.value],
        "guidance_topics": {str(t.value): str(t.label) for t in GuidanceTopic},
        "timezone": "Asia/Tokyo",
    }
    return Pull(
        cursor=make_cursor(checkout.id, now),
        full=full,
        household_ids=ids,
        households=[_household(h, card_of.get(h.id), timezone.localdate()) for h in rows],
        worklist=worklist,
        night_approvals=approvals,
        rules=rules,
        beat={
            "id": beat.id,
            "code": beat.code,
            "name": beat.name,
            "outline": beat.outline,
            "post": _post(checkout),
        },
    )
