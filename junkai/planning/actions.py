"""Writes of the planning pages: keeping a day's route, and importing many beats' outlines.

A single beat's outline is an org write (org.actions.do_save_beat_outline: Beat is an org model
and every change to it lives there); importing a FeatureCollection is matching features to beats,
which is this app's business, and then calls that action once per beat inside one transaction,
so the import is all-or-nothing and each beat's change is audited on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from junkai.access.roles import outline_editable_posts
from junkai.lib import geometry
from junkai.lib.errors import PermissionDeniedError
from junkai.org import actions as org_actions
from junkai.org.models import Beat, Officer
from junkai.planning import routing
from junkai.planning.models import KeptRoute, KeptStop
from junkai.planning.routing_plan import Route, RouteInput, plan_route, record_route_planned

#: Feature properties that name the beat, tried in this order.
CODE_KEYS = ("code", "beat_code", "受持区コード")
NAME_KEYS = ("name", "beat_name", "受持区名", "受持区")
MAX_FEATURES = 500
#: Vertices in one import, all features together: each is checked twice (here, then by the
#: action that saves it), so the whole file is bounded, not only each outline.
MAX_IMPORT_VERTICES = 5 * geometry.MAX_VERTICES


@dataclass(frozen=True)
class OutlineImport:
    beats: list[Beat]


def _property(properties: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = properties.get(key)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return ""


def _raw_polygons(feature: dict[str, Any]) -> Any:
    geom = feature.get("geometry")
    if not isinstance(geom, dict):
        return []
    coordinates = geom.get("coordinates")
    return [coordinates] if geom.get("type") == "Polygon" else coordinates


@transaction.atomic
def do_import_beat_outlines(data: object, *, acting_officer: Officer) -> OutlineImport:
    """A FeatureCollection with one Feature per beat, matched by beat code (code / beat_code /
    受持区コード) or else by name (name / beat_name / 受持区名 / 受持区) among the beats whose
    outlines the officer sets. All or nothing: any bad feature raises ValidationError with one
    message per feature ("3件目: …") and nothing changes."""
    editable = list(
        Beat.objects.filter(post__in=outline_editable_posts(acting_officer))
        .select_related("post", "post__station")
        .order_by("post__code", "code")
    )
    if not editable:
        raise PermissionDeniedError(
            "受持区の区域を設定できるのは管理責任者（地域課長・幹部交番所長）です"
        )
    try:
        obj = geometry.load_geojson(data)
    except geometry.OutlineError as exc:
        raise ValidationError([str(exc)]) from exc
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection":
        raise ValidationError(
            ["受持区ごとの Feature を並べた FeatureCollection を指定してください"]
        )
    features = obj.get("features")
    if not isinstance(features, list) or not features:
        raise ValidationError(["FeatureCollection に区域（features）がありません"])
    if len(features) > MAX_FEATURES:
        raise ValidationError([f"区域は一度に{MAX_FEATURES}件までです"])
    total = sum(
        geometry.raw_vertex_count(_raw_polygons(f)) for f in features if isinstance(f, dict)
    )
    if total > MAX_IMPORT_VERTICES:
        raise ValidationError(
            [f"頂点が多すぎます（一度の取込みで合わせて{MAX_IMPORT_VERTICES:,}個まで）"]
        )
    by_code: dict[str, list[Beat]] = {}
    by_name: dict[str, list[Beat]] = {}
    for beat in editable:
        by_code.setdefault(beat.code, []).append(beat)
        by_name.setdefault(beat.name, []).append(beat)
    errors: list[str] = []
    matched: list[tuple[Beat, dict[str, Any]]] = []
    seen: dict[int, int] = {}
    for n, feature in enumerate(features, start=1):
        where = f"{n}件目"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        code = _property(properties, CODE_KEYS)
        name = _property(properties, NAME_KEYS)
        candidates = by_code.get(code, []) if code else []
        if not candidates and name:
            candidates = by_name.get(name, [])
        shown = f"（{code or name}）" if (code or name) else ""
        if not code and not name:
            errors.append(f"{where}: 受持区のコード（code）又は名称（name）がありません")
            continue
        if not candidates:
            errors.append(f"{where}{shown}: 区域を設定できる受持区に該当するものがありません")
            continue
        if len(candidates) > 1:
            errors.append(f"{where}{shown}: 受持区が複数該当します。コードで指定してください")
            continue
        beat = candidates[0]
        if beat.id in seen:
            errors.append(f"{where}{shown}: {seen[beat.id]}件目と同じ受持区です")
            continue
        seen[beat.id] = n
        try:
            geom = geometry.feature_geometry(feature)
        except geometry.OutlineError as exc:
            errors.append(f"{where}{shown}: {exc}")
            continue
        matched.append((beat, geom))
    if errors:
        raise ValidationError(errors)
    saved = [
        org_actions.do_save_beat_outline(
            beat, geom, acting_officer=acting_officer, source="一括取込"
        )
        for beat, geom in matched
    ]
    return OutlineImport(beats=saved)


def do_plan_route(officer: Officer, data: RouteInput) -> tuple[Route, KeptRoute]:
    """Plan the day's route and keep it for the officer (his 今日の経路), in one transaction
    with its audit event (ROUTE_PLANNED: household ids only).

    Planning checks the scope first, outside the transaction: a refusal stays on the record."""
    route = plan_route(officer, data)
    with transaction.atomic():
        record_route_planned(officer, route, purpose="巡回経路の作成")
        return route, _keep(officer, route)


def _keep(officer: Officer, route: Route) -> KeptRoute:
    kept = KeptRoute.objects.create(
        officer=officer,
        day=route.day,
        mode=route.mode,
        start_time=route.start_time,
        end_time=route.end_time,
        start_label=route.start_label[:200],
        start_lat=route.start.lat,
        start_lon=route.start.lon,
        distance_m=route.plan.distance_m,
        duration_s=route.plan.duration_s,
        return_m=route.plan.return_m,
    )
    KeptStop.objects.bulk_create(
        KeptStop(
            route=kept,
            number=s.number,
            household=s.household,
            arrival=routing.hhmm(s.visit.arrival_s),
            start=routing.hhmm(s.visit.start_s),
            wait_min=s.visit.wait_s // 60,
            leg_m=s.visit.leg_m,
            leg_min=(s.visit.leg_s + 59) // 60,
            preferred=s.preferred[:200],
        )
        for s in route.stops
    )
    return kept
