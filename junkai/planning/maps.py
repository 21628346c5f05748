"""The beat map's data (受持区地図): one GeoJSON FeatureCollection for the page and the API.

Only what the map needs travels: for each household its id, position, category (別表), due
status, 整理番号 and a short address label — never a name, a birth date or a phone number.
Apartment buildings (アパート等) come as their own features (rooms share the building's
position), then the beat's outline and the post. The caller has already passed the beat through
junkai.access (access_beat_map) and so recorded the read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from junkai.households.legend import DUE_SOON_DAYS, Due, due_status
from junkai.households.models import (
    Category,
    Household,
    HouseholdStatus,
    format_full_address,
)
from junkai.lib import geometry
from junkai.lib.wareki import format_wareki
from junkai.org.models import Beat, today

#: The columns the map reads (plain tuples: a beat has ~800 doors and model instances cost).
COLUMNS = (
    "id",
    "town",
    "chome",
    "banchi",
    "go",
    "room",
    "map_number",
    "latitude",
    "longitude",
    "status",
    "category",
    "next_due",
    "building_id",
    "building__name",
)


def map_households(beat: Beat) -> QuerySet[Household]:
    """The doors on the map: active and vacant ones (moved-out households are history)."""
    return Household.objects.filter(
        beat=beat, status__in=[HouseholdStatus.ACTIVE, HouseholdStatus.VACANT]
    ).order_by("town", "chome", "block_group", "map_number", "id")


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def beat_map(beat: Beat, *, day: dt.date | None = None) -> dict[str, Any]:
    """The beat's map as a GeoJSON FeatureCollection (households, buildings, outline, post),
    with a `junkai` member saying what is on it (counts, labels, today)."""
    day = day or today()
    features: list[dict[str, Any]] = []
    buildings: dict[int, dict[str, Any]] = {}
    towns: set[str] = set()
    total = 0
    for row in map_households(beat).values_list(*COLUMNS):
        (hid, town, chome, banchi, go, room, map_number, lat_, lon_, status, category,
         next_due, building_id, building_name) = row  # fmt: skip
        total += 1
        if lat_ is None or lon_ is None:
            continue
        lon, lat = float(lon_), float(lat_)
        towns.add(town)
        features.append(
            {
                "type": "Feature",
                "id": f"household-{hid}",
                "geometry": _point(lon, lat),
                "properties": {
                    "kind": "household",
                    "id": hid,
                    "category": category,
                    "due": due_status(status, next_due, day),
                    "next_due": next_due.isoformat() if next_due else None,
                    "next_due_label": format_wareki(next_due) if next_due else None,
                    "map_number": map_number,
                    "label": format_full_address(
                        town, chome, banchi, go, building_name or "", room
                    ),
                    "town": town,
                    "building_id": building_id,
                },
            }
        )
        if building_id is not None:
            building = buildings.setdefault(
                building_id,
                {
                    "type": "Feature",
                    "id": f"building-{building_id}",
                    "geometry": _point(lon, lat),
                    "properties": {
                        "kind": "building",
                        "id": building_id,
                        "name": building_name,
                        "households": 0,
                    },
                },
            )
            building["properties"]["households"] += 1
    placed = len(features)
    features.extend(buildings.values())
    outline: dict[str, Any] | None = beat.outline
    if outline:
        features.append(
            {
                "type": "Feature",
                "id": f"outline-{beat.id}",
                "geometry": outline,
                "properties": {
                    "kind": "outline",
                    "id": beat.id,
                    "name": beat.name,
                    "area_km2": round(geometry.area_km2(outline), 3),
                },
            }
        )
    post = beat.post
    if post.latitude is not None and post.longitude is not None:
        features.append(
            {
                "type": "Feature",
                "id": f"post-{post.id}",
                "geometry": _point(float(post.longitude), float(post.latitude)),
                "properties": {"kind": "post", "id": post.id, "name": post.name},
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "junkai": {
            "beat": {"id": beat.id, "code": beat.code, "name": beat.name},
            "post": {"id": post.id, "name": post.name},
            "today": day.isoformat(),
            "due_soon_days": DUE_SOON_DAYS,
            "households": total,
            "placed": placed,
            "unplaced": total - placed,
            "towns": sorted(towns),
            "categories": dict(Category.choices),
            "due_labels": Due.LABELS,
        },
    }


def tiles() -> dict[str, str]:
    """The tile server (settings.JUNKAI_MAP_TILES; empty: no tiles, a plain background)."""
    return {
        "url": getattr(settings, "JUNKAI_MAP_TILES", ""),
        "attribution": getattr(settings, "JUNKAI_MAP_ATTRIBUTION", ""),
    }
