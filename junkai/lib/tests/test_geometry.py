"""junkai.lib.geometry: beat outlines as GeoJSON."""

from __future__ import annotations

import json
import time
from typing import Any

from django.test import SimpleTestCase

from junkai.lib import geometry
from junkai.lib.geometry import OutlineError

SQUARE = [[131.0, 33.0], [131.01, 33.0], [131.01, 33.01], [131.0, 33.01], [131.0, 33.0]]
HOLE = [
    [131.004, 33.004],
    [131.006, 33.004],
    [131.006, 33.006],
    [131.004, 33.006],
    [131.004, 33.004],
]


def polygon(*rings: list[list[Any]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": list(rings)}


class ParseTests(SimpleTestCase):
    def test_polygon_feature_and_single_feature_collection_give_the_same_geometry(self) -> None:
        geom = polygon(SQUARE)
        feature = {"type": "Feature", "properties": {"code": "K1-1"}, "geometry": geom}
        collection = {"type": "FeatureCollection", "features": [feature]}
        expected = {"type": "Polygon", "coordinates": [SQUARE]}
        for data in (geom, feature, collection, json.dumps(collection), json.dumps(geom).encode()):
            self.assertEqual(geometry.parse_outline(data), expected)

    def test_multipolygon_is_kept(self) -> None:
        other = [[p[0] + 0.02, p[1]] for p in SQUARE]
        parsed = geometry.parse_outline(
            {"type": "MultiPolygon", "coordinates": [[SQUARE], [other]]}
        )
        self.assertEqual(parsed["type"], "MultiPolygon")
        self.assertEqual(geometry.vertex_count(parsed), 8)

    def test_open_ring_is_closed_duplicates_dropped_altitude_dropped_and_rounded(self) -> None:
        ring = [
            [131.0, 33.0, 12.5],
            [131.0, 33.0],
            [131.01, 33.0],
            [131.01, 33.01],
            [131.0000004, 33.01],
        ]
        parsed = geometry.parse_outline(polygon(ring))
        self.assertEqual(
            parsed["coordinates"][0],
            [[131.0, 33.0], [131.01, 33.0], [131.01, 33.01], [131.0, 33.01], [131.0, 33.0]],
        )

    def assertRefused(self, data: object, *fragments: str) -> None:
        with self.assertRaises(OutlineError) as caught:
            geometry.parse_outline(data)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_bad_input_is_refused_with_a_japanese_message_naming_the_fault(self) -> None:
        self.assertRefused("", "空")
        self.assertRefused('{"type": "Polygon", "coordinates": [', "読み取れません", "1行目")
        self.assertRefused(b"\xff\xfe\x00", "UTF-8")
        self.assertRefused("[1, 2]", "オブジェクト")
        self.assertRefused({"type": "Point", "coordinates": [131, 33]}, "Point", "Polygon")
        self.assertRefused({"type": "Polygon"}, "coordinates")
        self.assertRefused(polygon([[131, 33], [131.01, 33], [131, 33]]), "3つ以上")
        self.assertRefused(polygon([[131, 33], [131.01, 33], [131.02, 33]]), "面積")
        self.assertRefused(polygon([[131, 33], ["x", 33], [131, 33.01]]), "2番目", "数値")
        self.assertRefused(polygon([[131, 33], [131.01, 33], [131.01, 33.01], [131.01]]), "4番目")
        # Latitude and longitude swapped: the message says the order.
        self.assertRefused(
            polygon([[33, 131], [33.01, 131], [33.01, 131.01]]), "緯度", "[経度, 緯度]"
        )
        self.assertRefused(polygon([[181, 33], [131.01, 33], [131.01, 33.01]]), "経度")
        self.assertRefused({"type": "Feature", "geometry": None}, "geometry")
        self.assertRefused({"type": "FeatureCollection", "features": []}, "features")
        two = {"type": "Feature", "geometry": polygon(SQUARE)}
        self.assertRefused({"type": "FeatureCollection", "features": [two, two]}, "2件")
        self.assertRefused(
            {"type": "MultiPolygon", "coordinates": [[SQUARE], [[[1, 2]]]]}, "2番目の多角形"
        )

    def test_self_crossing_ring_is_refused_naming_the_edges(self) -> None:
        bow_tie = [[131.0, 33.0], [131.01, 33.01], [131.01, 33.0], [131.0, 33.01]]
        self.assertRefused(polygon(bow_tie), "交差", "外周の1〜2番目", "外周の3〜4番目")

    def test_edge_folding_back_on_itself_is_refused(self) -> None:
        spike = [[131.0, 33.0], [131.01, 33.0], [131.01, 33.01], [131.01, 33.005], [131.0, 33.01]]
        self.assertRefused(polygon(spike), "交差")

    def test_hole_outside_and_hole_crossing_the_outer_ring_are_refused(self) -> None:
        outside = [[p[0] + 0.05, p[1]] for p in HOLE]
        self.assertRefused(polygon(SQUARE, outside), "1番目の穴が外周の外")
        crossing = [[131.005, 33.005], [131.02, 33.005], [131.02, 33.006], [131.005, 33.006]]
        self.assertRefused(polygon(SQUARE, crossing), "交差", "1番目の穴")

    def test_too_many_vertices(self) -> None:
        import math

        n = geometry.MAX_VERTICES + 1
        ring = [
            [131 + 0.01 * math.cos(2 * math.pi * k / n), 33 + 0.01 * math.sin(2 * math.pi * k / n)]
            for k in range(n)
        ]
        self.assertRefused(polygon(ring), "頂点が多すぎます")

    def test_a_large_valid_outline_is_checked_quickly(self) -> None:
        import math

        n = 5000
        ring = [
            [131 + 0.01 * math.cos(2 * math.pi * k / n), 33 + 0.01 * math.sin(2 * math.pi * k / n)]
            for k in range(n)
        ]
        started = time.perf_counter()
        geometry.parse_outline(polygon(ring))
        self.assertLess(time.perf_counter() - started, 2.0)

    def test_too_many_vertices_is_refused_before_any_other_check(self) -> None:
        # A huge ring is counted first, not walked vertex by vertex and edge by edge.
        n = geometry.MAX_VERTICES * 5
        ring = [[131.0, 33.0], [131.01, 33.01], [131.01, 33.0], [131.0, 33.01]]
        ring += [[131.0 + k * 1e-7, 33.02] for k in range(n)]
        started = time.perf_counter()
        self.assertRefused(polygon(ring), "頂点が多すぎます")
        self.assertLess(time.perf_counter() - started, 0.5)

    def test_a_comb_of_long_edges_is_refused_quickly_not_checked_for_minutes(self) -> None:
        # Thousands of long parallel edges (valid, but every edge overlaps every other in
        # longitude): the sweep degenerates to all pairs, ~1 min of CPU at 8,000 vertices.
        ring: list[list[float]] = []
        for k in range(2000):
            y = 33.0 + k * 2e-5
            ring += [[131.0, y], [131.01, y], [131.01, y + 1e-5], [131.001, y + 1e-5]]
        ring += [[130.999, 33.0 + 4000 * 1e-5 + 2e-5], [130.999, 33.0]]
        started = time.perf_counter()
        self.assertRefused(polygon(ring), "複雑すぎて")
        self.assertLess(time.perf_counter() - started, 2.0)

    def test_many_polygons_share_the_vertex_limit(self) -> None:
        small = [[131.0, 33.0], [131.0001, 33.0], [131.0001, 33.0001], [131.0, 33.0]]
        many = [[[[p[0] + k * 0.001, p[1]] for p in small]] for k in range(7000)]
        self.assertRefused({"type": "MultiPolygon", "coordinates": many}, "頂点が多すぎます")


class QuestionTests(SimpleTestCase):
    def test_contains_respects_holes_and_multipolygons(self) -> None:
        donut = geometry.parse_outline(polygon(SQUARE, HOLE))
        self.assertTrue(geometry.contains(donut, 131.002, 33.002))
        self.assertFalse(geometry.contains(donut, 131.005, 33.005))  # in the hole
        self.assertFalse(geometry.contains(donut, 131.02, 33.005))
        other = [[p[0] + 0.02, p[1]] for p in SQUARE]
        multi = geometry.parse_outline({"type": "MultiPolygon", "coordinates": [[SQUARE], [other]]})
        self.assertTrue(geometry.contains(multi, 131.025, 33.005))
        self.assertFalse(geometry.contains(multi, 131.015, 33.005))

    def test_bounding_box_centroid_and_area(self) -> None:
        square = geometry.parse_outline(polygon(SQUARE))
        self.assertEqual(geometry.bounding_box(square), (131.0, 33.0, 131.01, 33.01))
        lon, lat = geometry.centroid(square)
        self.assertAlmostEqual(lon, 131.005, places=6)
        self.assertAlmostEqual(lat, 33.005, places=6)
        # 0.01° × 0.01° at 33°N ≈ 1.113 km × 0.934 km.
        self.assertAlmostEqual(geometry.area_km2(square), 1.0393, places=2)
        # An L shape: the centroid moves towards the heavier arm.
        ell = geometry.parse_outline(
            polygon([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]])
        )
        lon, lat = geometry.centroid(ell)
        self.assertAlmostEqual(lon, 5 / 6, places=5)
        self.assertAlmostEqual(lat, 5 / 6, places=5)
        donut = geometry.parse_outline(polygon(SQUARE, HOLE))
        self.assertLess(geometry.area_km2(donut), geometry.area_km2(square))

    def test_convex_hull(self) -> None:
        points = [(0, 0), (2, 0), (1, 1), (2, 2), (0, 2), (1, 0.5)]
        hull = geometry.convex_hull(points)
        self.assertEqual(hull, [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)])
        self.assertEqual(len(geometry.convex_hull([(0, 0), (1, 1), (2, 2)])), 2)

    def test_padded_hull_contains_every_point_with_room_to_spare(self) -> None:
        points = [(131.6 + 0.001 * (k % 7), 33.2 + 0.0013 * (k % 5)) for k in range(40)]
        outline = geometry.padded_hull(points, pad_m=50)
        for lon, lat in points:
            self.assertTrue(geometry.contains(outline, lon, lat))
            # 40 m away in each direction is still inside.
            self.assertTrue(geometry.contains(outline, lon, lat - 40 / 111_320))
        # Two points (no area): a padded box.
        box = geometry.padded_hull([(131.6, 33.2), (131.601, 33.2)], pad_m=50)
        self.assertTrue(geometry.contains(box, 131.6005, 33.2))
        with self.assertRaises(OutlineError):
            geometry.padded_hull([])
