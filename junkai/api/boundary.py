"""The API's input boundary: every string and number of a request, before any schema sees it.

A JSON body or a query string with a character no field accepts (junkai.lib.text) or an integer
outside the database's 64-bit range (an id of 9223372036854775808 in a list was an HTTP 500) is
refused with 422 naming the field, in the one error shape; nothing reaches an action.

The same limits, stated in the OpenAPI document through the types every input schema uses
(`Text`, `Int`, `Id`, `Date`, `DateTime`, `DateText`, `Month`, `one_of`, `In`): a client (or the fuzzer's
positive-data check) can tell from the document alone what the boundary accepts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, TypeVar, cast

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja import Schema
from ninja.parser import Parser
from pydantic import AfterValidator, ConfigDict, Field

from junkai.lib.text import TEXT_PATTERN, text_problem

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


#: The years above as a pattern on an ISO date (`YYYY-…`), for the OpenAPI document.
DATE_PATTERN = r"^(186[89]|18[7-9]\d|19\d\d|2[01]\d\d|2200)-"
#: A register's month (junkai.lib.months.parse_month: from 2000) as `YYYY-MM`.
MONTH_PATTERN = r"^(2[01]\d\d|2200)-(0[1-9]|1[0-2])$"

T = TypeVar("T")


def _in_years(value: T) -> T:
    if isinstance(value, dt.date) and not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValueError(FAR_DATE)
    return value


def _text_in_years(value: T) -> T:
    """A date or month as text (`YYYY-MM…`) within YEAR_MIN–YEAR_MAX; checked on the fields
    typed as dates only: a free-text filter such as 番地 `2300-1` is no date."""
    date_like = _DATE_LIKE.match(str(value).strip())
    if date_like and not YEAR_MIN <= int(date_like.group(1)) <= YEAR_MAX:
        raise ValueError(FAR_DATE)
    return value


#: Any string a request carries: none of the characters junkai.lib.text refuses (the boundary
#: refuses them before the schema; this states it). A field adds its own `max_length`.
Text = Annotated[str, Field(json_schema_extra={"pattern": TEXT_PATTERN})]
#: An integer the database holds (bigint).
Int = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
#: A row's id.
Id = Annotated[int, Field(ge=1, le=INT_MAX)]
#: Dates and moments within YEAR_MIN–YEAR_MAX.
Date = Annotated[
    dt.date, AfterValidator(_in_years), Field(json_schema_extra={"pattern": DATE_PATTERN})
]
DateTime = Annotated[
    dt.datetime, AfterValidator(_in_years), Field(json_schema_extra={"pattern": DATE_PATTERN})
]
#: A month as `YYYY-MM`, 2000 to YEAR_MAX (the operation reads it; the document states it).
Month = Annotated[
    str, AfterValidator(_text_in_years), Field(json_schema_extra={"pattern": MONTH_PATTERN})
]
#: A date as typed (ISO, or 和暦 where the field says so); the document states the ISO form.
DateText = Annotated[
    str,
    AfterValidator(_text_in_years),
    Field(json_schema_extra={"format": "date", "pattern": DATE_PATTERN}),
]


def most(limit: int, *, items: bool = False) -> dict[str, Any]:
    """A field's `json_schema_extra`: the longest text (or, `items`, list) the operation's
    action accepts — stated in the document, checked by the action (which names the field in
    its own words: 「世帯員は100件以内で入力してください」)."""
    return {"maxItems" if items else "maxLength": limit}


def one_of(values: Iterable[str]) -> dict[str, Any]:
    """A text field's `json_schema_extra`: the values it takes, named in the document (the
    action checks them and says what is wrong in Japanese)."""
    return {"enum": list(values), "pattern": TEXT_PATTERN}


class In(Schema):
    """A request body: a key no field names is refused (422 naming it), as the document says
    (`additionalProperties: false`), rather than dropped — a misspelt field cannot pass unseen."""

    model_config = ConfigDict(extra="forbid")


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
                digits = str(text).strip().lstrip("+-")
                if digits.isdigit() and len(digits) > 18 and not INT_MIN <= int(text) <= INT_MAX:
                    raise BoundaryError(field, OUT_OF_RANGE)
        return result
