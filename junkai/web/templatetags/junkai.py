from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from junkai.lib.wareki import format_wareki, format_wareki_short

register = template.Library()


@register.filter
def wareki(value: dt.date | dt.datetime | None) -> str:
    """令和7年4月1日 (local date for datetimes)."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return format_wareki(value)


@register.filter
def wareki_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{format_wareki(local.date())} {local:%H:%M}"


@register.filter
def wareki_short(value: dt.date | dt.datetime | None) -> str:
    """R8.12.4: a narrow column's date (a list of 専従日, a register's column); the full
    和暦 goes in a hover title where the column shows more than one."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return format_wareki_short(value)


@register.filter
def wareki_short_time(value: dt.datetime | None) -> str:
    """R8.12.4 10:30 (local): the 持出確認簿's columns."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{format_wareki_short(local.date())} {local:%H:%M}"


@register.filter
def wareki_text(value: object) -> object:
    """A value of a card's change (補正履歴, the conflict page): an ISO date (1970-03-01, as the
    card keeps it) shown as 昭和45年3月1日; anything else as it is."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return format_wareki(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return value


@register.filter
def wareki_input(value: object) -> str:
    """The value of a date-time field (a datetime, or "2026-06-10T10:30" as typed) in 和暦,
    shown under the field: the browser's own picker writes it in 西暦."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace(" ", "T"))
        except ValueError:
            return ""
    if not isinstance(value, dt.datetime):
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    try:
        return f"{format_wareki(local.date())} {local:%H:%M}"
    except ValueError:  # before 明治
        return ""
