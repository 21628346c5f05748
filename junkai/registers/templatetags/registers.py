"""Short dates for the register's narrow columns (the full 和暦 goes in the hover title)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from junkai.registers.models import number_key

register = template.Library()


@register.filter
def md_time(value: dt.datetime | None) -> str:
    """6月10日 10:30 (local)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


@register.filter
def binder_numbers(lines: object) -> str:
    """The binder numbers of an entry's prefetched lines: 1、2、3."""
    numbers = [line.binder.number for line in lines.all()]  # type: ignore[attr-defined]
    return "、".join(sorted(numbers, key=number_key))
