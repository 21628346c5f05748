"""Loading many households at once: the import, the demo and the benchmark data set.

`do_bulk_load(rows, …)` takes one `HouseholdRow` per household (with its building by name and
its card, residents and emergency contacts) and is all-or-nothing: every row is checked first
with the same rules as the actions (card content by `cards.clean`, household fields as
`actions._check_household`, 索引番号 unique per post, the officer's right to write the post),
and any problem raises `BulkLoadError` carrying every message by row and column
("3行目 生年月日: …") with the database as it was.

The writing avoids the ORM's per-object cost because one prefecture is ≈500,000 households:
ids for the parent tables are drawn from the database's own sequence in one query per batch,
and rows go in with COPY on PostgreSQL and `executemany` on SQLite, 5,000 households at a
time. Checked batches are written while the next ones are checked (on PostgreSQL from a second
thread, so the database's work overlaps Python's); an error stops the writing and the whole
transaction is rolled back once every row has been checked. A big load on PostgreSQL checks
the household tables' keys once at the end instead of row by row (`_SetWiseKeys`, which
locks those tables and the organisation's for the load). The derived columns
(category, priority, all_elderly_from, address_key, the residents' search keys) come from
the functions the actions use (`models.category_of`, `models.all_elderly_from`,
`actions.address_key`, and `search.resident_keys` as in `actions._write_card_rows`). One audit event records the load (counts only).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import queue
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, NamedTuple, cast

import orjson
from django.db import OperationalError, connection, models, transaction
from django.utils import timezone

from junkai.access.roles import posts_writable_by
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households import actions, cards
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
    category_of,
)
from junkai.households.schedule import first_due
from junkai.households.search import resident_keys
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.kana import fold
from junkai.lib.tables import BulkLoadError, RowError
from junkai.org.models import Beat, Officer, Post, today

BATCH_SIZE = 5000
#: Loads of at least this many households refresh the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 20_000
#: Loads of at least this many households check the household tables' keys set-wise, holding
#: every page back while they run (PostgreSQL; see _SetWiseKeys): a prefecture's first load.
SET_WISE_KEYS_AFTER = 50_000
#: How long such a load waits for the household tables before it checks row by row instead.
SET_WISE_LOCK_WAIT = "5s"
WRITING_EXCLUSIVE = "書き込み（終わるまで他の画面は待機）"

#: Column names of the import format (docs/import-format.md); messages name these.
HOUSEHOLD_COLUMNS = {
    "beat": "受持区コード",
    "kind": "種別",
    "name": "世帯主・事業所名",
    "town": "町名",
    "chome": "丁目",
    "banchi": "番地",
    "go": "号",
    "building": "建物名",
    "room": "部屋番号",
    "block_group": "組・班",
    "map_number": "整理番号",
    "latitude": "緯度",
    "longitude": "経度",
    "leader_role": "地域の役職",
    "elderly_flag": "高齢者世帯",
}
CARD_COLUMNS = {
    "accepted_on": "カード受理日",
    "source": "記入者",
    "accepted_by": "受理者ID",
    "binder_number": "簿冊番号",
    "index_number": "索引番号",
}
RESIDENT_COLUMNS = {f: cards.LABELS[f] for f in cards.RESIDENT_FIELDS}
CONTACT_COLUMNS = {
    "name": "緊急連絡先氏名",
    "relation": "緊急連絡先続柄",
    "phone": "緊急連絡先電話",
}

#: Text fields of a household and their model limits.
_TEXT_FIELDS = ("name", "town", "chome", "banchi", "go", "room", "block_group")
_MAX_LENGTH = {
    f.name: f.max_length
    for f in Household._meta.concrete_fields
    if isinstance(f, models.CharField) and f.max_length
}
_KINDS = {
    HouseholdKind.RESIDENCE.value: HouseholdKind.RESIDENCE.value,
    "居住": HouseholdKind.RESIDENCE.value,
    "世帯": HouseholdKind.RESIDENCE.value,
    HouseholdKind.BUSINESS.value: HouseholdKind.BUSINESS.value,
    "事業所等": HouseholdKind.BUSINESS.value,
    "事業所": HouseholdKind.BUSINESS.value,
    "事業所等（非居住）": HouseholdKind.BUSINESS.value,
    "非居住": HouseholdKind.BUSINESS.value,
}
_LEADER_ROLES = (
    {"": "", "なし": ""}
    | {choice.value: choice.value for choice in LeaderRole if choice.value}
    | {choice.label: choice.value for choice in LeaderRole if choice.value}
)
_TRUE = {"1", "○", "〇", "はい", "有", "あり", "true", "yes", "y", "該当"}
_FALSE = {"", "0", "×", "いいえ", "無", "なし", "false", "no", "n", "-", "－"}
# Plain strings: an enum member's .value costs a descriptor call, 500,000 times over.
_BUSINESS = HouseholdKind.BUSINESS.value
_ACTIVE_CARD = CardStatus.ACTIVE.value
_ACTIVE_HOUSEHOLD = HouseholdStatus.ACTIVE.value
_NEW = RevisionBasis.NEW.value
_BASES = frozenset(RevisionBasis.values)
_MICRO = Decimal("0.000001")  # 緯度・経度: 6 decimal places
_RESIDENT_PREFIX = re.compile(r"^(世帯員|緊急連絡先|車両)\d+の")


# --- what a caller hands in -------------------------------------------------------------


@dataclass(slots=True)
class BuildingSpec:
    """An アパート等 by name within the row's beat; created on first use if absent."""

    name: str
    floors: int | None = None
    rooms_per_floor: int | None = None
    manager_contact: str = ""


@dataclass(slots=True)
class Correction:
    """A later 補正 of the card: the whole card content as it stood after it."""

    at: dt.datetime
    data: cards.CardData
    basis: str = RevisionBasis.VISIT
    note: str = ""
    by: int | None = None  # officer id; default: whoever accepted the card


@dataclass(slots=True)
class HouseholdRow:
    """One household: `fields` are Household fields (actions.HOUSEHOLD_FIELDS) as values or
    as text; `card` is card content for `cards.clean` (None: no card yet, 未把握)."""

    line: int
    beat: int | str  # Beat id, or a beat code of the `post` given to do_bulk_load
    fields: dict[str, Any]
    building: BuildingSpec | str | None = None
    card: cards.CardData | None = None
    accepted_by: int | str | None = None  # officer id or login; default: the loader's
    card_at: dt.datetime | None = None  # when the card was made (its first revision)
    corrections: list[Correction] = field(default_factory=list)
    created_at: dt.datetime | None = None
    #: Source line of each resident / contact ("residents.2" → 7), for messages.
    lines: dict[str, int] | None = None


@dataclass(frozen=True)
class BulkResult:
    households: int
    cards: int
    residents: int
    contacts: int
    revisions: int
    buildings: int
    seconds: float


#: progress(phase, done, total): phase "検証" (rows checked) then "書き込み" (rows written;
#: WRITING_EXCLUSIVE instead when the load holds every page back, see _SetWiseKeys).
Progress = Callable[[str, int, int | None], None]


# --- checking ---------------------------------------------------------------------------


class _CardRows(NamedTuple):
    """A row's card as the loader writes it (all empty for a household without a card)."""

    card: tuple[Any, ...] | None
    residents: list[tuple[Any, ...]]
    contacts: list[tuple[Any, ...]]
    vehicles: list[tuple[Any, ...]]
    revisions: list[tuple[Any, ...]]
    elderly_from: dt.date | None


@dataclass(slots=True)
class _Plan:
    """A row that passed: ready-made values, ids filled in while writing."""

    beat_id: int
    post_id: int
    station_id: int
    building_key: tuple[int, str] | None
    household: tuple[Any, ...]  # kind … created_at (_HOUSEHOLD_FIELDS after building_id)
    card: tuple[Any, ...] | None  # see _CARD_FIELDS
    residents: list[tuple[Any, ...]]
    contacts: list[tuple[Any, ...]]
    vehicles: list[tuple[Any, ...]]
    revisions: list[tuple[Any, ...]]  # version, revised_at, revised_by_id, basis, note, changes


_HOUSEHOLD_FIELDS = (
    "id",
    "beat_id",
    "post_id",
    "station_id",
    "building_id",
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
    "status",
    "elderly_flag",
    "leader_role",
    "category",
    "priority",
    "all_elderly_from",
    "address_key",
    "created_at",
    "next_due",
)
_CARD_FIELDS = (
    "id",
    "household_id",
    "post_id",
    "status",
    "source",
    "accepted_on",
    "accepted_by_id",
    "binder_number",
    "index_number",
    "preferred_days",
    "preferred_times",
    "needs_support",
    "support_consent",
    "remarks",
    "requests",
    "version",
    "updated_at",
)
_RESIDENT_FIELDS = (
    "card_id",
    "post_id",
    "position",
    "name",
    "kana",
    "relation",
    "birth_date",
    "sex",
    "workplace",
    "phone",
    "name_key",
    "kana_key",
    "phone_key",
)
_CONTACT_FIELDS = ("card_id", "position", "name", "relation", "phone")
_VEHICLE_FIELDS = ("card_id", "position", "description", "plate")
_REVISION_FIELDS = ("card_id", "version", "revised_at", "revised_by_id", "basis", "note", "changes")
_BUILDING_FIELDS = (
    "id",
    "post_id",
    "beat_id",
    "name",
    "town",
    "chome",
    "banchi",
    "go",
    "floors",
    "rooms_per_floor",
    "manager_contact",
)


def _as_text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 3.0 for 3丁目
    return str(value).strip()


def _as_decimal(value: Any) -> Decimal | None:
    text = _as_text(value)
    if not text:
        return None
    try:
        number = Decimal(unicodedata.normalize("NFKC", text))
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number.quantize(_MICRO)


def parse_flag(value: Any) -> bool:
    """○ / 1 / はい → True, empty / × / 0 → False; anything else raises ValueError."""
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", _as_text(value)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


_PRIORITY = {k.value: int(v) for k, v in PRIORITY_OF.items()}


class _Checker:
    """Checks rows one by one, keeping what it needs to look up in dicts (no query per row)."""

    def __init__(
        self,
        *,
        post: Post | None,
        accepted_by: Officer | None,
        acting_officer: Officer | None,
        day: dt.date,
        now: dt.datetime,
    ) -> None:
        self.post = post
        self.acting_officer = acting_officer
        self.day = day
        self.now = now
        self.tz = timezone.get_current_timezone()
        self.default_officer = accepted_by.id if accepted_by is not None else None
        self.errors: list[RowError] = []
        # Everything looked up is loaded once here: no query per row (and none while the
        # writer thread holds the connection).
        self.beats: dict[int, tuple[int, int]] = {}
        self.beat_codes: dict[str, int] = {}
        for beat_id, code, post_id, station_id in Beat.objects.values_list(
            "id", "code", "post_id", "post__station_id"
        ):
            self.beats[beat_id] = (post_id, station_id)
            if post is not None and post_id == post.id:
                self.beat_codes[code] = beat_id
        buildings = Building.objects.all()
        cards_in_use = ContactCard.objects.filter(
            status=CardStatus.ACTIVE, index_number__isnull=False
        )
        if post is not None:
            buildings = buildings.filter(post=post)
            cards_in_use = cards_in_use.filter(post=post)
        self.existing_buildings: dict[tuple[int, str], int] = {
            (beat_id, name): building_id
            for beat_id, name, building_id in buildings.values_list("beat_id", "name", "id")
        }
        #: post → 索引番号 in use by its active cards, and by the rows so far.
        self.index_numbers: dict[int, set[int]] = {}
        for post_id, number in cards_in_use.values_list("post_id", "index_number"):
            self.index_numbers.setdefault(post_id, set()).add(number or 0)
        self.officers = dict(Officer.objects.values_list("username", "id"))
        self.officer_ids = set(self.officers.values())
        self.writable: set[int] | None = (
            None
            if acting_officer is None
            else set(posts_writable_by(acting_officer).values_list("id", flat=True))
        )
        #: New buildings: (beat, name) → field values; rooms seen widen floors × rooms.
        self.new_buildings: dict[tuple[int, str], dict[str, Any]] = {}
        self.pending_buildings: list[dict[str, Any]] = []
        self.buildings_made = 0
        self.post_ids: set[int] = set()
        self.station_ids: set[int] = set()
        self.folds: dict[str, str] = {}

    def _fold(self, text: str) -> str:
        """fold(), remembered for this load only: names and readings repeat a great deal."""
        key = self.folds.get(text)
        if key is None:
            key = self.folds[text] = fold(text)
        return key

    def take_new_buildings(self) -> list[dict[str, Any]]:
        """Buildings first named since the last call: they go in with that batch."""
        taken, self.pending_buildings = self.pending_buildings, []
        self.buildings_made += len(taken)
        for b in taken:
            b["written"] = (b["floors"], b["rooms_per_floor"])
        return taken

    def widen_buildings(self, ids: dict[tuple[int, str], int]) -> None:
        """Rooms named in later batches than a new building's first may widen it."""
        for key, b in self.new_buildings.items():
            if b.get("written") != (b["floors"], b["rooms_per_floor"]):
                Building.objects.filter(id=ids[key]).update(
                    floors=b["floors"], rooms_per_floor=b["rooms_per_floor"]
                )

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    # -- lookups, each loaded once --------------------------------------------------------

    def _officer(self, value: int | str) -> int | None:
        if isinstance(value, int):
            return value if value in self.officer_ids else None
        return self.officers.get(value.strip())

    def _index_numbers(self, post_id: int) -> set[int]:
        return self.index_numbers.setdefault(post_id, set())

    # -- one row --------------------------------------------------------------------------

    def check(self, row: HouseholdRow) -> _Plan | None:
        errors_before = len(self.errors)
        line = row.line
        beat = self._beat(row)
        values = self._household_fields(row)
        building_key = self._building(row, beat, values)
        versions = self._card_versions(row, values.get("kind"))
        if len(self.errors) > errors_before or beat is None:
            return None
        beat_id, post_id, station_id = beat
        if post_id not in self.post_ids:
            if self.writable is not None and post_id not in self.writable:
                raise PermissionDeniedError("この交番等の巡回連絡カードを変更する権限がありません")
            self.post_ids.add(post_id)
        self.station_ids.add(station_id)
        kind = values["kind"]

        planned = (
            self._card_rows(line, post_id, versions)
            if versions
            else _CardRows(None, [], [], [], [], None)
        )
        if planned is None:
            return None
        card, residents, contacts, vehicles, revisions, elderly_from = planned
        category = category_of(
            has_card=card is not None,
            kind=kind,
            elderly_flag=values["elderly_flag"],
            all_elderly_from=elderly_from,
            day=self.day,
        )
        building_name = building_key[1] if building_key else ""
        created_at = row.created_at or self.now
        address_key = actions.address_key(
            values["town"],
            values["chome"],
            values["banchi"],
            values["go"],
            building_name,
            values["room"],
        )
        household = (
            kind,
            values["name"],
            values["town"],
            values["chome"],
            values["banchi"],
            values["go"],
            values["room"],
            values["block_group"],
            values["map_number"],
            values["latitude"],
            values["longitude"],
            _ACTIVE_HOUSEHOLD,
            values["elderly_flag"],
            values["leader_role"],
            category,
            _PRIORITY[category],
            elderly_from,
            address_key,
            created_at,
            # A household never visited (schedule.due_date's rule for it).
            first_due(created_at, self.tz),
        )
        return _Plan(
            beat_id,
            post_id,
            station_id,
            building_key,
            household,
            card,
            residents,
            contacts,
            vehicles,
            revisions,
        )

    def _card_rows(
        self,
        line: int,
        post_id: int,
        versions: list[tuple[dt.datetime, str, str, int | None, cards.CardData]],
    ) -> _CardRows | None:
        """The card's rows (its final version, residents, contacts, vehicles) and one revision
        per version; None with the line's error when they cannot be."""
        residents: list[tuple[Any, ...]] = []
        revisions: list[tuple[Any, ...]] = []
        final = versions[-1][4]
        number = final["index_number"]
        if number is not None:
            used = self._index_numbers(post_id)
            if number in used:
                self.error(
                    line,
                    CARD_COLUMNS["index_number"],
                    f"索引番号 {number} はこの交番等で既に使われています",
                )
                return None
            used.add(number)
        previous: cards.CardData | None = None
        for version, (at, basis, note, by, data) in enumerate(versions, start=1):
            changes = cards.diff(previous, data)
            if previous is not None and not changes:
                self.error(line, "", f"補正{version - 1}: 変更された項目がありません")
                return None
            revisions.append(
                (
                    version,
                    at,
                    by,
                    basis,
                    note[:200],
                    # orjson: the same compact text as json.dumps, in an eighth of the
                    # time (30 µs a card with the standard library, 0.5 M cards).
                    orjson.dumps(changes).decode(),
                )
            )
            previous = data
        births: list[dt.date | None] = []
        for i, r in enumerate(final["residents"]):
            birth = dt.date.fromisoformat(r["birth_date"]) if r["birth_date"] else None
            births.append(birth)
            residents.append(
                (
                    post_id,
                    i,
                    r["name"],
                    r["kana"],
                    r["relation"],
                    birth,
                    r["sex"],
                    r["workplace"],
                    r["phone"],
                    *resident_keys(r["name"], r["kana"], r["phone"], fold=self._fold),
                )
            )
        contacts = [
            (i, c["name"], c["relation"], c["phone"]) for i, c in enumerate(final["contacts"])
        ]
        vehicles = [(i, v["description"], v["plate"]) for i, v in enumerate(final["vehicles"])]
        elderly_from = all_elderly_from(births)
        card = (
            post_id,
            _ACTIVE_CARD,
            final["source"],
            dt.date.fromisoformat(final["accepted_on"]),
            versions[0][3],
            final["binder_number"],
            number,
            final["preferred_days"],
            final["preferred_times"],
            final["needs_support"],
            final["support_consent"],
            final["remarks"],
            final["requests"],
            len(versions),
            versions[-1][0],
        )
        return _CardRows(card, residents, contacts, vehicles, revisions, elderly_from)

    def _beat(self, row: HouseholdRow) -> tuple[int, int, int] | None:
        column = HOUSEHOLD_COLUMNS["beat"]
        value = row.beat
        beat_id: int | None
        if isinstance(value, int):
            beat_id = value if value in self.beats else None
            if beat_id is None:
                self.error(row.line, column, f"受持区（ID {value}）がありません")
                return None
        else:
            code = _as_text(value)
            if not code:
                self.error(row.line, column, "受持区コードを入力してください")
                return None
            if self.post is None:
                self.error(row.line, column, "交番等が指定されていないため受持区を特定できません")
                return None
            beat_id = self.beat_codes.get(code)
            if beat_id is None:
                self.error(
                    row.line, column, f"受持区「{code}」は{self.post.name}の受持区にありません"
                )
                return None
        post_id, station_id = self.beats[beat_id]
        if self.post is not None and post_id != self.post.id:
            self.error(
                row.line, column, f"受持区（ID {beat_id}）は{self.post.name}のものではありません"
            )
            return None
        return beat_id, post_id, station_id

    def _household_fields(self, row: HouseholdRow) -> dict[str, Any]:
        """The checks of actions._check_household, plus types and lengths for text input."""
        raw = row.fields
        line = row.line
        out: dict[str, Any] = {}
        kind_text = _as_text(raw.get("kind"))
        kind = _KINDS.get(kind_text)
        if kind is None:
            self.error(
                line,
                HOUSEHOLD_COLUMNS["kind"],
                "種別は「居住」か「事業所等（非居住）」を選んでください",
            )
        out["kind"] = kind
        for name in _TEXT_FIELDS:
            text = _as_text(raw.get(name))
            limit = _MAX_LENGTH[name]
            if len(text) > limit:
                self.error(line, HOUSEHOLD_COLUMNS[name], f"{limit}文字以内で入力してください")
            out[name] = text
        if not out["town"]:
            self.error(line, HOUSEHOLD_COLUMNS["town"], "町名を入力してください")
        number = raw.get("map_number")
        if isinstance(number, int) or number is None:
            out["map_number"] = number
        else:
            text = unicodedata.normalize("NFKC", _as_text(number))
            out["map_number"] = int(text) if text.isdigit() else None
            if text and not text.isdigit():
                self.error(
                    line, HOUSEHOLD_COLUMNS["map_number"], "整理番号は0以上の整数で入力してください"
                )
        if isinstance(out["map_number"], int) and not 0 <= out["map_number"] < 2**31:
            self.error(
                line, HOUSEHOLD_COLUMNS["map_number"], "整理番号は0以上の整数で入力してください"
            )
        for name, bound, label in (("latitude", 90, "緯度"), ("longitude", 180, "経度")):
            value = raw.get(name)
            try:
                number_value = (
                    value.quantize(_MICRO) if isinstance(value, Decimal) else _as_decimal(value)
                )
            except (ValueError, InvalidOperation):
                self.error(line, HOUSEHOLD_COLUMNS[name], f"{label}は数値で入力してください")
                number_value = None
            if number_value is not None and not -bound <= number_value <= bound:
                self.error(
                    line,
                    HOUSEHOLD_COLUMNS[name],
                    f"{label}は-{bound}〜{bound}の範囲で入力してください",
                )
                number_value = None
            out[name] = number_value
        try:
            out["elderly_flag"] = parse_flag(raw.get("elderly_flag"))
        except ValueError:
            self.error(
                line,
                HOUSEHOLD_COLUMNS["elderly_flag"],
                "高齢者世帯は「○」（該当）か空欄で入力してください",
            )
            out["elderly_flag"] = False
        role = _LEADER_ROLES.get(_as_text(raw.get("leader_role")))
        if role is None:
            self.error(
                line,
                HOUSEHOLD_COLUMNS["leader_role"],
                "地域の役職は自治委員・区長・班長・組長のいずれか（なければ空欄）で入力してください",
            )
            role = ""
        out["leader_role"] = role
        return out

    def _building(
        self, row: HouseholdRow, beat: tuple[int, int, int] | None, values: dict[str, Any]
    ) -> tuple[int, str] | None:
        spec = row.building
        if spec is None or spec == "":
            return None
        if isinstance(spec, str):
            spec = BuildingSpec(name=spec)
        name = _as_text(spec.name)
        if not name:
            return None
        if len(name) > 100:
            self.error(row.line, HOUSEHOLD_COLUMNS["building"], "100文字以内で入力してください")
            return None
        if beat is None:
            return None
        beat_id, post_id, _ = beat
        key = (beat_id, name)
        if key in self.existing_buildings:
            return key
        new = self.new_buildings.get(key)
        if new is None:
            new = {
                "post_id": post_id,
                "beat_id": beat_id,
                "name": name,
                "town": values["town"][:50],
                "chome": values["chome"][:10],
                "banchi": values["banchi"][:20],
                "go": values["go"][:20],
                "floors": spec.floors or 1,
                "rooms_per_floor": spec.rooms_per_floor or 1,
                "manager_contact": spec.manager_contact[:200],
                "given": spec.floors is not None,
            }
            self.new_buildings[key] = new
            self.pending_buildings.append(new)
        room = unicodedata.normalize("NFKC", values["room"])
        if not new["given"] and room.isdigit() and len(room) >= 3:
            # 203号室: 2階の3番目. Floors × rooms widen to the largest room seen.
            floor, number = int(room[:-2]), int(room[-2:])
            new["floors"] = min(max(new["floors"], floor), 200)
            new["rooms_per_floor"] = min(max(new["rooms_per_floor"], number), 200)
        return key

    def _card_versions(
        self, row: HouseholdRow, kind: str | None
    ) -> list[tuple[dt.datetime, str, str, int | None, cards.CardData]]:
        """The card as first made and after each correction, each through cards.clean."""
        if row.card is None:
            if row.corrections:
                self.error(row.line, "", "カードのない世帯に補正はできません")
            return []
        residence = kind != _BUSINESS
        acceptor: int | None
        if row.accepted_by is not None and row.accepted_by != "":
            acceptor = self._officer(row.accepted_by)
            if acceptor is None:
                self.error(
                    row.line,
                    CARD_COLUMNS["accepted_by"],
                    f"職員「{row.accepted_by}」が登録されていません",
                )
        else:
            acceptor = self.default_officer
            if acceptor is None:
                self.error(
                    row.line,
                    CARD_COLUMNS["accepted_by"],
                    "カードを受理した職員が指定されていません",
                )
        versions: list[tuple[dt.datetime, str, str, int | None, cards.CardData]] = []
        first = self._clean(row, row.card, residence, prefix="")
        if first is not None:
            versions.append((row.card_at or self.now, _NEW, "", acceptor, first))
        for n, correction in enumerate(row.corrections, start=1):
            data = self._clean(row, correction.data, residence, prefix=f"補正{n} ")
            by = acceptor
            if correction.by is not None:
                by = self._officer(correction.by)
                if by is None:
                    self.error(row.line, "", f"補正{n}: 職員（ID {correction.by}）がいません")
            basis = str(correction.basis)
            if basis not in _BASES:  # as actions.do_save_card
                self.error(row.line, "", f"補正{n}: 補正の根拠の値が正しくありません")
            elif basis == _NEW:
                basis = RevisionBasis.VISIT.value  # a correction is never the card's making
            if data is not None:
                versions.append((correction.at, basis, correction.note, by, data))
        if acceptor is None:
            return []
        return versions

    def _clean(
        self, row: HouseholdRow, data: cards.CardData, residence: bool, *, prefix: str
    ) -> cards.CardData | None:
        try:
            return cards.clean(data, today=self.day, residence=residence)
        except cards.CardInvalid as exc:
            for path, message in exc.errors.items():
                line, column = self._where(row, path)
                self.error(line, prefix + column, _strip_label(message, column))
            return None

    def _where(self, row: HouseholdRow, path: str) -> tuple[int, str]:
        """A card error path ("residents.1.birth_date") as the source line and column name."""
        parts = path.split(".")
        lines = row.lines or {}
        if parts[0] == "residents" and len(parts) == 3:
            return lines.get(f"residents.{parts[1]}", row.line), RESIDENT_COLUMNS[parts[2]]
        if parts[0] == "residents":
            return row.line, RESIDENT_COLUMNS["name"]
        if parts[0] == "contacts" and len(parts) == 3:
            return lines.get(f"contacts.{parts[1]}", row.line), CONTACT_COLUMNS[parts[2]]
        if parts[0] == "vehicles":
            return row.line, "車両"
        return row.line, CARD_COLUMNS.get(parts[0]) or cards.LABELS.get(parts[0], "")


def _strip_label(message: str, column: str) -> str:
    """ "世帯員2の生年月日: 「…」は…" under the column 生年月日 reads "「…」は…"."""
    message = _RESIDENT_PREFIX.sub("", message)
    for label in (column, column.removeprefix("緊急連絡先")):
        if label and message.startswith(f"{label}: "):
            return message[len(label) + 2 :]
    return message


# --- writing ----------------------------------------------------------------------------


class TableWriter:
    """Inserts plain tuples through one cursor: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, cursor: Any, vendor: str) -> None:
        self.cursor = cursor
        self.vendor = vendor
        self.building_ids: dict[tuple[int, str], int] = {}

    def allocate(self, model: type[models.Model], count: int) -> list[int]:
        """`count` new primary keys, reserved from the table's own sequence."""
        if count == 0:
            return []
        table = model._meta.db_table
        cursor = self.cursor
        if self.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [r[0] for r in cursor.fetchall()]
        # SQLite: the transaction holds the write lock, so nobody else takes these ids.
        cursor.execute(f'SELECT max(id) FROM "{table}"')  # noqa: S608 (a model's table)
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        return list(range(start, start + count))

    def insert(
        self, model: type[models.Model], names: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        meta = model._meta
        given = [
            cast("models.Field[Any, Any]", meta.get_field(n.removesuffix("_id"))) for n in names
        ]
        given_names = {f.name for f in given}
        # Columns the caller does not set take their model default (a field added later too).
        rest = [f for f in meta.concrete_fields if f.name not in given_names and not f.primary_key]
        columns = ", ".join(f'"{f.column}"' for f in [*given, *rest])
        defaults = tuple(self._default(f) for f in rest)
        table = meta.db_table
        if self.vendor == "postgresql":
            with self.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row + defaults)
            return
        datetimes = [i for i, f in enumerate(given) if isinstance(f, models.DateTimeField)]
        adapt = connection.ops.adapt_datetimefield_value
        values = []
        for row in rows:
            if datetimes:
                items = list(row)
                for i in datetimes:
                    items[i] = adapt(items[i])
                row = tuple(items)
            values.append(row + defaults)
        placeholders = ", ".join(["%s"] * (len(given) + len(rest)))
        self.cursor.executemany(
            f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})',  # noqa: S608
            values,
        )

    def _default(self, f: models.Field[Any, Any]) -> Any:
        value = f.get_default()
        if isinstance(f, models.JSONField):
            return json.dumps(value)
        if isinstance(value, dt.datetime) and self.vendor == "sqlite":
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def write(self, batch: _Batch) -> None:
        """One batch: its new buildings, then households, cards and what hangs on them."""
        building_ids = self.allocate(Building, len(batch.buildings))
        for building_id, b in zip(building_ids, batch.buildings, strict=True):
            self.building_ids[(b["beat_id"], b["name"])] = building_id
        self.insert(
            Building,
            _BUILDING_FIELDS,
            (
                (i, *(b[name] for name in _BUILDING_FIELDS[1:]))
                for i, b in zip(building_ids, batch.buildings, strict=True)
            ),
        )
        plans = batch.plans
        household_ids = self.allocate(Household, len(plans))
        card_ids = iter(self.allocate(ContactCard, sum(1 for p in plans if p.card is not None)))
        plan_cards = [next(card_ids) if p.card is not None else None for p in plans]
        self.insert(
            Household,
            _HOUSEHOLD_FIELDS,
            (
                (
                    household_id,
                    p.beat_id,
                    p.post_id,
                    p.station_id,
                    self.building_ids[p.building_key] if p.building_key else None,
                    *p.household,
                )
                for household_id, p in zip(household_ids, plans, strict=True)
            ),
        )
        self.insert(
            ContactCard,
            _CARD_FIELDS,
            (
                (card_id, household_id, *p.card)
                for household_id, card_id, p in zip(household_ids, plan_cards, plans, strict=True)
                if p.card is not None
            ),
        )
        for model, names, attribute in (
            (Resident, _RESIDENT_FIELDS, "residents"),
            (EmergencyContact, _CONTACT_FIELDS, "contacts"),
            (Vehicle, _VEHICLE_FIELDS, "vehicles"),
            (CardRevision, _REVISION_FIELDS, "revisions"),
        ):
            self.insert(
                model,
                names,
                (
                    (card_id, *item)
                    for card_id, p in zip(plan_cards, plans, strict=True)
                    for item in getattr(p, attribute)
                ),
            )


class _SetWiseKeys:
    """The foreign keys of the loaded tables (a card's household, a resident's card and post,
    a household's beat, …), dropped for a big load and added back before it commits.

    Row by row, PostgreSQL looks up the referenced row once per key per row: 1.9 million
    lookups of about 7 µs for 100,000 households, 40 % of the database's work in the load.
    Adding a key back checks every row of the table in one join (about 1 s at 100,000).
    Nothing goes unchecked: a row that broke a key fails the load, and all of it happens in
    the load's transaction, so a failed load leaves the keys as they were.
    The price is ALTER TABLE's exclusive lock, until the commit, on the seven household tables
    and on the tables they refer to (officers, stations, posts, beats): every page waits for
    the load. That is a data migration's maintenance window (a prefecture's first load, about
    two minutes for 500,000 households), hence only for loads of SET_WISE_KEYS_AFTER rows or
    more, whose command says so beforehand; and only if the tables can be had within
    SET_WISE_LOCK_WAIT, else the load checks row by row as usual.
    """

    MODELS = (Building, Household, ContactCard, Resident, EmergencyContact, Vehicle, CardRevision)

    def __init__(self) -> None:
        self.keys: list[tuple[str, str, str]] = []  # table, constraint, definition

    def drop(self) -> bool:
        tables = [m._meta.db_table for m in self.MODELS]
        try:
            with transaction.atomic(), connection.cursor() as cursor:  # a savepoint
                cursor.execute("SELECT current_setting('lock_timeout')")
                lock_timeout = cursor.fetchone()[0]
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [SET_WISE_LOCK_WAIT])
                cursor.execute(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                    " FROM pg_constraint WHERE contype = 'f'"
                    " AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                    [tables],
                )
                keys = cursor.fetchall()
                for table, name, _ in keys:
                    cursor.execute(
                        f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}"
                    )
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        except OperationalError as exc:
            # lock_not_available, or a deadlock with a page that holds one table and wants
            # another: somebody is using the tables, so check row by row.
            if getattr(exc.__cause__, "sqlstate", None) not in ("55P03", "40P01"):
                raise
            return False
        self.keys = keys
        return True

    def restore(self) -> None:
        """Add the keys back; each checks the whole table (IntegrityError fails the load)."""
        with connection.cursor() as cursor:
            for table, name, definition in self.keys:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
                )
        self.keys = []


@dataclass(slots=True)
class _Batch:
    plans: list[_Plan]
    buildings: list[dict[str, Any]]


class _Sink:
    """Where checked batches go. On PostgreSQL a second thread writes them on the same
    connection (same transaction) while this one checks the next batch, so the database's
    work (indexes, foreign keys) overlaps Python's; on SQLite they are written in turn."""

    def __init__(self, *, set_wise_keys: bool) -> None:
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"bulk load on {self.vendor}")
        self.written = 0
        self.stopped = False
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        self.queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        connection.ensure_connection()
        self.keys = _SetWiseKeys()
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Check foreign keys as each batch goes in, not all at the commit: the
                # checks then run while Python is busy with the next batch. (This also
                # checks what the transaction wrote before: ALTER TABLE needs that done.)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if set_wise_keys:
                self.keys.drop()
            raw = connection.connection
            assert raw is not None
            self.tables = TableWriter(raw.cursor(), self.vendor)
            # The checking thread would keep the GIL for the default 5 ms whenever the writer
            # comes back from the socket; a short interval lets it hand over the next rows
            # at once (measured: 50,000 rows in 16 s instead of 27 s).
            self.switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(0.0002)
            self.thread = threading.Thread(target=self._run, name="bulk-load-writer", daemon=True)
            self.thread.start()
        else:
            self.tables = TableWriter(connection.cursor(), self.vendor)

    def put(self, batch: _Batch) -> None:
        if self.thread is None:
            self.tables.write(batch)
            self.written += len(batch.plans)
        else:
            self._raise()
            self.queue.put(batch)

    def _run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is None and not self.stopped:
                try:
                    self.tables.write(batch)
                    self.written += len(batch.plans)
                except BaseException as exc:  # handed to the main thread in _raise
                    self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            with connection.wrap_database_errors:  # as Django's own (IntegrityError, …)
                raise self.error

    def close(self) -> None:
        """Wait for the writes; raise what went wrong in them. (The caller restores the keys
        once it knows the load is whole: self.keys.restore().)"""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
            sys.setswitchinterval(self.switch_interval)
            if self.error is None and not self.stopped:
                # Back to Django's default for the rest of an enclosing transaction.
                self.tables.cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        self.tables.cursor.close()
        self._raise()


@transaction.atomic
def do_bulk_load(
    rows: Iterable[HouseholdRow],
    *,
    acting_officer: Officer | None,
    source: str,
    post: Post | None = None,
    accepted_by: Officer | None = None,
    progress: Progress | None = None,
    total: int | None = None,
    set_wise_keys: bool = True,
) -> BulkResult:
    """Check every row and write them all, or raise BulkLoadError having written nothing.

    `post`: rows may name their beat by code within it, and every row must belong to it.
    `accepted_by`: who accepted the cards when a row does not say (default: acting_officer).
    `total`: the number of rows, for the progress bar, when `rows` is a generator.
    `set_wise_keys=False`: check the keys row by row whatever the size, holding no page back
    (a check that writes nothing, import-households --check).
    Raises PermissionDeniedError when the acting officer may not write one of the posts.

    Checked rows are written batch by batch while later rows are still being checked; the
    first error stops the writing, the checking goes on to list every error, and then the
    transaction is rolled back, so the database is as before.
    """
    started = time.perf_counter()
    if acting_officer is not None and post is not None:
        actions._require_write(acting_officer, post.id)
    if isinstance(rows, Sequence):
        total = len(rows)
    checker = _Checker(
        post=post,
        accepted_by=accepted_by or acting_officer,
        acting_officer=acting_officer,
        day=today(),
        now=timezone.now(),
    )
    sink = _Sink(set_wise_keys=set_wise_keys and total is not None and total >= SET_WISE_KEYS_AFTER)
    sink.tables.building_ids.update(checker.existing_buildings)
    writing = WRITING_EXCLUSIVE if sink.keys.keys else "書き込み"
    counts = dict.fromkeys(("cards", "residents", "contacts", "revisions"), 0)
    checked = 0
    # Hundreds of thousands of rows stay alive until written, and every full collection of
    # the cyclic garbage collector would walk them all; nothing here makes a cycle. (500,000
    # rows: 128 s of Python instead of 166.)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for batch in _batches(rows, BATCH_SIZE):
            plans = []
            for row in batch:
                plan = checker.check(row)
                if plan is not None:
                    plans.append(plan)
            checked += len(batch)
            if not checker.errors:
                counts["cards"] += sum(1 for p in plans if p.card is not None)
                counts["residents"] += sum(len(p.residents) for p in plans)
                counts["contacts"] += sum(len(p.contacts) for p in plans)
                counts["revisions"] += sum(len(p.revisions) for p in plans)
                sink.put(_Batch(plans, checker.take_new_buildings()))
            if progress is not None:
                progress("検証", checked, total)
                progress(writing, sink.written, total)
    except BaseException:
        sink.stopped = True  # the transaction is lost anyway: write no more
        raise
    finally:
        sink.close()
        if collecting:
            gc.enable()
    if progress is not None:
        progress(writing, sink.written, total)
    if checker.errors:
        raise BulkLoadError(checker.errors)  # the rollback puts dropped keys back too
    sink.keys.restore()
    checker.widen_buildings(sink.tables.building_ids)
    if connection.vendor == "postgresql" and checked >= ANALYZE_AFTER:
        # Fresh statistics: right after a load this size the planner would otherwise guess,
        # and a station-wide search took 190 ms instead of 40 until autovacuum came by.
        with connection.cursor() as cursor:
            for model in (Household, ContactCard, Resident, EmergencyContact, CardRevision):
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    result = BulkResult(
        households=checked,
        cards=counts["cards"],
        residents=counts["residents"],
        contacts=counts["contacts"],
        revisions=counts["revisions"],
        buildings=checker.buildings_made,
        seconds=time.perf_counter() - started,
    )
    record(
        EventType.HOUSEHOLDS_IMPORTED,
        actor=acting_officer,
        object_type="households.household",
        station_id=next(iter(checker.station_ids)) if len(checker.station_ids) == 1 else None,
        # Counts only: never a name, an address or a number from the rows.
        details={
            "source": source,
            "rows": checked,
            "households": result.households,
            "cards": result.cards,
            "residents": result.residents,
            "buildings": result.buildings,
            "revisions": result.revisions,
        },
    )
    return result


def _batches(rows: Iterable[HouseholdRow], size: int) -> Iterator[list[HouseholdRow]]:
    batch: list[HouseholdRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- a progress bar for the commands ------------------------------------------------------


@contextmanager
def tqdm_progress(
    file: IO[str] | None = None, *, disable: bool | None = None
) -> Iterator[Progress]:
    """progress() for do_bulk_load drawn as tqdm bars, one line per phase (by default only
    on a terminal)."""
    from tqdm import tqdm

    bars: dict[str, tqdm[Any]] = {}

    def update(phase: str, done: int, total: int | None) -> None:
        bar = bars.get(phase)
        if bar is None:
            bar = tqdm(
                total=total,
                desc=phase,
                unit="世帯",
                file=file,
                disable=disable,
                position=len(bars),
                leave=True,
            )
            bars[phase] = bar
        if done > bar.n:
            bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()
