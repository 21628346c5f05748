"""The content of a contact card as one plain structure, shared by the page, the API and import.

`snapshot(card)` gives it (the API returns exactly this, so a read-modify-write round trip
works); `clean(data)` checks what a page or the API sends and returns it normalised, or raises
CardInvalid with Japanese messages keyed by field path ("residents.1.birth_date").
`diff(old, new)` lists each change old → new for the correction record (補正).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from django.db import models
from django.db.models import QuerySet, TextField, Value
from django.db.models.functions import Cast

from junkai.households.models import (
    CardSource,
    ContactCard,
    EmergencyContact,
    Resident,
    Sex,
    Vehicle,
)
from junkai.lib.dates import DateFormatError, parse_date
from junkai.lib.kana import digits, reading
from junkai.lib.text import text_problem

# Looked up for every resident of every imported card: plain sets and dicts, not the enums.
_SOURCES = frozenset(CardSource.values)
_SEXES = frozenset(Sex.values)
_SOURCE_LABELS = {value: str(label) for value, label in CardSource.choices}
_SEX_LABELS = {value: str(label) for value, label in Sex.choices}

CARD_FIELDS = (
    "source",
    "accepted_on",
    "binder_number",
    "index_number",
    "preferred_days",
    "preferred_times",
    "needs_support",
    "support_consent",
    "remarks",
    "requests",
)
RESIDENT_FIELDS = ("name", "kana", "relation", "birth_date", "sex", "workplace", "phone")
CONTACT_FIELDS = ("name", "relation", "phone")
VEHICLE_FIELDS = ("description", "plate")

LABELS = {
    "source": "記入者",
    "accepted_on": "受理日",
    "binder_number": "簿冊番号",
    "index_number": "索引番号",
    "preferred_days": "訪問希望の曜日",
    "preferred_times": "訪問希望の時間帯",
    "needs_support": "要援護",
    "support_consent": "要援護の同意",
    "remarks": "備考",
    "requests": "警察への要望",
    "name": "氏名",
    "kana": "ふりがな",
    "relation": "続柄",
    "birth_date": "生年月日",
    "sex": "性別",
    "workplace": "勤務先・学校",
    "phone": "電話",
    "description": "車種・色",
    "plate": "登録番号",
}
LIST_LABELS = {"residents": "世帯員", "contacts": "緊急連絡先", "vehicles": "車両"}
#: The index number's column (PositiveIntegerField) holds no more: PostgreSQL would refuse it.
MAX_INDEX_NUMBER = 2_147_483_647
_LISTS = (
    ("residents", RESIDENT_FIELDS),
    ("contacts", CONTACT_FIELDS),
    ("vehicles", VEHICLE_FIELDS),
)

CardData = dict[str, Any]


class CardInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def snapshot(card: ContactCard) -> CardData:
    return {
        "source": card.source,
        "accepted_on": _iso(card.accepted_on),
        "binder_number": card.binder_number,
        "index_number": card.index_number,
        "preferred_days": card.preferred_days,
        "preferred_times": card.preferred_times,
        "needs_support": card.needs_support,
        "support_consent": card.support_consent,
        "remarks": card.remarks,
        "requests": card.requests,
        "residents": [
            {
                "name": r.name,
                "kana": r.kana,
                "relation": r.relation,
                "birth_date": _iso(r.birth_date),
                "sex": r.sex,
                "workplace": r.workplace,
                "phone": r.phone,
            }
            for r in card.residents.all()
        ],
        "contacts": [
            {"name": c.name, "relation": c.relation, "phone": c.phone} for c in card.contacts.all()
        ],
        "vehicles": [{"description": v.description, "plate": v.plate} for v in card.vehicles.all()],
    }


#: A card's lists (related name → model), read together by `prefetch_lists`.
_CARD_LISTS: tuple[tuple[str, type[models.Model]], ...] = (
    ("residents", Resident),
    ("contacts", EmergencyContact),
    ("vehicles", Vehicle),
)


def prefetch_lists(cards: Sequence[ContactCard]) -> None:
    """Each card's residents, emergency contacts and vehicles, left on it as
    `prefetch_related("residents", "contacts", "vehicles")` would leave them — in one query
    instead of three (a household's page and the API's read of it are hot paths): the three
    tables as one UNION ALL, every column as text, turned back by each field's `to_python`."""
    if not cards:
        return
    ids = [card.id for card in cards]
    width = max(len(model._meta.concrete_fields) for _, model in _CARD_LISTS)
    parts = []
    for kind, (_, model) in enumerate(_CARD_LISTS):
        fields = model._meta.concrete_fields
        columns: dict[str, Any] = {
            f"c{i}": Cast(f.attname, TextField()) for i, f in enumerate(fields)
        }
        columns |= {f"c{i}": Value(None, TextField()) for i in range(len(fields), width)}
        parts.append(
            model._default_manager.filter(card_id__in=ids)
            .order_by()
            .annotate(kind=Value(kind), **columns)
            .values_list("kind", *columns)
        )
    found: dict[tuple[int, int], list[models.Model]] = defaultdict(list)
    db = ContactCard.objects.db
    for kind, *texts in parts[0].union(*parts[1:], all=True):
        model = _CARD_LISTS[kind][1]
        fields = model._meta.concrete_fields
        row = model.from_db(
            db,
            [f.attname for f in fields],
            [f.to_python(text) for f, text in zip(fields, texts, strict=False)],
        )
        found[(row.card_id, kind)].append(row)
    for card in cards:
        cache = getattr(card, "_prefetched_objects_cache", None)
        if cache is None:
            cache = card._prefetched_objects_cache = {}  # type: ignore[attr-defined]
        for kind, (name, model) in enumerate(_CARD_LISTS):
            rows = sorted(found[(card.id, kind)], key=_in_order)
            for row in rows:
                model._meta.get_field("card").set_cached_value(row, card)  # type: ignore[union-attr]
            related = getattr(card, name).get_queryset()
            related._result_cache = rows
            related._prefetch_done = True
            cache[name] = related


def _in_order(row: Any) -> tuple[int, int]:
    return (row.position, row.pk)


_HEAD_FIELDS = (
    "source",
    "accepted_on",
    "binder_number",
    "index_number",
    "preferred_days",
    "preferred_times",
    "needs_support",
    "support_consent",
    "remarks",
    "requests",
)


def snapshots(card_ids: Collection[int] | QuerySet[Any, Any]) -> dict[int, CardData]:
    """`snapshot` of many cards at once, by card id, in four queries and without a model per
    row (a beat of 1,000 cards for a device: the per-card prefetch cost seconds). `card_ids`
    may be a query of ids (`.values("id")`), run as a subquery."""
    out: dict[int, CardData] = {}
    for head in ContactCard.objects.filter(id__in=card_ids).values("id", *_HEAD_FIELDS):
        row: dict[str, Any] = dict(head)
        row["accepted_on"] = _iso(row["accepted_on"])
        out[row.pop("id")] = {**row, "residents": [], "contacts": [], "vehicles": []}
    residents = (
        Resident.objects.filter(card_id__in=card_ids)
        .order_by("card_id", "position")
        .values("card_id", "name", "kana", "relation", "birth_date", "sex", "workplace", "phone")
    )
    for resident in residents:
        item: dict[str, Any] = dict(resident)
        item["birth_date"] = _iso(item["birth_date"])
        out[item.pop("card_id")]["residents"].append(item)
    contacts = (
        EmergencyContact.objects.filter(card_id__in=card_ids)
        .order_by("card_id", "position")
        .values("card_id", "name", "relation", "phone")
    )
    for contact in contacts:
        item = dict(contact)
        out[item.pop("card_id")]["contacts"].append(item)
    vehicles = (
        Vehicle.objects.filter(card_id__in=card_ids)
        .order_by("card_id", "position")
        .values("card_id", "description", "plate")
    )
    for vehicle in vehicles:
        item = dict(vehicle)
        out[item.pop("card_id")]["vehicles"].append(item)
    return out


#: A card (第1号様式) lists one household's members: bounded, so that one card cannot hold up
#: its save, its PDF or a beat's export (a card of 12,000 residents once took 8 s to save).
_LIST_LIMITS = (
    ("residents", 100, "世帯員"),
    ("contacts", 10, "緊急連絡先"),
    ("vehicles", 20, "車両"),
)
_HEAD_TEXTS = ("binder_number", "preferred_days", "preferred_times", "remarks", "requests")


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _too_long_message(label: str, limit: int) -> str:
    return f"{label}は{limit}文字以内で入力してください"


def _text(value: Any, limit: int, path: str, label: str, errors: dict[str, str]) -> str:
    text = _str(value)
    if len(text) > limit:
        errors[path] = _too_long_message(label, limit)
    return text


def _day(value: Any, today: dt.date) -> tuple[str | None, str | None]:
    """(the date in ISO form, or None when empty; what is wrong, to follow its label, or None)."""
    if value is None or value == "":
        return None, None
    try:
        day = value if isinstance(value, dt.date) else parse_date(str(value))
    except DateFormatError as exc:
        return None, f": {exc}"
    if day > today:
        return day.isoformat(), "が未来の日付です"
    if day.year < 1900:
        return day.isoformat(), "が古すぎます（1900年以降）"
    return day.isoformat(), None


# A number already as the form keeps it (half width, single hyphens): the common case, kept as is.
_PLAIN_PHONE = re.compile(r"0[0-9]*(?:-[0-9]+)*")


def _phone_of(value: Any) -> tuple[str, bool]:
    """(the number in half width with the resident's grouping, 090-1234-5678; whether it is a
    phone number: 10–11 digits from 0)."""
    text = _str(value)
    if not text:
        return "", True
    if text.isascii() and _PLAIN_PHONE.fullmatch(text):
        return text, 10 <= len(text) - text.count("-") <= 11
    number = digits(text)
    if not 10 <= len(number) <= 11 or not number.startswith("0"):
        return text, False
    normal = unicodedata.normalize("NFKC", text)
    grouped = "".join(c if c.isdigit() else "-" for c in normal)
    return "-".join(part for part in grouped.split("-") if part), True


def _phone_error(text: str, label: str) -> str:
    return f"{label}「{text}」は電話番号として正しくありません（0から始まる10〜11桁）"


def _too_long(errors: dict[str, str], key: str, i: int, field: str, limit: int) -> None:
    path, label = _item(key, i, field)
    errors[path] = _too_long_message(label, limit)


def clean(data: CardData, *, today: dt.date, residence: bool = True) -> CardData:
    """Check and normalise a card; raise CardInvalid naming every problem (nothing is saved)."""
    errors: dict[str, str] = {}
    out = _clean_head(data, today, errors)
    # Paths and labels ("residents.1.kana", "世帯員2のふりがな") are made only for a problem:
    # an import checks a million residents.
    residents = [
        _clean_resident(i, raw, today, errors)
        for i, raw in enumerate(data.get("residents") or [])
        # (Not _str: a 0 or False alone is an empty row, as the form sends it.)
        if any(str(raw.get(f) or "").strip() for f in RESIDENT_FIELDS)
    ]
    if residence and not residents:
        errors["residents"] = "世帯員を1人以上入力してください"
    for key, limit, label in _LIST_LIMITS:
        if len(data.get(key) or []) > limit:
            errors[key] = f"{label}は{limit}件以内で入力してください"
    out["residents"] = residents
    out["contacts"] = [
        _clean_contact(i, raw, errors)
        for i, raw in enumerate(data.get("contacts") or [])
        if any(str(raw.get(f) or "").strip() for f in CONTACT_FIELDS)
    ]
    out["vehicles"] = [
        _clean_vehicle(i, raw, errors)
        for i, raw in enumerate(data.get("vehicles") or [])
        if any(str(raw.get(f) or "").strip() for f in VEHICLE_FIELDS)
    ]
    _check_characters(out, errors)
    if errors:
        raise CardInvalid(errors)
    return out


def _texts(out: CardData) -> Iterator[tuple[str, str, str]]:
    """(path, label, text) of every text the card holds."""
    for field in _HEAD_TEXTS:
        yield field, LABELS[field], out[field]
    for key in ("residents", "contacts", "vehicles"):
        for i, item in enumerate(out[key]):
            for field, value in item.items():
                if isinstance(value, str):
                    path, label = _item(key, i, field)
                    yield path, label, value


def _check_characters(out: CardData, errors: dict[str, str]) -> None:
    """No control characters, bidi overrides, BOM, non-characters or lone surrogates in any
    field (junkai.lib.text). One search over the whole card; field by field only on a find (an
    import checks half a million cards)."""
    if text_problem("\n".join(text for _, _, text in _texts(out))) is None:
        return
    for path, label, text in _texts(out):
        if (problem := text_problem(text)) is not None:
            errors.setdefault(path, f"{label}に{problem}")


def _clean_head(data: CardData, today: dt.date, errors: dict[str, str]) -> CardData:
    """The card's own fields (who filled it, when accepted, binder and index, wishes)."""
    out: CardData = {}
    source = data.get("source") or CardSource.OFFICER
    if source not in _SOURCES:
        errors["source"] = "記入者は「住民等が記入」か「聴取して警察官が作成」を選んでください"
    out["source"] = source
    accepted_on, problem = _day(data.get("accepted_on"), today)
    if problem:
        errors["accepted_on"] = "受理日" + problem
    elif accepted_on is None:
        accepted_on = today.isoformat()
    out["accepted_on"] = accepted_on
    out["binder_number"] = _text(data.get("binder_number"), 20, "binder_number", "簿冊番号", errors)
    out["index_number"] = _index_number(data.get("index_number"), errors)
    for field, limit in (("preferred_days", 50), ("preferred_times", 50)):
        out[field] = _text(data.get(field), limit, field, LABELS[field], errors)
    for field in ("remarks", "requests"):
        out[field] = _text(data.get(field), 2000, field, LABELS[field], errors)
    out["needs_support"] = bool(data.get("needs_support"))
    out["support_consent"] = bool(data.get("support_consent"))
    if out["needs_support"] and not out["support_consent"]:
        errors["support_consent"] = "要援護として登録するには本人の同意が必要です"
    return out


def _index_number(index: Any, errors: dict[str, str]) -> int | None:
    if index in (None, ""):
        return None
    try:
        number = int(str(index).strip())
    except ValueError:
        number = 0
    if number <= 0:
        errors["index_number"] = "索引番号は1以上の整数で入力してください"
        return None
    if number > MAX_INDEX_NUMBER:
        errors["index_number"] = f"索引番号は{MAX_INDEX_NUMBER}以下で入力してください"
        return None
    return number


def _clean_resident(
    i: int, raw: Mapping[str, Any], today: dt.date, errors: dict[str, str]
) -> dict[str, Any]:
    """One resident, each field in turn, so that an import lists a line's problems in column
    order."""
    get = raw.get
    name = _str(get("name"))
    if len(name) > 60:
        _too_long(errors, "residents", i, "name", 60)
    elif not name:
        path, label = _item("residents", i, "name")
        errors[path] = f"{label}を入力してください"
    kana = _str(get("kana"))
    hiragana = reading(kana) if kana else ""
    if hiragana is None:
        path, _ = _item("residents", i, "kana")
        errors[path] = f"世帯員{i + 1}のふりがなは、ひらがな又はカタカナで入力してください"
    elif len(kana) > 80:
        _too_long(errors, "residents", i, "kana", 80)
    relation = _str(get("relation"))
    if len(relation) > 20:
        _too_long(errors, "residents", i, "relation", 20)
    birth_date, problem = _day(get("birth_date"), today)
    if problem:
        path, label = _item("residents", i, "birth_date")
        errors[path] = label + problem
    sex = get("sex") or ""
    if sex not in _SEXES:
        path, _ = _item("residents", i, "sex")
        errors[path] = f"世帯員{i + 1}の性別の値が正しくありません"
    workplace = _str(get("workplace"))
    if len(workplace) > 100:
        _too_long(errors, "residents", i, "workplace", 100)
    phone, valid = _phone_of(get("phone"))
    if not valid:
        path, label = _item("residents", i, "phone")
        errors[path] = _phone_error(phone, label)
    return {
        "name": name,
        "kana": hiragana or kana,
        "relation": relation,
        "birth_date": birth_date,
        "sex": sex,
        "workplace": workplace,
        "phone": phone,
    }


def _clean_contact(i: int, raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    get = raw.get
    name, relation = _str(get("name")), _str(get("relation"))
    phone, valid = _phone_of(get("phone"))
    label = f"緊急連絡先{i + 1}"
    if len(name) > 60:
        _too_long(errors, "contacts", i, "name", 60)
    if len(relation) > 20:
        _too_long(errors, "contacts", i, "relation", 20)
    if not valid:
        errors[f"contacts.{i}.phone"] = _phone_error(phone, f"{label}の連絡先")
    if not name:
        errors[f"contacts.{i}.name"] = f"{label}の氏名を入力してください"
    if not phone:
        errors[f"contacts.{i}.phone"] = f"{label}の連絡先を入力してください"
    return {"name": name, "relation": relation, "phone": phone}


def _clean_vehicle(i: int, raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    p = f"vehicles.{i}"
    return {
        "description": _text(
            raw.get("description"), 60, f"{p}.description", f"車両{i + 1}の車種・色", errors
        ),
        "plate": _text(raw.get("plate"), 30, f"{p}.plate", f"車両{i + 1}の登録番号", errors),
    }


def _shown(field: str, value: Any) -> Any:
    """A value as the record shows it: empty is None, flags and codes in words."""
    if value in (None, "", False):
        return None
    if value is True:
        return "あり"
    if field == "source":
        return _SOURCE_LABELS.get(value, value)
    if field == "sex":
        return _SEX_LABELS.get(value, value)
    return value


def _change(field: str, path: str, label: str, old: Any, new: Any) -> dict[str, Any] | None:
    before, after = _shown(field, old), _shown(field, new)
    if before == after:
        return None
    return {"field": path, "label": label, "old": before, "new": after}


def _creation(new: CardData) -> list[dict[str, Any]]:
    """diff(None, new): every field the new card fills, old None (the first revision of each
    imported card, so kept to the fields that are there, and written for speed: _shown's
    rules inline)."""
    changes: list[dict[str, Any]] = []
    append = changes.append
    for field in CARD_FIELDS:
        after = _shown(field, new.get(field))
        if after is not None:
            append({"field": field, "label": LABELS[field], "old": None, "new": after})
    for key, fields in _LISTS:
        for i, row in enumerate(new.get(key) or ()):
            for field in fields:
                value = row.get(field)
                if value in (None, "", False):
                    continue
                if value is True:
                    value = "あり"
                elif field == "sex":
                    value = _SEX_LABELS.get(value, value)
                path, label = _item(key, i, field)
                append({"field": path, "label": label, "old": None, "new": value})
    return changes


@functools.cache
def _item(key: str, i: int, field: str) -> tuple[str, str]:
    """("residents.0.phone", "世帯員1の電話"): the same few hundred strings for every card."""
    return f"{key}.{i}.{field}", f"{LIST_LABELS[key]}{i + 1}の{LABELS[field]}"


def diff(old: CardData | None, new: CardData) -> list[dict[str, Any]]:
    """Each change as {field, label, old, new}; list items by position ("residents.0.phone")."""
    if old is None:
        return _creation(new)
    changes: list[dict[str, Any] | None] = []
    for field in CARD_FIELDS:
        changes.append(_change(field, field, LABELS[field], old.get(field), new.get(field)))
    for key, fields in _LISTS:
        old_rows, new_rows = old.get(key) or [], new.get(key) or []
        for i in range(max(len(old_rows), len(new_rows))):
            was = old_rows[i] if i < len(old_rows) else {}
            now = new_rows[i] if i < len(new_rows) else {}
            for field in fields:
                path, label = _item(key, i, field)
                changes.append(_change(field, path, label, was.get(field), now.get(field)))
    return [c for c in changes if c is not None]
