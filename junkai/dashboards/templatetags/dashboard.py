"""Filters for the dashboards: ratios as percentages and indices."""

from __future__ import annotations

import datetime as dt

from django import template

from junkai.dashboards.figures import index_text, percent
from junkai.lib.months import month_label

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """0.4567 → 「45.7%」; None → 「―」."""
    return percent(value)


@register.filter
def meter(value: float | None) -> int:
    """A ratio as a bar width in percent, capped at 100."""
    return 0 if value is None else max(0, min(100, round(value * 100)))


@register.filter
def wareki_month(value: dt.date | None) -> str:
    """令和8年5月."""
    return "" if value is None else month_label(value)


@register.filter
def idx(value: float | None) -> str:
    return index_text(value)


@register.filter
def one_decimal(value: float) -> str:
    # 602件, not 602.0件; a fraction keeps its one decimal (60.5)
    return f"{value:.1f}".removesuffix(".0")
