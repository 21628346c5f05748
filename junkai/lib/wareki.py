"""和暦 (Japanese era) formatting. Pure: no models."""

from __future__ import annotations

import datetime as dt

# (first day, era name); newest first.
ERAS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1868, 10, 23), "明治"),
)


def era_of(day: dt.date) -> tuple[str, int]:
    """Era name and year within it (元年 is 1)."""
    for start, name in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise ValueError(f"{day.isoformat()} は明治以前のため和暦で表せません")


def format_wareki(day: dt.date | dt.datetime | None) -> str:
    """令和7年4月1日; the first year of an era is written 元年."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.date()
    name, year = era_of(day)
    year_text = "元" if year == 1 else str(year)
    return f"{name}{year_text}年{day.month}月{day.day}日"


def format_wareki_abbrev(day: dt.date | dt.datetime | None) -> str:
    """令8.5.1: a narrow column's date (the 補正 dates of a card)."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.date()
    name, year = era_of(day)
    return f"{name[0]}{year}.{day.month}.{day.day}"


_ERA_LETTER = {"令和": "R", "平成": "H", "昭和": "S", "大正": "T", "明治": "M"}


def format_wareki_short(day: dt.date | None) -> str:
    """S45.3.1: a date as an officer types it into a form (junkai.lib.dates reads it back)."""
    if day is None:
        return ""
    name, year = era_of(day)
    return f"{_ERA_LETTER[name]}{year}.{day.month}.{day.day}"
