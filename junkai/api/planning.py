"""受持区地図 over the API: a beat's map as GeoJSON, and setting a beat's outline.

The map is a scoped read of personal data (addresses, categories, due dates): it goes through
junkai.access.units.access_beat_map, which records READ_BEAT_MAP. The outline is set by the beat's
管理責任者 (地域課長・幹部交番所長) through org.actions.do_save_beat_outline, audited there.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.params import functions as param
from pydantic import WithJsonSchema

from junkai.access.declare import declare_access
from junkai.access.roles import may_edit_beat_outline
from junkai.access.units import access_beat, access_beat_for_outline, access_beat_map
from junkai.api.auth import request_officer
from junkai.api.boundary import MAX_ITEMS, Id
from junkai.api.schemas import ErrorsOut, Message
from junkai.lib import geometry
from junkai.org import actions as org_actions
from junkai.planning import maps

router = Router(tags=["planning"])

# The outline's body as the document states it (GeoJSON, RFC 7946), so that a client — or the
# fuzzer's positive-data check — can tell what is a geometry; do_save_beat_outline checks the
# rest (rings closed, inside Japan) and answers 422 in Japanese.
_POSITION = {
    "type": "array",
    "minItems": 2,
    "maxItems": 2,
    "items": {"type": "number", "minimum": -180, "maximum": 180},
    "description": "[経度, 緯度]",
}
_RING = {"type": "array", "minItems": 4, "maxItems": MAX_ITEMS, "items": _POSITION}
_RINGS = {"type": "array", "minItems": 1, "maxItems": 100, "items": _RING}


def _geometry(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "additionalProperties": False,
        "properties": {"type": {"const": kind}, "coordinates": coordinates},
    }


_GEOMETRY = {
    "anyOf": [
        _geometry("Polygon", _RINGS),
        _geometry(
            "MultiPolygon", {"type": "array", "minItems": 1, "maxItems": 100, "items": _RINGS}
        ),
    ]
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry"],
    "additionalProperties": False,
    "properties": {"type": {"const": "Feature"}, "geometry": _GEOMETRY},
}
OUTLINE_SCHEMA = {
    "anyOf": [
        *_GEOMETRY["anyOf"],
        _FEATURE,
        {
            "type": "object",
            "required": ["type", "features"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "minItems": 1, "maxItems": 1, "items": _FEATURE},
            },
        },
    ]
}


class FeatureOut(Schema):
    type: str = Field(description="Feature")
    id: str = Field(description="household-{id} / building-{id} / outline-{id} / post-{id}")
    geometry: dict[str, Any] = Field(
        description="Point（世帯・アパート等・交番等）又は Polygon / MultiPolygon（区域）。座標は [経度, 緯度]"
    )
    properties: dict[str, Any] = Field(
        description=(
            "kind で種類を示す。household: id, category（UNKNOWN/ELDERLY/HOME/BUSINESS）, "
            "due（overdue=期限超過 / soon=30日以内 / later=余裕あり / vacant=空き家・空室）, "
            "next_due（ISO 8601）, next_due_label（和暦）, map_number（整理番号）, label（住所）, town, building_id。"
            "building: id, name, households。outline: id, name, area_km2。post: id, name。"
            "氏名・生年月日・電話番号は含まない"
        )
    )


class BeatMapOut(Schema):
    type: str = Field(description="FeatureCollection")
    features: list[FeatureOut]
    junkai: dict[str, Any] = Field(
        description="受持区・交番等、基準日（today）、世帯数（households / placed / unplaced）、町名、区分と期限の表示名"
    )


class OutlineOut(Schema):
    beat_id: int
    outline: dict[str, Any] | None = Field(description="正規化した GeoJSON geometry")
    vertices: int
    area_km2: float | None


@router.get("/beats/{beat_id}/map", response={200: BeatMapOut, 404: Message})
@declare_access("scoped")
def beat_map(request: HttpRequest, beat_id: Id) -> dict[str, Any]:
    """受持区地図: 世帯の位置（区分・期限）、アパート等、区域、交番等の GeoJSON FeatureCollection（閲覧記録に残ります）."""
    beat = access_beat_map(request_officer(request), beat_id, purpose="API閲覧")
    return maps.beat_map(beat)


@router.put(
    "/beats/{beat_id}/outline",
    response={200: OutlineOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def save_outline(
    request: HttpRequest,
    beat_id: Id,
    payload: Annotated[
        dict[str, Any],
        WithJsonSchema(OUTLINE_SCHEMA),
        param.Body(
            description=(
                "GeoJSON の Polygon / MultiPolygon、それを持つ Feature、"
                "又は Feature 1件の FeatureCollection。座標は [経度, 緯度]"
            ),
            openapi_examples={
                "polygon": {
                    "summary": "Polygon",
                    "value": {
                        "type": "Polygon",
                        "coordinates": [
                            [[131.60, 33.20], [131.61, 33.20], [131.61, 33.21], [131.60, 33.20]]
                        ],
                    },
                }
            },
        ),
    ],
) -> tuple[int, dict[str, Any]]:
    """受持区の区域の設定（管理責任者: 地域課長・幹部交番所長）. 誤りは 422 で理由を返し、何も変更しません."""
    officer = request_officer(request)
    beat = access_beat(officer, beat_id)
    if not may_edit_beat_outline(officer, beat):
        access_beat_for_outline(officer, beat_id)  # records the denial and raises 403
    org_actions.do_save_beat_outline(beat, payload, acting_officer=officer, source="API")
    outline = beat.outline
    return 200, {
        "beat_id": beat.id,
        "outline": outline,
        "vertices": geometry.vertex_count(outline) if outline else 0,
        "area_km2": round(geometry.area_km2(outline), 3) if outline else None,
    }
