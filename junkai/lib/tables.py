"""Reading a table a person prepared (CSV in UTF-8, or the first sheet of an .xlsx) for the
bulk imports (households, the organisation), and naming each problem by row and column as
Excel numbers them. Every import checks all rows before it writes anything."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError


class ImportFileError(Exception):
    """The file cannot be read at all (encoding, format); the message says why, in Japanese."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return f"{self.line}行目 {self.column}: {self.message}"
        return f"{self.line}行目: {self.message}"


class BulkLoadError(Exception):
    """Rows with problems; nothing was written. `errors` lists every one, in row order."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__(f"{len(errors)}件の誤りがあるため、取り込みませんでした")


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


def cell_text(value: Any) -> str:
    """A cell as text: a spreadsheet's 12.0 is "12", its dates ISO, text stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def column_name(value: Any) -> str:
    """A header cell as a column name: full-width and half-width alike, spaces ignored."""
    return unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "")


def read_header(
    table: Iterator[tuple[int, list[Any]]],
    columns: Iterable[str],
    required: Iterable[str],
) -> tuple[int, dict[str, int]]:
    """The first non-empty line as the header: (its line number, column → position). An
    unknown, doubled or missing required column is an error (BulkLoadError), so a misspelt
    column never drops its values silently."""
    for line, cells in table:
        if any(cell_text(c) for c in cells):
            number, header = line, [column_name(c) for c in cells]
            break
    else:
        raise ImportFileError("ファイルが空です（1行目に列名の行が必要です）")
    errors: list[RowError] = []
    known = {unicodedata.normalize("NFKC", c): c for c in columns}
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        if not name:
            continue
        column = known.get(name)
        if column is None:
            errors.append(RowError(number, name, "この列名は取込形式にありません"))
        elif column in index:
            errors.append(RowError(number, name, "同じ列名が2回あります"))
        else:
            index[column] = position
    for column in required:
        if column not in index:
            errors.append(RowError(number, column, "この列がありません（必須の列です）"))
    if errors:
        raise BulkLoadError(errors)
    return number, index


@contextmanager
def problems_reported(stderr: Any, name: str) -> Iterator[None]:
    """An import command's ending when the file cannot be read or has rows with problems:
    each problem on its own line, then exit code 1 (CommandError), nothing written."""
    try:
        yield
    except ImportFileError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"ファイルを読めません: {exc.strerror or exc}") from exc
    except BulkLoadError as exc:
        stderr.write(f"{name}: 次の誤りがあるため、何も取り込みませんでした。")
        for error in exc.errors:
            stderr.write(f"  {error}")
        raise CommandError(
            f"{len(exc.errors)}件の誤り。ファイルを直して再度実行してください"
        ) from exc
