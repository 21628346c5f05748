"""Households and their contact cards over the API (/api/v1/households…).

Every operation reads through junkai.access (scope, 404 alike for absent and out of scope, the
read recorded with its purpose) and writes through junkai.households.actions, as the pages do.
A card is exchanged as `cards.snapshot` gives it, plus its version: what GET returns can be
changed and PUT back (read-modify-write), and a PUT over a newer version answers 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from junkai.access.declare import declare_access
from junkai.access.records import record_refusal
from junkai.access.units import access_beat
from junkai.api.auth import request_officer
from junkai.api.boundary import INT_MAX, DateText, Id, In, Int, Text, most, one_of
from junkai.api.errors import error_body
from junkai.api.purposes import ReadParams, purpose_missing, stated_purpose
from junkai.api.schemas import ErrorsOut, Message, OfficerRef
from junkai.audit.models import EventType
from junkai.households import actions, cards
from junkai.households.access import (
    PurposeRequired,
    access_household,
    access_household_for_write,
    access_household_to_read,
    active_card,
    households_visible_to,
    read_access_log,
    record_list_read,
)
from junkai.households.cards import MAX_INDEX_NUMBER
from junkai.households.models import (
    CardRevision,
    CardSource,
    CardStatus,
    ContactCard,
    Household,
    Priority,
    RevisionBasis,
    Sex,
)
from junkai.households.search import search_households
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.kana import fold

router = Router(tags=["households"])

CONFLICT = "他の職員が先に更新しました"
MAX_PAGE_SIZE = 200
MAX_QUERY_LENGTH = 100
MAX_NOTE_LENGTH = 200
#: A phone number as typed: 10–11 digits with hyphens, spaces or full-width digits.
PHONE_LENGTH = 30


# --- schemas ---------------------------------------------------------------------------


class HouseholdItem(Schema):
    id: int
    address: str
    town: str
    block_group: str
    map_number: int | None
    beat_id: int
    kind: str
    status: str
    category: str
    priority: str = Field(description="HIGH / MEDIUM / LOW（実施の必要性）")
    card_status: str = Field(description="ACTIVE（作成済のカードあり）/ NONE")


class HouseholdPage(Schema):
    items: list[HouseholdItem]
    count: int


class ListParams(Schema):
    beat: Id | None = Field(None, description="受持区ID（自分の範囲内のもの）")
    # (An offset past the database's integer range was a 500.)
    page: int = Field(1, ge=1, le=INT_MAX // MAX_PAGE_SIZE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class SearchIn(In):
    query: Text = Field(
        json_schema_extra=most(MAX_QUERY_LENGTH), description="氏名（漢字・かな）、住所又は電話番号"
    )


class SearchItem(HouseholdItem):
    matched_names: list[str]


class SearchOut(Schema):
    items: list[SearchItem]


class ResidentData(Schema):
    name: str
    kana: str
    relation: str
    birth_date: dt.date | None
    sex: str
    workplace: str
    phone: str


class ContactData(Schema):
    name: str
    relation: str
    phone: str


class VehicleData(Schema):
    description: str
    plate: str


class CardData(Schema):
    """The content of a card, as `cards.snapshot` gives it."""

    source: str
    accepted_on: dt.date | None
    binder_number: str
    index_number: int | None
    preferred_days: str
    preferred_times: str
    needs_support: bool
    support_consent: bool
    remarks: str
    requests: str
    residents: list[ResidentData]
    contacts: list[ContactData]
    vehicles: list[VehicleData]


class CardOut(CardData):
    id: int
    version: int


class HouseholdOut(Schema):
    id: int
    address: str
    name: str
    town: str
    chome: str
    banchi: str
    go: str
    room: str
    block_group: str
    map_number: int | None
    beat_id: int
    kind: str
    status: str
    category: str
    priority: str
    elderly_flag: bool
    community_leader: str | None
    latitude: float | None
    longitude: float | None
    card: CardOut | None


# Input is lenient in type (dates as typed, 和暦 too; numbers as text): cards.clean checks it
# and answers in Japanese naming each field. Unknown keys are refused rather than dropped, so
# a misspelt field cannot silently blank the card.


class ResidentIn(In):
    name: Text | None = Field(None, json_schema_extra=most(60))
    kana: Text | None = Field(None, json_schema_extra=most(80))
    relation: Text | None = Field(None, json_schema_extra=most(20))
    birth_date: DateText | None = Field(
        None, json_schema_extra=most(40), description="1950-04-01、昭和25年4月1日、S25.4.1 など"
    )
    sex: Text | None = Field(None, json_schema_extra=one_of(Sex.values), description="M / F / 空")
    workplace: Text | None = Field(None, json_schema_extra=most(100))
    phone: Text | None = Field(
        None, json_schema_extra=most(PHONE_LENGTH), description="0から始まる10〜11桁"
    )


class ContactIn(In):
    name: Text | None = Field(None, json_schema_extra=most(60))
    relation: Text | None = Field(None, json_schema_extra=most(20))
    phone: Text | None = Field(
        None, json_schema_extra=most(PHONE_LENGTH), description="0から始まる10〜11桁"
    )


class VehicleIn(In):
    description: Text | None = Field(None, json_schema_extra=most(60))
    plate: Text | None = Field(None, json_schema_extra=most(20))


class CardIn(In):
    """The card as GET returns it (its `id` is ignored), with `version` the one it was read at
    (null or 0 to create the first card), and optionally the basis and a note for the 補正."""

    version: int | None = Field(
        None, ge=0, le=INT_MAX, description="読んだときの版。新規作成は null"
    )
    id: Int | None = Field(None, description="無視されます")
    basis: Text = Field(
        RevisionBasis.VISIT.value,
        json_schema_extra=one_of(b for b in RevisionBasis.values if b != RevisionBasis.NEW),
        description="補正の根拠: RESIDENT / VISIT / DOCUMENT",
    )
    note: Text = Field("", json_schema_extra=most(MAX_NOTE_LENGTH), description="メモ")
    source: Text | None = Field(None, json_schema_extra=one_of(CardSource.values))
    accepted_on: DateText | None = Field(None, json_schema_extra=most(40))
    binder_number: Text | None = Field(None, json_schema_extra=most(20))
    index_number: Int | Text | None = Field(
        None,
        # Stated, not enforced here: cards.clean answers in its own words (索引番号は…).
        json_schema_extra={
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_INDEX_NUMBER},
                {"type": "string", "pattern": r"^([1-9][0-9]{0,8})?$"},
                {"type": "null"},
            ]
        },
    )
    preferred_days: Text | None = Field(None, json_schema_extra=most(50))
    preferred_times: Text | None = Field(None, json_schema_extra=most(50))
    needs_support: bool | None = None
    support_consent: bool | None = None
    remarks: Text | None = Field(None, json_schema_extra=most(2000))
    requests: Text | None = Field(None, json_schema_extra=most(2000))
    residents: list[ResidentIn] = Field(
        default_factory=list, json_schema_extra=most(100, items=True)
    )
    contacts: list[ContactIn] = Field(default_factory=list, json_schema_extra=most(10, items=True))
    vehicles: list[VehicleIn] = Field(default_factory=list, json_schema_extra=most(20, items=True))


class CardSaved(Schema):
    version: int
    card: CardOut


class ConflictOut(Schema):
    detail: str
    current_version: int
    submitted_version: int | None
    current: CardOut
    submitted: CardData


class RevisionOut(Schema):
    card_id: int
    version: int
    revised_at: dt.datetime
    revised_by: OfficerRef
    basis: str
    basis_label: str
    note: str
    changes: list[dict[str, Any]]


class ActorRef(Schema):
    username: str
    full_name: str


class LogParams(Schema):
    limit: int = Field(500, ge=1, le=5000, description="新しいものから何件")


class AccessLogEntry(Schema):
    at: dt.datetime
    event_type: str
    event_label: str
    actor: ActorRef | None
    purpose: str


# --- helpers ---------------------------------------------------------------------------


def _item(household: Household, *, has_card: bool) -> dict[str, Any]:
    return {
        "id": household.id,
        "address": household.address,
        "town": household.town,
        "block_group": household.block_group,
        "map_number": household.map_number,
        "beat_id": household.beat_id,
        "kind": household.kind,
        "status": household.status,
        "category": household.category,
        "priority": Priority(household.priority).name,
        "card_status": CardStatus.ACTIVE.value if has_card else "NONE",
    }


def _active_card(household: Household) -> ContactCard | None:
    return (
        ContactCard.objects.filter(household=household, status=CardStatus.ACTIVE)
        .prefetch_related("residents", "contacts", "vehicles")
        .first()
    )


def _card_out(card: ContactCard) -> dict[str, Any]:
    return {**cards.snapshot(card), "id": card.id, "version": card.version}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- operations ------------------------------------------------------------------------


@router.get("/households", response={200: HouseholdPage, 404: Message})
@declare_access("scoped")
def list_households(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    """世帯・事業所等の一覧（自分の範囲。`beat` で受持区に絞る）. Recorded as one list read."""
    officer = request_officer(request)
    households = households_visible_to(officer)
    beat = None
    if params.beat is not None:
        beat = access_beat(officer, params.beat)
        households = households.filter(beat=beat)
    count = households.count()
    start = (params.page - 1) * params.page_size
    # The card status as one subquery, not a query per row.
    active = ContactCard.objects.filter(household=OuterRef("pk"), status=CardStatus.ACTIVE)
    page = list(
        households.annotate(has_active_card=Exists(active))
        .select_related("building")
        .order_by("town", "chome", "block_group", "map_number", "id")[
            start : start + params.page_size
        ]
    )
    record_list_read(officer, beat=beat, count=len(page))
    return {
        "items": [_item(h, has_card=h.has_active_card) for h in page],
        "count": count,
    }


@router.post("/households/search", response={200: SearchOut, 422: ErrorsOut})
@declare_access("scoped")
def search(request: HttpRequest, payload: SearchIn) -> tuple[int, dict[str, Any]]:
    """氏名（漢字・かな。ひらがな・カタカナ、全角・半角を区別しない）、住所、電話番号で検索."""
    query = payload.query.strip()
    if not fold(query):
        return 422, error_body({"query": "検索する語を入力してください"})
    if len(query) > MAX_QUERY_LENGTH:
        return 422, error_body(
            {"query": f"検索する語は{MAX_QUERY_LENGTH}文字以内で入力してください"}
        )
    hits = search_households(request_officer(request), query)
    with_card = set(
        ContactCard.objects.filter(
            household_id__in=[hit.household.id for hit in hits], status=CardStatus.ACTIVE
        ).values_list("household_id", flat=True)
    )
    items = [
        {
            **_item(hit.household, has_card=hit.household.id in with_card),
            "matched_names": list(hit.matched_names),
        }
        for hit in hits
    ]
    return 200, {"items": items}


@router.get("/households/{household_id}", response={200: HouseholdOut, 404: Message})
@declare_access("scoped")
def household_detail(
    request: HttpRequest, household_id: Id, params: Query[ReadParams]
) -> dict[str, Any]:
    """世帯と作成済の巡回連絡カード（閲覧記録に残ります）. 自分の受持区の外の世帯では
    `purpose` が必要です（ないと 422）。"""
    officer = request_officer(request)
    try:
        household = access_household_to_read(
            officer,
            household_id,
            stated=stated_purpose(request, params),
            purpose="API閲覧",
            with_card=True,
        )
    except PurposeRequired as required:
        raise purpose_missing() from required
    card = active_card(household)
    if card is not None:
        cards.prefetch_lists([card])
    return {
        # The list item's fields (card_status aside: HouseholdOut carries the card itself).
        **_item(household, has_card=card is not None),
        "name": household.name,
        "chome": household.chome,
        "banchi": household.banchi,
        "go": household.go,
        "room": household.room,
        "elderly_flag": household.elderly_flag,
        "community_leader": household.leader_role or None,
        "latitude": _float(household.latitude),
        "longitude": _float(household.longitude),
        "card": _card_out(card) if card is not None else None,
    }


@router.put(
    "/households/{household_id}/card",
    response={
        200: CardSaved,
        201: CardSaved,
        403: Message,
        404: Message,
        409: ConflictOut,
        422: ErrorsOut,
    },
)
@declare_access("scoped")
def save_card(
    request: HttpRequest, household_id: Id, payload: CardIn
) -> tuple[int, dict[str, Any]]:
    """カードの作成（201、version は null）又は補正（200）.

    `version` は読んだときの版: その後に他の職員が補正していれば 409 で、現在の内容と送信した
    内容の両方を返し、何も保存しません。内容の誤りは 422 で項目ごとに返します。
    """
    officer = request_officer(request)
    household = access_household_for_write(officer, household_id, purpose="API補正")
    # The basis is checked by do_save_card; the API refuses a long note the pages would cut.
    if len(payload.note) > MAX_NOTE_LENGTH:
        return 422, error_body({"note": f"メモは{MAX_NOTE_LENGTH}文字以内で入力してください"})
    data = payload.model_dump(exclude={"version", "id", "basis", "note"})
    try:
        card = actions.do_save_card(
            household,
            data,
            acting_officer=officer,
            expected_version=payload.version,
            basis=payload.basis,
            note=payload.note,
        )
    except actions.StaleCardError as conflict:
        # The officer is shown the current card: that is a read like any other.
        access_household(officer, household.id, purpose="補正の競合確認")
        current = _active_card(household) or conflict.card
        return 409, {
            "detail": CONFLICT,
            "current_version": current.version,
            "submitted_version": payload.version,
            "current": _card_out(current),
            "submitted": conflict.submitted,
        }
    except cards.CardInvalid as invalid:
        return 422, error_body(invalid.errors)
    # Version 1 is only ever written when the card is created.
    return (201 if card.version == 1 else 200), {"version": card.version, "card": _card_out(card)}


@router.get(
    "/households/{household_id}/card/revisions",
    response={200: list[RevisionOut], 404: Message},
)
@declare_access("scoped")
def card_revisions(
    request: HttpRequest, household_id: Id, params: Query[ReadParams]
) -> list[dict[str, Any]]:
    """補正履歴（廃棄したカードの分も含む）, newest first. 自分の受持区の外の世帯では
    `purpose` が必要です（ないと 422）。"""
    try:
        household = access_household_to_read(
            request_officer(request),
            household_id,
            stated=stated_purpose(request, params),
            purpose="補正履歴の閲覧",
        )
    except PurposeRequired as required:
        raise purpose_missing() from required
    revisions = (
        CardRevision.objects.filter(card__household=household)
        .select_related("revised_by")
        .order_by("-revised_at", "-card_id", "-version")
    )
    return [
        {
            "card_id": r.card_id,
            "version": r.version,
            "revised_at": r.revised_at,
            "revised_by": {
                "id": r.revised_by.id,
                "username": r.revised_by.username,
                "full_name": r.revised_by.full_name,
            },
            "basis": r.basis,
            "basis_label": r.get_basis_display(),
            "note": r.note,
            "changes": r.changes,
        }
        for r in revisions
    ]


@router.get(
    "/households/{household_id}/access-log",
    response={200: list[AccessLogEntry], 403: Message, 404: Message},
)
@declare_access("scoped")
def access_log(
    request: HttpRequest, household_id: Id, params: Query[LogParams]
) -> tuple[int, list[dict[str, Any]]]:
    """閲覧記録: この世帯とそのカードについての記録（管理責任者・署長のみ）, newest first."""
    officer = request_officer(request)
    household = access_household(officer, household_id, purpose="閲覧記録の確認", record_read=False)
    events = read_access_log(officer, household, purpose="閲覧記録の確認", limit=params.limit)
    if events is None:
        record_refusal(
            officer, household, station_id=household.station_id, purpose="閲覧記録の確認"
        )
        raise PermissionDeniedError("閲覧記録は管理責任者と警察署長のみが確認できます")
    return 200, [
        {
            "at": e.created_at,
            "event_type": EventType(e.event_type).name,
            "event_label": EventType(e.event_type).label,
            "actor": (
                {"username": e.actor.username, "full_name": e.actor.full_name}
                if e.actor is not None
                else None
            ),
            "purpose": e.purpose,
        }
        for e in events
    ]
