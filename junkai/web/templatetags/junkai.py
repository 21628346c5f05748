from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from junkai.lib.wareki import format_wareki

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
