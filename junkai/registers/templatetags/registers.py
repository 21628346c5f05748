"""The register's narrow columns (dates: the `wareki_short_time` filter of `junkai`)."""

from __future__ import annotations

from django import template

from junkai.registers.models import number_key

register = template.Library()


@register.filter
def binder_numbers(lines: object) -> str:
    """The binder numbers of an entry's prefetched lines: 1、2、3."""
    numbers = [line.binder.number for line in lines.all()]  # type: ignore[attr-defined]
    return "、".join(sorted(numbers, key=number_key))
