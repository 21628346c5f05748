"""Months of the 持出確認簿 (kept and reviewed month by month) and the day's return deadline."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.utils import timezone

from junkai.lib.dates import start_of_day
from junkai.lib.wareki import era_of

#: Default end of the day by which a binder taken out must be back (local time).
DEFAULT_RETURN_BY = dt.time(22, 0)

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def return_by() -> dt.time:
    """`JUNKAI_CHECKOUT_RETURN_BY` ("22:00" or a time): the end of the day for a checkout."""
    value = getattr(settings, "JUNKAI_CHECKOUT_RETURN_BY", DEFAULT_RETURN_BY)
    if isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(str(value))


def due_for(moment: dt.datetime) -> dt.datetime:
    """The deadline of a binder taken out at `moment`: that day's cut-off, or the next day's
    when it is already past (a binder taken after the cut-off is due the following evening)."""
    local = timezone.localtime(moment)
    cutoff = return_by()
    due = dt.datetime.combine(local.date(), cutoff, tzinfo=local.tzinfo)
    if due <= local:
        due = dt.datetime.combine(local.date() + dt.timedelta(days=1), cutoff, tzinfo=local.tzinfo)
    return due


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def current_month() -> dt.date:
    return month_start(timezone.localdate())


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local month as aware datetimes."""
    return start_of_day(month_start(month)), start_of_day(next_month(month))


def parse_month(text: str) -> dt.date:
    """ "2026-05" → 2026-05-01; ValueError with a Japanese message otherwise."""
    m = _MONTH.match((text or "").strip())
    if not m:
        raise ValueError("対象月は 2026-05 の形式（年-月）で入力してください")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or year < 2000:
        raise ValueError("対象月が正しくありません")
    return dt.date(year, month, 1)


def month_label(month: dt.date) -> str:
    """令和8年5月."""
    era, year = era_of(month)
    return f"{era}{'元' if year == 1 else year}年{month.month}月"


def months_back(until: dt.date, count: int) -> list[dt.date]:
    """`count` months ending with `until`'s month, newest first."""
    months = [month_start(until)]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return months
