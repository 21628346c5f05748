"""Every change to households, buildings and cards: one function each, audited in the same
transaction. Rules across rows live here; rules of one row on the models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from junkai.access.roles import can_write_post
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households import cards
from junkai.households.models import (
    PRIORITY_OF,
    Building,
    CardRevision,
    CardStatus,
    ContactCard,
    EmergencyContact,
    Household,
    HouseholdKind,
    HouseholdStatus,
    LeaderRole,
    Resident,
    RevisionBasis,
    Vehicle,
    all_elderly_from,
)
from junkai.households.schedule import lock_household, refresh_due
from junkai.households.search import resident_keys
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.kana import fold
from junkai.org.models import Beat, Officer, today


class StaleCardError(Exception):
    """Saving over a newer version: refused, nothing written. Carries both versions."""

    def __init__(self, card: ContactCard, submitted: cards.CardData, expected_version: int) -> None:
        super().__init__("他の職員が先に更新しました")
        self.card = card
        self.submitted = submitted
        self.expected_version = expected_version


def _require_write(officer: Officer | None, post_id: int) -> None:
    if officer is not None and not can_write_post(officer, post_id):
        raise PermissionDeniedError("この交番等の巡回連絡カードを変更する権限がありません")


def _active_card(household: Household) -> ContactCard | None:
    return household.cards.filter(status=CardStatus.ACTIVE).first()


def refresh_category(
    household: Household, card: ContactCard | None = None, *, day: dt.date | None = None
) -> bool:
    """Recompute the derived 別表 category and priority; save if changed. Returns changed."""
    day = day or today()
    card = card if card is not None else _active_card(household)
    births = [r.birth_date for r in card.residents.all()] if card is not None else []
    household.all_elderly_from = all_elderly_from(births)
    category = household.derive_category(card, day)
    priority = PRIORITY_OF[category]
    changed = (category, priority) != (household.category, household.priority)
    household.category = category
    household.priority = priority
    household.save(update_fields=["category", "priority", "all_elderly_from"])
    # The interval depends on the category and the leader role: the due date follows.
    refresh_due(household)
    return changed


def address_key(town: str, chome: str, banchi: str, go: str, building: str, room: str) -> str:
    """What an address search matches: the parts run together (駅前町123), folded."""
    return fold(f"{town}{chome}{banchi}{go}{building}{room}")


def _address_key(household: Household) -> str:
    building = household.building.name if household.building_id and household.building else ""
    return address_key(
        household.town, household.chome, household.banchi, household.go, building, household.room
    )


HOUSEHOLD_FIELDS = (
    "kind",
    "name",
    "town",
    "chome",
    "banchi",
    "go",
    "room",
    "block_group",
    "map_number",
    "latitude",
    "longitude",
    "elderly_flag",
    "leader_role",
)


def _check_household(fields: dict[str, Any]) -> None:
    errors = {}
    if fields.get("kind") not in HouseholdKind.values:
        errors["kind"] = "種別は「居住」か「事業所等（非居住）」を選んでください"
    if not str(fields.get("town") or "").strip():
        errors["town"] = "町名を入力してください"
    if fields.get("leader_role", "") not in LeaderRole.values:
        errors["leader_role"] = "地域の役職の値が正しくありません"
    lat, lon = fields.get("latitude"), fields.get("longitude")
    if lat is not None and not -90 <= float(lat) <= 90:
        errors["latitude"] = "緯度は-90〜90の範囲で入力してください"
    if lon is not None and not -180 <= float(lon) <= 180:
        errors["longitude"] = "経度は-180〜180の範囲で入力してください"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_building(beat: Beat, *, acting_officer: Officer | None, **fields: Any) -> Building:
    _require_write(acting_officer, beat.post_id)
    if not str(fields.get("name") or "").strip():
        raise ValidationError({"name": "アパート等の名称を入力してください"})
    if not str(fields.get("town") or "").strip():
        raise ValidationError({"town": "町名を入力してください"})
    building = Building.objects.create(post_id=beat.post_id, beat=beat, **fields)
    record(
        EventType.BUILDING_CREATED,
        actor=acting_officer,
        obj=building,
        station_id=beat.post.station_id,
    )
    return building


@transaction.atomic
def do_create_household(
    beat: Beat,
    *,
    acting_officer: Officer | None,
    building: Building | None = None,
    **fields: Any,
) -> Household:
    """A door of the beat. It starts as 未把握 (no card) until a card is accepted."""
    _require_write(acting_officer, beat.post_id)
    _check_household(fields)
    if building is not None and building.beat_id != beat.id:
        raise ValidationError({"building": "アパート等が別の受持区のものです"})
    household = Household(
        beat=beat,
        post_id=beat.post_id,
        station_id=beat.post.station_id,
        building=building,
        **{k: v for k, v in fields.items() if k in HOUSEHOLD_FIELDS},
    )
    household.address_key = _address_key(household)
    household.save(force_insert=True)
    refresh_category(household, card=None)
    record(
        EventType.HOUSEHOLD_CREATED,
        actor=acting_officer,
        obj=household,
        station_id=household.station_id,
    )
    return household


@transaction.atomic
def do_update_household(
    household: Household, *, acting_officer: Officer | None, **fields: Any
) -> Household:
    """Address, 組・班, flags; the category follows (an elderly flag makes it 高齢者世帯)."""
    _require_write(acting_officer, household.post_id)
    merged = {f: getattr(household, f) for f in HOUSEHOLD_FIELDS} | fields
    _check_household(merged)
    changed = [f for f in HOUSEHOLD_FIELDS if f in fields and getattr(household, f) != fields[f]]
    for field in changed:
        setattr(household, field, fields[field])
    household.address_key = _address_key(household)
    household.save(update_fields=[*changed, "address_key"])
    refresh_category(household)
    record(
        EventType.HOUSEHOLD_UPDATED,
        actor=acting_officer,
        obj=household,
        station_id=household.station_id,
        details={"fields": changed},
    )
    return household


@transaction.atomic
def do_move_out(
    household: Household, *, acting_officer: Officer | None, vacant: bool = False
) -> Household:
    """転出: the household closes; its card is kept (disposal is a separate, witnessed act)."""
    _require_write(acting_officer, household.post_id)
    household.status = HouseholdStatus.VACANT if vacant else HouseholdStatus.MOVED_OUT
    household.save(update_fields=["status"])
    record(
        EventType.HOUSEHOLD_MOVED_OUT,
        actor=acting_officer,
        obj=household,
        station_id=household.station_id,
        details={"status": household.status},
    )
    return household


def _write_card_rows(card: ContactCard, data: cards.CardData) -> None:
    """Replace the card's residents, contacts and vehicles with `data`'s (in order)."""
    card.residents.all().delete()
    card.contacts.all().delete()
    card.vehicles.all().delete()
    residents = []
    for i, r in enumerate(data["residents"]):
        name_key, kana_key, phone_key = resident_keys(r["name"], r["kana"], r["phone"])
        residents.append(
            Resident(
                card=card,
                post_id=card.post_id,
                position=i,
                name=r["name"],
                kana=r["kana"],
                relation=r["relation"],
                birth_date=dt.date.fromisoformat(r["birth_date"]) if r["birth_date"] else None,
                sex=r["sex"],
                workplace=r["workplace"],
                phone=r["phone"],
                name_key=name_key,
                kana_key=kana_key,
                phone_key=phone_key,
            )
        )
    Resident.objects.bulk_create(residents)
    EmergencyContact.objects.bulk_create(
        [EmergencyContact(card=card, position=i, **c) for i, c in enumerate(data["contacts"])]
    )
    Vehicle.objects.bulk_create(
        [Vehicle(card=card, position=i, **v) for i, v in enumerate(data["vehicles"])]
    )


def _apply_card_fields(card: ContactCard, data: cards.CardData) -> None:
    for field in cards.CARD_FIELDS:
        value = data[field]
        if field == "accepted_on":
            value = dt.date.fromisoformat(value)
        setattr(card, field, value)


def _check_index_number(card: ContactCard, data: cards.CardData) -> None:
    number = data.get("index_number")
    if number is None:
        return
    clash = ContactCard.objects.filter(
        post_id=card.post_id, status=CardStatus.ACTIVE, index_number=number
    ).exclude(id=card.id)
    if clash.exists():
        raise cards.CardInvalid(
            {"index_number": f"索引番号 {number} はこの交番等で既に使われています"}
        )


def do_save_card(
    household: Household,
    data: cards.CardData,
    *,
    acting_officer: Officer,
    expected_version: int | None,
    basis: RevisionBasis | str = RevisionBasis.VISIT,
    note: str = "",
    revised_at: dt.datetime | None = None,
) -> ContactCard:
    """Accept a new card (expected_version None) or correct the current one (補正).

    Every save is a CardRevision with each field old → new. Saving over a version other than
    the current one raises StaleCardError and writes nothing but the refusal's audit event
    (recorded after the rolled-back attempt, so the refusal itself is on the record).
    """
    try:
        return _save_card(
            household,
            data,
            acting_officer=acting_officer,
            expected_version=expected_version,
            basis=basis,
            note=note,
            revised_at=revised_at,
        )
    except IntegrityError:
        # Two officers accepted the first card of a household at the same moment: the
        # second finds the first's card and is told so, as for any stale save.
        current = _active_card(household)
        if current is None:
            raise
        submitted = cards.clean(
            data, today=today(), residence=household.kind == HouseholdKind.RESIDENCE
        )
        conflict = StaleCardError(current, submitted, expected_version or 0)
    except StaleCardError as stale:
        conflict = stale
    with transaction.atomic():
        record(
            EventType.CARD_CONFLICT,
            actor=acting_officer,
            obj=conflict.card,
            station_id=household.station_id,
            details={"expected": expected_version, "current": conflict.card.version},
        )
    raise conflict from None


@transaction.atomic
def _save_card(
    household: Household,
    data: cards.CardData,
    *,
    acting_officer: Officer,
    expected_version: int | None,
    basis: RevisionBasis | str = RevisionBasis.VISIT,
    note: str = "",
    revised_at: dt.datetime | None = None,
) -> ContactCard:
    _require_write(acting_officer, household.post_id)
    if basis not in RevisionBasis.values:
        # Checked here, not by each caller: a page's hidden field or an API body may carry it.
        raise cards.CardInvalid({"basis": "補正の根拠の値が正しくありません"})
    clean = cards.clean(data, today=today(), residence=household.kind == HouseholdKind.RESIDENCE)
    # The household's row, then the card's (schedule.lock_household): two officers saving at
    # once are serialised (the second sees the version the first wrote).
    lock_household(household)
    card = (
        ContactCard.objects.select_for_update()
        .filter(household=household, status=CardStatus.ACTIVE)
        .first()
    )
    now = revised_at or timezone.now()
    if card is None:
        if expected_version not in (None, 0):
            raise cards.CardInvalid(
                {"version": "この世帯のカードは廃棄されています。新規に作成してください"}
            )
        card = ContactCard(
            household=household, post_id=household.post_id, accepted_by=acting_officer, version=1
        )
        _apply_card_fields(card, clean)
        _check_index_number(card, clean)
        card.updated_at = now
        card.save(force_insert=True)
        old = None
        basis = RevisionBasis.NEW
        event = EventType.CARD_CREATED
    else:
        if expected_version != card.version:
            raise StaleCardError(card, clean, expected_version or 0)
        old = cards.snapshot(card)
        _check_index_number(card, clean)
        if basis == RevisionBasis.NEW:
            basis = RevisionBasis.VISIT
        _apply_card_fields(card, clean)
        card.version += 1
        card.updated_at = now
        card.save(update_fields=[*cards.CARD_FIELDS, "version", "updated_at"])
        event = EventType.CARD_CORRECTED
    changes = cards.diff(old, clean)
    if old is not None and not changes:
        # Nothing changed: no new version, no revision (the officer saved an unchanged card).
        transaction.set_rollback(True)
        raise cards.CardInvalid({"__all__": "変更された項目がありません"})
    _write_card_rows(card, clean)
    CardRevision.objects.create(
        card=card,
        version=card.version,
        revised_at=now,
        revised_by=acting_officer,
        basis=basis,
        note=note[:200],
        changes=changes,
    )
    refresh_category(household, card)
    record(
        event,
        actor=acting_officer,
        obj=card,
        station_id=household.station_id,
        details={
            "household": household.id,
            "version": card.version,
            "basis": str(basis),
            # Which fields changed, never their values.
            "fields": sorted({c["field"].split(".")[0] for c in changes}),
        },
    )
    return card


@transaction.atomic
def do_dispose_card(
    card: ContactCard, *, acting_officer: Officer, witness: Officer, reason: str
) -> ContactCard:
    """廃棄: only with a second officer of the post as witness, and a reason."""
    household = card.household
    _require_write(acting_officer, household.post_id)
    errors = {}
    if card.status != CardStatus.ACTIVE:
        errors["__all__"] = "このカードは既に廃棄されています"
    if witness.id == acting_officer.id:
        errors["witness"] = "立会者は廃棄する本人以外の職員にしてください"
    elif not can_write_post(witness, household.post_id):
        errors["witness"] = "立会者はこの交番等の職員にしてください"
    if not reason.strip():
        errors["reason"] = "廃棄の理由を入力してください"
    if errors:
        raise ValidationError(errors)
    lock_household(household)  # before the card's row: schedule.lock_household
    card.status = CardStatus.DISPOSED
    card.disposed_at = timezone.now()
    card.disposed_by = acting_officer
    card.disposal_witness = witness
    card.disposal_reason = reason.strip()[:200]
    card.save(
        update_fields=[
            "status",
            "disposed_at",
            "disposed_by",
            "disposal_witness",
            "disposal_reason",
        ]
    )
    refresh_category(household, card=None)
    record(
        EventType.CARD_DISPOSED,
        actor=acting_officer,
        obj=card,
        station_id=household.station_id,
        details={"household": household.id, "witness": witness.id},
    )
    return card


@transaction.atomic
def do_refresh_categories(
    *, day: dt.date | None = None, households: Iterable[Household] | None = None
) -> int:
    """Households whose residents all turned 65 since the last run become 高齢者世帯 (daily)."""
    day = day or today()
    candidates = (
        households
        if households is not None
        else Household.objects.filter(all_elderly_from__lte=day)
        .exclude(category="ELDERLY")
        .exclude(category="UNKNOWN")
    )
    changed = sum(1 for h in candidates if refresh_category(h, day=day))
    record(EventType.CATEGORIES_REFRESHED, details={"changed": changed, "day": day})
    return changed
