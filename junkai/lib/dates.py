"""Dates as officers type them: 西暦 (1950-04-01, 1950/4/1) or 和暦 (昭和25年4月1日, S25.4.1, R7/4/1)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils import timezone

from junkai.lib.wareki import ERAS

_ERA_BY_NAME = {name: start for start, name in ERAS}
_ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_WESTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_JAPANESE = re.compile(
    r"^(明治|大正|昭和|平成|令和|[MTSHR])(元|\d{1,2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"
)


class DateFormatError(ValueError):
    pass


def parse_date(text: str) -> dt.date:
    """Parse a date or raise DateFormatError with a Japanese message naming what is wrong."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        # ISO 8601 as exports and the API send it: by far the commonest form in a bulk import.
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass  # the full parser below names the problem
    raw = unicodedata.normalize("NFKC", text or "").strip().upper().replace(" ", "")
    if not raw:
        raise DateFormatError("日付を入力してください")
    if m := _WESTERN.match(raw):
        year, month, day = (int(g) for g in m.groups())
    elif m := _JAPANESE.match(raw):
        era = _ERA_LETTERS.get(m.group(1), m.group(1))
        era_year = 1 if m.group(2) == "元" else int(m.group(2))
        if era_year < 1:
            raise DateFormatError(f"「{text}」の年が正しくありません")
        year = _ERA_BY_NAME[era].year + era_year - 1
        month, day = int(m.group(3)), int(m.group(4))
        try:
            parsed = dt.date(year, month, day)
        except ValueError as exc:
            raise DateFormatError(f"「{text}」は存在しない日付です") from exc
        start = _ERA_BY_NAME[era]
        later = [s for s, _ in ERAS if s > start]
        if parsed < start or (later and parsed >= min(later)):
            raise DateFormatError(f"「{text}」は{era}の期間外です")
        return parsed
    else:
        raise DateFormatError(
            f"「{text}」は日付として読めません（例: 1950-04-01、昭和25年4月1日、S25.4.1）"
        )
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DateFormatError(f"「{text}」は存在しない日付です") from exc


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the month's last day when it has no such day (1/31 → 2/28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def start_of_day(day: dt.date) -> dt.datetime:
    """The moment `day` begins in the local zone (Asia/Tokyo), as an aware datetime: the bound
    of a query over a day, a month or a period typed as dates (stored times are UTC)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
