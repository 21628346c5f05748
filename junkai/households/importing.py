"""Reading a household file (CSV in UTF-8, or .xlsx) into bulk.HouseholdRow, one per household.

The format is in docs/import-format.md (docs/import-template.csv is a file to start from): one
line per resident; the lines of one household share a 世帯キー and carry its address on the
first of them. Everything is checked before anything is written, and every problem is named by
line and column; see `import_households`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from junkai.households.bulk import (
    CARD_COLUMNS,
    CONTACT_COLUMNS,
    HOUSEHOLD_COLUMNS,
    RESIDENT_COLUMNS,
    BulkLoadError,
    BulkResult,
    HouseholdRow,
    Progress,
    RowError,
    do_bulk_load,
    parse_flag,
)
from junkai.households.models import CardSource, Sex
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


class ImportFileError(Exception):
    """The file cannot be read at all (encoding, format); the message says why, in Japanese."""


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


def read_table(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) for each line of a .csv (UTF-8, BOM or not) or .xlsx file."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        yield from _read_csv(path)
    else:
        raise ImportFileError("CSV（.csv）かExcel（.xlsx）のファイルを指定してください")


def _read_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "文字コードがUTF-8ではありません。Excelでは「CSV UTF-8（コンマ区切り）」で保存してください"
        ) from exc
    # Numbered by record, as Excel numbers its rows: a remark over two lines is one row.
    yield from enumerate(csv.reader(io.StringIO(text, newline="")), start=1)


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a damaged file
        raise ImportFileError(f"Excelファイルを読めません（{type(exc).__name__}）") from exc
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date_cell(value: Any) -> Any:
    """A spreadsheet date stays a date; text goes to cards.clean (和暦 or 西暦)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _text(value)


def _flag(value: Any, line: int, column: str, errors: list[RowError]) -> bool:
    try:
        return parse_flag(_text(value))
    except ValueError:
        errors.append(RowError(line, column, "「○」（該当）か空欄で入力してください"))
        return False


def parse_rows(path: Path) -> tuple[list[HouseholdRow], list[RowError]]:
    """The households of a file, and the problems found while reading it (by line, column)."""
    errors: list[RowError] = []
    table = read_table(path)
    header: list[str] | None = None
    header_line = 1
    for number, cells in table:
        if any(_text(c) for c in cells):
            header = [unicodedata.normalize("NFKC", _text(c)).replace(" ", "") for c in cells]
            header_line = number
            break
    if header is None:
        raise ImportFileError("ファイルが空です（1行目に列名の行が必要です）")
    known = {unicodedata.normalize("NFKC", c): c for c in COLUMNS}
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        if not name:
            continue
        column = known.get(name)
        if column is None:
            errors.append(RowError(header_line, name, "この列名は取込形式にありません"))
        elif column in index:
            errors.append(RowError(header_line, name, "同じ列名が2回あります"))
        else:
            index[column] = position
    for column in REQUIRED_COLUMNS:
        if column not in index:
            errors.append(RowError(header_line, column, "この列がありません（必須の列です）"))
    if errors:
        raise BulkLoadError(errors)

    def cell(cells: list[Any], column: str) -> Any:
        position = index.get(column)
        return cells[position] if position is not None and position < len(cells) else None

    household_columns = [(k, v) for k, v in HOUSEHOLD_COLUMNS.items() if v in index] + [
        (f"card.{k}", v) for k, v in (CARD_COLUMNS | EXTRA_CARD_COLUMNS).items() if v in index
    ]
    groups: dict[str, _Group] = {}
    order: list[_Group] = []
    for number, cells in table:
        if not any(_text(c) for c in cells):
            continue  # a blank line
        key = _text(cell(cells, KEY_COLUMN))
        group = groups.get(key) if key else None
        if group is None:
            group = _Group(line=number, values={}, value_lines={})
            order.append(group)
            if key:
                groups[key] = group
        for name, column in household_columns:
            raw = cell(cells, column)
            text = _text(raw)
            if not text:
                continue
            if name not in group.values:
                group.values[name] = raw
                group.value_lines[name] = number
            elif _text(group.values[name]) != text:
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
        if any(_text(v) for v in resident.values()):
            resident = {k: _text(v) for k, v in resident.items()}
            resident["birth_date"] = _date_cell(cell(cells, RESIDENT_COLUMNS["birth_date"]))
            sex = unicodedata.normalize("NFKC", resident["sex"]).upper()
            resident["sex"] = _SEXES.get(sex, resident["sex"])
            group.lines[f"residents.{len(group.residents)}"] = number
            group.residents.append(resident)
            group.has_card = True
        contact = {k: _text(cell(cells, column)) for k, column in CONTACT_COLUMNS.items()}
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
                text = _text(raw)
                card[name] = _SOURCES.get(text, text)
            elif name in ("needs_support", "support_consent"):
                card[name] = _flag(raw, line, EXTRA_CARD_COLUMNS[name], errors)
            else:
                card[name] = _text(raw)
        accepted_by = _text(values.get("card.accepted_by")) or None
    return HouseholdRow(
        line=group.line,
        beat=_text(values.get("beat")),
        fields=fields,
        building=_text(values.get("building")) or None,
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
