"""How a household shows on a map, the same on the beat map (planning/maps.py) and on the
offline device's map (devices/sync.py sends each household's due status): its due status from
the stored next_due, and its category's colour."""

from __future__ import annotations

import datetime as dt

from junkai.households.models import Category, HouseholdStatus

#: 期限が近い: due within this many days (and not yet overdue).
DUE_SOON_DAYS = 30

#: Category colours on the map: the hues of the list badges (.cat-*), strong enough for a dot.
CATEGORY_COLOURS = {
    Category.UNKNOWN: "#c62828",
    Category.ELDERLY: "#e08600",
    Category.HOME: "#2e7d32",
    Category.BUSINESS: "#50657f",
}


class Due:
    """Due status of a household on the map (from the stored next_due, visits/schedule.py)."""

    OVERDUE = "overdue"
    SOON = "soon"
    LATER = "later"
    VACANT = "vacant"

    LABELS = {
        OVERDUE: "期限超過",
        SOON: f"{DUE_SOON_DAYS}日以内",
        LATER: "期限まで余裕あり",
        VACANT: "空き家・空室",
    }


def due_status(status: str, next_due: dt.date | None, day: dt.date) -> str:
    if status == HouseholdStatus.VACANT:
        return Due.VACANT
    # Every household has a stored next_due (the actions keep it); none would mean due now.
    if next_due is None or next_due < day:
        return Due.OVERDUE
    if next_due <= day + dt.timedelta(days=DUE_SOON_DAYS):
        return Due.SOON
    return Due.LATER


def map_legend() -> dict[str, dict[str, str]]:
    """The labels and colours a map script needs (no personal data: the same for everyone)."""
    return {
        "colours": {str(k): v for k, v in CATEGORY_COLOURS.items()},
        "categories": {str(k): str(v) for k, v in Category.choices},
        "due_labels": dict(Due.LABELS),
    }
