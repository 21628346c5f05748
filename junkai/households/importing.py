"""Reading a household file (CSV in UTF-8, or .xlsx) into bulk.HouseholdRow, one per household.

The format is in docs/import-format.md (docs/import-template.csv is a file to start from): one
line per resident; the lines of one household share a 世帯キー and carry its address on the
first of them. Everything is checked before anything is written, and every problem is named by
line and column; see `import_households`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from junkai.households.bulk import (
    CARD_COLUMNS,
    CONTACT_COLUMNS,
    HOUSEHOLD_COLUMNS,
    RESIDENT_COLUMNS,
    BulkResult,
    HouseholdRow,
    Progress,
    do_bulk_load,
    parse_flag,
)
from junkai.households.models import CardSource, Sex
from junkai.lib.tables import BulkLoadError, RowError, cell_text, read_header, read_table
from junkai.org.models import Officer, Post

KEY_COLUMN = "世帯キー"
#: Optional card columns beyond CARD_COLUMNS.
EXTRA_CARD_COLUMNS = {
    "preferred_days": "訪問希望の曜日",
    "preferred_times": "訪問希望の時間帯",
    "needs_support": "要援護",
    "support_consent": "要援護の同意",
    "remarks": "備考",
    "requests": "警察への要望",
}
ALL_CARD_COLUMNS = {k: v for k, v in CARD_COLUMNS.items() if k != "accepted_by"} | (
    EXTRA_CARD_COLUMNS
)
#: Every column, in the template's order.
COLUMNS: tuple[str, ...] = (
    KEY_COLUMN,
    *HOUSEHOLD_COLUMNS.values(),
    *CARD_COLUMNS.values(),
    *EXTRA_CARD_COLUMNS.values(),
    *RESIDENT_COLUMNS.values(),
    *CONTACT_COLUMNS.values(),
)
REQUIRED_COLUMNS = (HOUSEHOLD_COLUMNS["beat"], HOUSEHOLD_COLUMNS["kind"], HOUSEHOLD_COLUMNS["town"])

_SEXES = {
    "男": Sex.MALE.value,
    "男性": Sex.MALE.value,
    "M": Sex.MALE.value,
    "女": Sex.FEMALE.value,
    "女性": Sex.FEMALE.value,
    "F": Sex.FEMALE.value,
    "": "",
}
_SOURCES = {
    "住民": CardSource.RESIDENT.value,
    "住民等": CardSource.RESIDENT.value,
    "本人": CardSource.RESIDENT.value,
    "住民等が記入": CardSource.RESIDENT.value,
    "警察官": CardSource.OFFICER.value,
    "聴取": CardSource.OFFICER.value,
    "聴取して警察官が作成": CardSource.OFFICER.value,
    "": "",
} | {value: value for value in CardSource.values}


@dataclass
class _Group:
    """The lines of one household while they are being gathered."""

    line: int
    values: dict[str, Any]
    value_lines: dict[str, int]
    residents: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    has_card: bool = False


def _date_cell(value: Any) -> Any:
    """A spreadsheet date stays a date; text goes to cards.clean (和暦 or 西暦)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return cell_text(value)


def _flag(value: Any, line: int, column: str, errors: list[RowError]) -> bool:
    try:
        return parse_flag(cell_text(value))
    except ValueError:
        errors.append(RowError(line, column, "「○」（該当）か空欄で入力してください"))
        return False


def parse_rows(path: Path) -> tuple[list[HouseholdRow], list[RowError]]:
    """The households of a file, and the problems found while reading it (by line, column)."""
    errors: list[RowError] = []
    table = read_table(path)
    _, index = read_header(table, COLUMNS, REQUIRED_COLUMNS)

    def cell(cells: list[Any], column: str) -> Any:
        position = index.get(column)
        return cells[position] if position is not None and position < len(cells) else None

    household_columns = [(k, v) for k, v in HOUSEHOLD_COLUMNS.items() if v in index] + [
        (f"card.{k}", v) for k, v in (CARD_COLUMNS | EXTRA_CARD_COLUMNS).items() if v in index
    ]
    groups: dict[str, _Group] = {}
    order: list[_Group] = []
    for number, cells in table:
        if not any(cell_text(c) for c in cells):
            continue  # a blank line
        key = cell_text(cell(cells, KEY_COLUMN))
        group = groups.get(key) if key else None
        if group is None:
            group = _Group(line=number, values={}, value_lines={})
            order.append(group)
            if key:
                groups[key] = group
        for name, column in household_columns:
            raw = cell(cells, column)
            text = cell_text(raw)
            if not text:
                continue
            if name not in group.values:
                group.values[name] = raw
                group.value_lines[name] = number
            elif cell_text(group.values[name]) != text:
                errors.append(
                    RowError(
                        number,
                        column,
                        f"同じ世帯キーの{group.value_lines[name]}行目と値が異なります"
                        f"（世帯の項目は世帯の最初の行にだけ書いてください）",
                    )
                )
            if name.startswith("card."):
                group.has_card = True
        resident = {
            field_name: cell(cells, column) for field_name, column in RESIDENT_COLUMNS.items()
        }
        if any(cell_text(v) for v in resident.values()):
            resident = {k: cell_text(v) for k, v in resident.items()}
            resident["birth_date"] = _date_cell(cell(cells, RESIDENT_COLUMNS["birth_date"]))
            sex = unicodedata.normalize("NFKC", resident["sex"]).upper()
            resident["sex"] = _SEXES.get(sex, resident["sex"])
            group.lines[f"residents.{len(group.residents)}"] = number
            group.residents.append(resident)
            group.has_card = True
        contact = {k: cell_text(cell(cells, column)) for k, column in CONTACT_COLUMNS.items()}
        if any(contact.values()):
            group.lines[f"contacts.{len(group.contacts)}"] = number
            group.contacts.append(contact)
            group.has_card = True
    rows = [_household_row(group, errors) for group in order]
    return rows, errors


def _household_row(group: _Group, errors: list[RowError]) -> HouseholdRow:
    values = group.values
    fields = {
        name: values.get(name)
        for name in HOUSEHOLD_COLUMNS
        if name not in ("beat", "building") and name in values
    }
    card: dict[str, Any] | None = None
    accepted_by: str | None = None
    if group.has_card:
        card = {
            "residents": group.residents,
            "contacts": group.contacts,
            "vehicles": [],
        }
        for name in ALL_CARD_COLUMNS:
            raw = values.get(f"card.{name}")
            line = group.value_lines.get(f"card.{name}", group.line)
            if name == "accepted_on":
                card[name] = _date_cell(raw)
            elif name == "source":
                text = cell_text(raw)
                card[name] = _SOURCES.get(text, text)
            elif name in ("needs_support", "support_consent"):
                card[name] = _flag(raw, line, EXTRA_CARD_COLUMNS[name], errors)
            else:
                card[name] = cell_text(raw)
        accepted_by = cell_text(values.get("card.accepted_by")) or None
    return HouseholdRow(
        line=group.line,
        beat=cell_text(values.get("beat")),
        fields=fields,
        building=cell_text(values.get("building")) or None,
        card=card,
        accepted_by=accepted_by,
        lines=group.lines,
    )


def import_households(
    path: Path,
    *,
    post: Post,
    acting_officer: Officer | None,
    accepted_by: Officer | None = None,
    progress: Progress | None = None,
    check_only: bool = False,
) -> BulkResult:
    """Import a file into `post`, all or nothing; `check_only` checks it and writes nothing.

    Raises ImportFileError (unreadable file), BulkLoadError (every problem by line and
    column, nothing written) or PermissionDeniedError (the officer may not write the post).
    """
    rows, errors = parse_rows(path)
    try:
        with transaction.atomic():
            result = do_bulk_load(
                rows,
                acting_officer=acting_officer,
                source=f"import:{path.name}"[:100],
                post=post,
                accepted_by=accepted_by,
                progress=progress,
                # A check writes nothing: it must not hold every page back (bulk._SetWiseKeys).
                set_wise_keys=not check_only,
            )
            if errors:
                raise BulkLoadError(errors)  # the reading found problems: undo the load
            if check_only:
                transaction.set_rollback(True)
    except BulkLoadError as exc:
        seen = {(e.line, e.column, e.message) for e in errors}
        raise BulkLoadError(
            errors + [e for e in exc.errors if (e.line, e.column, e.message) not in seen]
        ) from None
    return result
