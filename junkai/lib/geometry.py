"""Beat outlines (受持区の区域) as GeoJSON: parse and validate, point in polygon, bounding box,
centroid, area, and a padded convex hull. Pure functions over plain data, no models.

Positions are GeoJSON's [経度, 緯度] (lon, lat) in WGS 84. A beat is a few km across, so planar
arithmetic on degrees (with the longitude scaled by cos(latitude) where lengths matter) is
accurate enough and needs no projection library.

`parse_outline` returns a normalised geometry: Polygon or MultiPolygon, rings closed, consecutive
duplicate positions dropped, altitudes dropped, coordinates rounded to 6 decimals (≈ 0.1 m, as
households store them). Every refusal is an `OutlineError` whose message says in Japanese what
is wrong and where.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any, TypeAlias

Position: TypeAlias = tuple[float, float]  # (lon, lat)
Ring: TypeAlias = list[Position]
PolygonCoords: TypeAlias = list[Ring]
Geometry: TypeAlias = dict[str, Any]

#: An outline drawn by hand has tens of vertices, a town boundary from GIS a few thousand.
MAX_VERTICES = 20_000
#: Edge pairs the crossing check may compare per edge. A real outline (hand-drawn, or a town
#: boundary from GIS) needs a handful per edge; a shape made of thousands of long parallel
#: edges (a comb, a spiral) needs thousands, i.e. minutes of CPU: refused with a message.
CROSSING_WORK_PER_EDGE = 100
MIN_CROSSING_WORK = 100_000
DECIMALS = 6
METRES_PER_DEGREE_LAT = 111_320.0
OUTLINE_TYPES = ("Polygon", "MultiPolygon")


class OutlineError(ValueError):
    """Bad GeoJSON for a beat outline; the message is for the user (Japanese)."""


# --- parsing and validation -------------------------------------------------------------


def load_geojson(data: str | bytes | Any) -> Any:
    """JSON text (or an already parsed object) → the object, or OutlineError."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise OutlineError("ファイルを UTF-8 のテキストとして読み取れません") from exc
    if isinstance(data, str):
        text = data.strip().lstrip("\ufeff")
        if not text:
            raise OutlineError("GeoJSON が空です")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise OutlineError(
                f"GeoJSON として読み取れません（{exc.lineno}行目 {exc.colno}文字目付近）"
            ) from exc
    return data


def parse_outline(data: str | bytes | Any) -> Geometry:
    """One beat's outline: a Polygon or MultiPolygon geometry, a Feature holding one, or a
    FeatureCollection of exactly one such Feature. Returns the normalised geometry."""
    obj = load_geojson(data)
    if not isinstance(obj, dict):
        raise OutlineError("GeoJSON のオブジェクト（{ … }）を指定してください")
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            raise OutlineError("FeatureCollection に区域（features）がありません")
        if len(features) > 1:
            raise OutlineError(
                f"FeatureCollection に区域が{len(features)}件あります。"
                "1つの受持区には1件だけ指定してください（複数の受持区は一括取込の画面から）"
            )
        return feature_geometry(features[0])
    if kind == "Feature":
        return feature_geometry(obj)
    return validate_geometry(obj)


def feature_geometry(feature: Any, *, label: str = "") -> Geometry:
    """The validated outline of one GeoJSON Feature."""
    where = f"{label}：" if label else ""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise OutlineError(f"{where}Feature ではありません")
    geometry = feature.get("geometry")
    if geometry is None:
        raise OutlineError(f"{where}geometry がありません")
    try:
        return validate_geometry(geometry)
    except OutlineError as exc:
        raise OutlineError(f"{where}{exc}") from exc


def validate_geometry(obj: Any) -> Geometry:
    """A Polygon or MultiPolygon geometry object → its normalised form, or OutlineError."""
    if not isinstance(obj, dict):
        raise OutlineError("geometry はオブジェクト（{ … }）で指定してください")
    kind = obj.get("type")
    if kind not in OUTLINE_TYPES:
        shown = kind if isinstance(kind, str) and len(kind) < 40 else "不明"
        raise OutlineError(
            f"種類「{shown}」は区域に使えません。Polygon または MultiPolygon を指定してください"
        )
    coordinates = obj.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise OutlineError(f"{kind} の座標（coordinates）がありません")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    # Count before any work: the checks below cost more than linear time in the vertices.
    if raw_vertex_count(polygons) > MAX_VERTICES:
        raise OutlineError(f"頂点が多すぎます（{MAX_VERTICES:,}個まで）")
    normalised: list[PolygonCoords] = []
    total = 0
    for p, polygon in enumerate(polygons, start=1):
        where = f"{p}番目の多角形の" if kind == "MultiPolygon" else ""
        rings = _polygon(polygon, where)
        total += sum(len(r) - 1 for r in rings)
        if total > MAX_VERTICES:
            raise OutlineError(f"頂点が多すぎます（{MAX_VERTICES:,}個まで）")
        normalised.append(rings)
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": _lists(normalised[0])}
    return {"type": "MultiPolygon", "coordinates": [_lists(p) for p in normalised]}


def raw_vertex_count(polygons: Any) -> int:
    """Positions in unvalidated polygon coordinates (a closing position not counted)."""
    total = 0
    if not isinstance(polygons, list):
        return 0
    for polygon in polygons:
        if isinstance(polygon, list):
            for ring in polygon:
                if isinstance(ring, list):
                    total += max(len(ring) - 1, 0)
    return total


def _lists(rings: PolygonCoords) -> list[list[list[float]]]:
    return [[[lon, lat] for lon, lat in ring] for ring in rings]


def _position(value: Any, where: str) -> Position:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise OutlineError(f"{where}座標は [経度, 緯度] の形で指定してください")
    numbers = []
    for v in value[:2]:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise OutlineError(f"{where}座標に数値でない値があります")
        numbers.append(float(v))
    lon, lat = numbers
    if not -90 <= lat <= 90:
        raise OutlineError(
            f"{where}緯度 {lat:g} が範囲外です（座標は [経度, 緯度] の順で指定してください）"
        )
    if not -180 <= lon <= 180:
        raise OutlineError(f"{where}経度 {lon:g} が範囲外です")
    return round(lon, DECIMALS), round(lat, DECIMALS)


def _ring(value: Any, where: str) -> Ring:
    if not isinstance(value, list):
        raise OutlineError(f"{where}座標の並びが正しくありません")
    ring: Ring = []
    for i, raw in enumerate(value, start=1):
        position = _position(raw, f"{where}{i}番目の")
        if not ring or ring[-1] != position:
            ring.append(position)
    # A ring left open (common in hand-written GeoJSON) is closed rather than refused.
    if len(ring) > 1 and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len(ring) < 4:
        raise OutlineError(f"{where}頂点が3つ以上必要です")
    if all(_orient(ring[0], ring[1], p) == 0 for p in ring[2:]):
        raise OutlineError(f"{where}面積がありません（頂点が一直線上にあります）")
    return ring


def _polygon(value: Any, where: str) -> PolygonCoords:
    if not isinstance(value, list) or not value:
        raise OutlineError(f"{where}座標の並びが正しくありません")
    rings = []
    for r, raw in enumerate(value):
        name = "外周" if r == 0 else f"{r}番目の穴"
        rings.append(_ring(raw, f"{where}{name}の"))
    crossing = _first_crossing(rings)
    if crossing is not None:
        (ra, a), (rb, b) = crossing
        names = ["外周" if r == 0 else f"{r}番目の穴" for r in (ra, rb)]
        raise OutlineError(
            f"{where}境界線が交差しています（{names[0]}の{a + 1}〜{a + 2}番目の頂点の辺と"
            f"{names[1]}の{b + 1}〜{b + 2}番目の頂点の辺）"
        )
    for r, ring in enumerate(rings):
        if abs(_signed_area(ring)) < 1e-12:
            name = "外周" if r == 0 else f"{r}番目の穴"
            raise OutlineError(f"{where}{name}の面積がありません")
    for h, hole in enumerate(rings[1:], start=1):
        if not _in_ring(hole[0], rings[0]):
            raise OutlineError(f"{where}{h}番目の穴が外周の外にあります")
    return rings


def _signed_area(ring: Sequence[Sequence[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring)) / 2.0


def _orient(a: Position, b: Position, c: Position) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Position, b: Position, c: Position) -> bool:
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])


def _segments_cross(a: Position, b: Position, c: Position, d: Position) -> bool:
    d1, d2 = _orient(c, d, a), _orient(c, d, b)
    d3, d4 = _orient(a, b, c), _orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(c, d, a))
        or (d2 == 0 and _on_segment(c, d, b))
        or (d3 == 0 and _on_segment(a, b, c))
        or (d4 == 0 and _on_segment(a, b, d))
    )


def _folds_back(a: Position, b: Position, c: Position, d: Position) -> bool:
    """Two edges sharing a vertex that run back along each other."""
    if _orient(a, b, c) != 0 or _orient(a, b, d) != 0:
        return False
    shared = next((p for p in (a, b) if p in (c, d)), None)
    if shared is None:
        return False
    u = b if shared == a else a
    v = d if shared == c else c
    return (u[0] - shared[0]) * (v[0] - shared[0]) + (u[1] - shared[1]) * (v[1] - shared[1]) > 0


def _first_crossing(rings: Sequence[Ring]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Two edges of the polygon that cross or touch (other than neighbours sharing a vertex).

    Sort-and-sweep on x: each edge is compared only with the edges whose x-range overlaps it,
    so a few thousand vertices take milliseconds, not the seconds of all pairs.
    """
    edges = []
    for r, ring in enumerate(rings):
        for i in range(len(ring) - 1):
            a, b = ring[i], ring[i + 1]
            edges.append(
                (min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1]), r, i, a, b)
            )
    edges.sort(key=lambda e: e[0])
    budget = max(MIN_CROSSING_WORK, CROSSING_WORK_PER_EDGE * len(edges))
    active: list[tuple[float, float, float, float, int, int, Position, Position]] = []
    for edge in edges:
        x0, _, y0, y1, r, i, a, b = edge
        active = [e for e in active if e[1] >= x0]
        budget -= len(active)
        if budget < 0:
            raise OutlineError(
                "区域の形が複雑すぎて検査できません（細長い辺が多数並んでいます）。"
                "頂点を減らすか、形を単純にしてください"
            )
        n = len(rings[r]) - 1
        for other in active:
            if other[3] < y0 or other[2] > y1:
                continue  # no overlap in latitude: cannot cross
            _, _, _, _, r2, j, c, d = other
            if r2 == r and (abs(i - j) == 1 or abs(i - j) == n - 1):
                # Neighbours share a vertex: they overlap only when they fold back on a line.
                if _folds_back(a, b, c, d):
                    first, second = sorted([(r, i), (r2, j)])
                    return first, second
                continue
            if _segments_cross(a, b, c, d):
                first, second = sorted([(r, i), (r2, j)])
                return first, second
        active.append(edge)
    return None


# --- questions about an outline ---------------------------------------------------------


def polygons(geometry: Geometry) -> list[list[list[list[float]]]]:
    """The polygons of a (normalised) outline, MultiPolygon or not."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def vertex_count(geometry: Geometry) -> int:
    return sum(len(ring) - 1 for polygon in polygons(geometry) for ring in polygon)


def _in_ring(point: Sequence[float], ring: Sequence[Sequence[float]]) -> bool:
    """Ray casting; a point on the boundary may answer either way."""
    x, y = point[0], point[1]
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def contains(geometry: Geometry, lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies in the outline (inside an outer ring, not in one of its holes)."""
    point = (lon, lat)
    for polygon in polygons(geometry):
        if _in_ring(point, polygon[0]) and not any(_in_ring(point, h) for h in polygon[1:]):
            return True
    return False


def bounding_box(geometry: Geometry) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of the outer rings."""
    lons = [p[0] for polygon in polygons(geometry) for p in polygon[0]]
    lats = [p[1] for polygon in polygons(geometry) for p in polygon[0]]
    return min(lons), min(lats), max(lons), max(lats)


def centroid(geometry: Geometry) -> tuple[float, float]:
    """(lon, lat) of the area-weighted centroid (holes subtract)."""
    total = cx = cy = 0.0
    for polygon in polygons(geometry):
        for r, ring in enumerate(polygon):
            area = abs(_signed_area(ring))
            x, y = _ring_centroid(ring)
            sign = 1.0 if r == 0 else -1.0
            total += sign * area
            cx += sign * area * x
            cy += sign * area * y
    if total <= 0:
        min_lon, min_lat, max_lon, max_lat = bounding_box(geometry)
        return (min_lon + max_lon) / 2, (min_lat + max_lat) / 2
    return round(cx / total, DECIMALS), round(cy / total, DECIMALS)


def _ring_centroid(ring: Sequence[Sequence[float]]) -> tuple[float, float]:
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in pairwise(ring):
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if a == 0:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return sum(xs) / len(xs), sum(ys) / len(ys)
    return cx / (3 * a), cy / (3 * a)


def area_km2(geometry: Geometry) -> float:
    """Area in km² (equirectangular at the outline's latitude: ample for a beat)."""
    _, lat = centroid(geometry)
    kx = METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))
    total = 0.0
    for polygon in polygons(geometry):
        for r, ring in enumerate(polygon):
            area = abs(_signed_area(ring)) * kx * METRES_PER_DEGREE_LAT
            total += area if r == 0 else -area
    return total / 1_000_000


# --- building outlines from points (the demo) -----------------------------------------


def convex_hull(points: Iterable[Sequence[float]]) -> Ring:
    """Monotone chain; the closed ring counter-clockwise, or fewer than 4 positions when the
    points are fewer than 3 distinct or all on one line."""
    pts = sorted({(float(p[0]), float(p[1])) for p in points})
    if len(pts) < 3:
        return pts

    def half(seq: Iterable[Position]) -> Ring:
        chain: Ring = []
        for p in seq:
            while len(chain) >= 2 and _orient(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(reversed(pts))
    hull = lower[:-1] + upper[:-1]
    if len(hull) < 3:
        return hull
    return [*hull, hull[0]]


def padded_hull(points: Iterable[Sequence[float]], *, pad_m: float = 60.0) -> Geometry:
    """A Polygon around `points`: their convex hull pushed out by about `pad_m` metres (a
    padded box when the points are too few or on one line). For the demo's outlines."""
    pts = [(float(p[0]), float(p[1])) for p in points]
    if not pts:
        raise OutlineError("位置のある世帯がないため区域を作れません")
    lat0 = sum(p[1] for p in pts) / len(pts)
    dlat = pad_m / METRES_PER_DEGREE_LAT
    dlon = pad_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat0)))
    hull = convex_hull(pts)
    if len(hull) < 4:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        x0, x1, y0, y1 = min(xs) - dlon, max(xs) + dlon, min(ys) - dlat, max(ys) + dlat
        ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    else:
        # Each vertex moves out along the bisector of its two edges' outward normals.
        ring = []
        vertices = hull[:-1]
        n = len(vertices)
        for k, (x, y) in enumerate(vertices):
            px, py = vertices[k - 1]
            nx, ny = vertices[(k + 1) % n]
            # Work in metres so the pad is even in both directions.
            sx = 1 / dlon * pad_m
            sy = 1 / dlat * pad_m
            e1 = ((x - px) * sx, (y - py) * sy)
            e2 = ((nx - x) * sx, (ny - y) * sy)
            n1 = _unit((e1[1], -e1[0]))
            n2 = _unit((e2[1], -e2[0]))
            bis = _unit((n1[0] + n2[0], n1[1] + n2[1]))
            cos_half = max(0.3, bis[0] * n1[0] + bis[1] * n1[1])
            ring.append((x + bis[0] * dlon / cos_half, y + bis[1] * dlat / cos_half))
        ring.append(ring[0])
    return validate_geometry(
        {"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in ring]]}
    )


def _unit(v: tuple[float, float]) -> tuple[float, float]:
    length = math.hypot(v[0], v[1])
    return (v[0] / length, v[1] / length) if length else (0.0, 0.0)
