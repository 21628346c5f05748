"""Households with positions and preferences for the route tests (a few doors in 駅前一区)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from junkai.households import actions as household_actions
from junkai.households.models import Household
from junkai.org.models import Beat, Officer
from junkai.planning.routing import WEEKDAYS

CENTRE = (33.2396, 131.6093)
LAT_M, LON_M = 111_195.0, 93_030.0


def place(north_m: float, east_m: float) -> dict[str, Any]:
    return {
        "latitude": Decimal(f"{CENTRE[0] + north_m / LAT_M:.6f}"),
        "longitude": Decimal(f"{CENTRE[1] + east_m / LON_M:.6f}"),
    }


def door(
    beat: Beat,
    number: int,
    north_m: float,
    east_m: float,
    *,
    card: dict[str, Any] | None = None,
    officer: Officer | None = None,
) -> Household:
    """A door of the beat at (north, east) metres from CENTRE; with a card when given one.

    Without a card it is 未把握 (HIGH); with one, 家庭 (MEDIUM).
    """
    household = household_actions.do_create_household(
        beat, acting_officer=None, kind="RESIDENCE", name=f"経路{number}",
        town="駅前町", chome="3", banchi=str(number), **place(north_m, east_m),
    )  # fmt: skip
    if card is not None:
        assert officer is not None
        household_actions.do_save_card(
            household,
            {"residents": [{"name": f"経路 {number}郎", "kana": "けいろ"}], **card},
            acting_officer=officer,
            expected_version=None,
        )
        household.refresh_from_db()
    return household


def other_weekday() -> str:
    """A weekday that is not today (for a preferred day that misses the route's day)."""
    return WEEKDAYS[(timezone.localdate().weekday() + 3) % 7] + "曜"


def local(hour: int, minute: int = 0) -> dt.datetime:
    """Today at hour:minute in Asia/Tokyo."""
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(hour, minute)))
