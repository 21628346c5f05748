"""The API's input boundary: every string and number of a request, before any schema sees it.

A JSON body or a query string with a character no field accepts (junkai.lib.text) or an integer
outside the database's 64-bit range (an id of 9223372036854775808 in a list was an HTTP 500) is
refused with 422 naming the field, in the one error shape; nothing reaches an action.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, cast

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from junkai.lib.text import text_problem

#: PostgreSQL's bigint (ids, counts): anything beyond is no value Junkai holds.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
OUT_OF_RANGE = "値が大きすぎます（扱える範囲を超えています）"
#: No list a request carries is longer (ids to check out, households of an entry, stops).
MAX_ITEMS = 1000
TOO_MANY = f"件数が多すぎます（{MAX_ITEMS}件以内で指定してください）"


#: Dates and months a query may name: from the first year of 明治 to well past any plan.
#: (9999-12-31 or 0001-01-01 in a list's filter once overflowed the date arithmetic: a 500.)
YEAR_MIN, YEAR_MAX = 1868, 2200
_DATE_LIKE = re.compile(r"^(\d{4})-\d{1,2}(-\d{1,2})?([T ].*)?$")
FAR_DATE = f"日付は{YEAR_MIN}年から{YEAR_MAX}年までの範囲で指定してください"


class BoundaryError(ValueError):
    """What is wrong, at which field (`concerns.0.text`, `binder_ids.0`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}" if path else str(key), key
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise BoundaryError(path or "__all__", TOO_MANY)
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}.{i}" if path else str(i))
    else:
        yield path, value


def check_value(value: Any, path: str = "") -> None:
    """Raise BoundaryError for the first string or integer no field accepts."""
    for field, item in _walk(value, path):
        problem = None
        if isinstance(item, str):
            problem = text_problem(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            problem = None if INT_MIN <= item <= INT_MAX else OUT_OF_RANGE
        if problem is not None:
            raise BoundaryError(field or "__all__", problem)


class BoundaryParser(Parser):
    """ninja's JSON parser with the boundary's checks on the body and the query."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        check_value(data)
        return cast(dict[str, Any], data)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        check_value(result)
        for field, value in result.items():
            values = value if isinstance(value, list) else [value]
            for text in values:
                date_like = _DATE_LIKE.match(str(text).strip())
                if date_like and not YEAR_MIN <= int(date_like.group(1)) <= YEAR_MAX:
                    raise BoundaryError(field, FAR_DATE)
                digits = str(text).strip().lstrip("+-")
                if digits.isdigit() and len(digits) > 18 and not INT_MIN <= int(text) <= INT_MAX:
                    raise BoundaryError(field, OUT_OF_RANGE)
        return result
