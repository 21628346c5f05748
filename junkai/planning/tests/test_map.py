"""The beat map (受持区地図) and beat outlines: pages, API, scope, audit, permissions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, ClassVar

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions as household_actions
from junkai.households.models import Building, Household
from junkai.org.models import Beat, Post, today
from junkai.testing import PersonaTestCase

SQUARE = [[131.60, 33.20], [131.61, 33.20], [131.61, 33.21], [131.60, 33.21], [131.60, 33.20]]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[131.60, 33.20], [131.61, 33.21], [131.61, 33.20], [131.60, 33.21]]],
}


class MapTestCase(PersonaTestCase):
    later: ClassVar[Household]
    rooms: ClassVar[list[Household]]
    building: ClassVar[Building]
    unplaced: ClassVar[Household]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        day = today()
        # Positions and due dates for the sample households (derived fields: set directly).
        Household.objects.filter(pk=cls.aoki.pk).update(
            latitude=Decimal("33.205"),
            longitude=Decimal("131.605"),
            next_due=day - dt.timedelta(days=3),
        )
        Household.objects.filter(pk=cls.no_card.pk).update(
            latitude=Decimal("33.2051"),
            longitude=Decimal("131.6052"),
            next_due=day + dt.timedelta(days=10),
        )
        k1 = Beat.objects.get(post__station=cls.station, code="K1-1")
        cls.later = household_actions.do_create_household(
            k1, acting_officer=None, kind="BUSINESS", name="駅前食堂", town="駅前町",
            chome="2", banchi="1", map_number=3,
            latitude=Decimal("33.2060"), longitude=Decimal("131.6070"),
        )  # fmt: skip
        Household.objects.filter(pk=cls.later.pk).update(next_due=day + dt.timedelta(days=90))
        building = household_actions.do_create_building(
            k1, acting_officer=None, name="コーポ駅前", town="駅前町", chome="3", banchi="4"
        )
        cls.rooms = [
            household_actions.do_create_household(
                k1,
                acting_officer=None,
                building=building,
                kind="RESIDENCE",
                town="駅前町",
                chome="3",
                banchi="4",
                room=room,
                map_number=4 + i,
                latitude=Decimal("33.2070"),
                longitude=Decimal("131.6080"),
            )
            for i, room in enumerate(("101", "102"))
        ]
        cls.building = building
        # A door with no position: counted, not drawn.
        cls.unplaced = household_actions.do_create_household(
            k1, acting_officer=None, kind="RESIDENCE", town="駅前町", chome="5", banchi="5"
        )

    def k1(self) -> Beat:
        return self.beat("K1-1")

    def api(self, username: str) -> Client:
        token, _ = do_issue_api_token(self.officer(username))
        return Client(headers={"Authorization": f"Bearer {token}"})

    def map_data(self, response: Any) -> dict[str, Any]:
        content = response.content.decode()
        start = content.index('<script id="beat-map-data" type="application/json">')
        body = content[start:].split(">", 1)[1].split("</script>", 1)[0]
        data: dict[str, Any] = json.loads(body)
        return data

    def events(self, event_type: EventType, **filters: Any) -> int:
        return AuditEvent.objects.filter(event_type=int(event_type), **filters).count()


class MapPageTests(MapTestCase):
    def test_officer_sees_points_by_category_and_due_status_and_the_read_is_recorded(self) -> None:
        before = self.events(EventType.READ_BEAT_MAP, actor=self.officer("officer1a"))
        response = self.client_for("officer1a").get(f"/beats/{self.k1().id}/map/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "駅前一区 地図")
        self.assertEqual(
            self.events(
                EventType.READ_BEAT_MAP,
                actor=self.officer("officer1a"),
                object_id=str(self.k1().id),
            ),
            before + 1,
        )
        data = self.map_data(response)
        points = {
            f["properties"]["id"]: f["properties"]
            for f in data["features"]
            if f["properties"]["kind"] == "household"
        }
        self.assertEqual(
            set(points), {self.aoki.id, self.no_card.id, self.later.id, *(r.id for r in self.rooms)}
        )
        self.assertEqual(points[self.aoki.id]["due"], "overdue")
        self.assertEqual(points[self.no_card.id]["due"], "soon")
        self.assertEqual(points[self.later.id]["due"], "later")
        self.assertEqual(points[self.aoki.id]["category"], "HOME")
        self.assertEqual(points[self.no_card.id]["category"], "UNKNOWN")
        self.assertEqual(points[self.later.id]["category"], "UNKNOWN")
        self.assertEqual(points[self.aoki.id]["label"], "駅前町1丁目2番3号")
        self.assertEqual(points[self.rooms[0].id]["label"], "駅前町3丁目4番地 コーポ駅前 101号室")
        self.assertEqual(data["junkai"]["households"], 6)
        self.assertEqual(data["junkai"]["unplaced"], 1)
        self.assertContains(response, "位置（緯度・経度）が登録されていない世帯が 1 件")
        buildings = [f for f in data["features"] if f["properties"]["kind"] == "building"]
        self.assertEqual(
            buildings[0]["properties"],
            {"kind": "building", "id": self.building.id, "name": "コーポ駅前", "households": 2},
        )
        # Only what the map needs: no names, birth dates or phones on the page.
        for text in ("青木", "1970-03-01", "090-1111-2222", "駅前食堂"):
            self.assertNotContains(response, text)
        # A beat officer does not set outlines: no link.
        self.assertNotContains(response, f"/beats/{self.k1().id}/outline/")

    def test_the_manager_gets_the_outline_link_and_the_outline_on_the_map(self) -> None:
        from junkai.org.actions import do_save_beat_outline

        do_save_beat_outline(self.k1(), POLYGON, acting_officer=None)
        response = self.client_for("kacho").get(f"/beats/{self.k1().id}/map/")
        self.assertContains(response, f"/beats/{self.k1().id}/outline/")
        outline = [
            f for f in self.map_data(response)["features"] if f["properties"]["kind"] == "outline"
        ]
        self.assertEqual(outline[0]["geometry"], POLYGON)
        self.assertGreater(outline[0]["properties"]["area_km2"], 1.0)

    def test_out_of_scope_answers_404_and_the_denial_is_recorded(self) -> None:
        url = f"/beats/{self.k1().id}/map/"
        for username in ("officer2a", "chuzai1", "hq", "staff"):
            before = self.events(EventType.ACCESS_DENIED, actor=self.officer(username))
            response = self.client_for(username).get(url)
            self.assertEqual(response.status_code, 404, username)
            self.assertEqual(
                self.events(EventType.ACCESS_DENIED, actor=self.officer(username)), before + 1
            )
        other = self.client_for("other_officer")
        self.assertEqual(other.get(url).status_code, 404)
        self.assertEqual(other.get("/beats/999999/map/").status_code, 404)
        self.assertEqual(self.events(EventType.READ_BEAT_MAP, object_id=str(self.k1().id)), 0)

    def test_the_map_page_costs_the_same_queries_whatever_the_number_of_households(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = self.client_for("officer1a")
        url = f"/beats/{self.k1().id}/map/"
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        k1 = self.k1()
        for i in range(30):
            household_actions.do_create_household(
                k1, acting_officer=None, kind="RESIDENCE", town="駅前町", chome="9",
                banchi=str(i + 1), latitude=Decimal("33.2"), longitude=Decimal("131.6"),
            )  # fmt: skip
        with self.assertNumQueries(len(few)):
            response = client.get(url)
        self.assertEqual(self.map_data(response)["junkai"]["placed"], 35)

    def test_the_beat_list_and_the_beat_index_link_to_the_map(self) -> None:
        client = self.client_for("officer1a")
        url = f"/beats/{self.k1().id}/map/"
        self.assertContains(client.get(f"/beats/{self.k1().id}/households/"), url)
        self.assertContains(client.get("/beats/"), url)


class MapApiTests(MapTestCase):
    def test_geojson_feature_collection_with_points_only_carrying_what_the_map_needs(self) -> None:
        from junkai.org.actions import do_save_beat_outline, do_set_post_location

        do_save_beat_outline(self.k1(), POLYGON, acting_officer=None)
        do_set_post_location(
            self.post("K1"), acting_officer=None, latitude="33.2049", longitude="131.6049"
        )
        response = self.api("officer1a").get(f"/api/v1/beats/{self.k1().id}/map")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["type"], "FeatureCollection")
        kinds = [f["properties"]["kind"] for f in body["features"]]
        self.assertEqual(kinds.count("household"), 5)
        self.assertEqual(kinds.count("building"), 1)
        self.assertEqual(kinds.count("outline"), 1)
        post = next(f for f in body["features"] if f["properties"]["kind"] == "post")
        self.assertEqual(post["geometry"], {"type": "Point", "coordinates": [131.6049, 33.2049]})
        for feature in body["features"]:
            if feature["properties"]["kind"] == "household":
                self.assertEqual(
                    set(feature["properties"]),
                    {
                        "kind",
                        "id",
                        "category",
                        "due",
                        "next_due",
                        "next_due_label",
                        "map_number",
                        "label",
                        "town",
                        "building_id",
                    },
                )
                self.assertEqual(feature["geometry"]["type"], "Point")
                # The popup shows the date in 和暦; the ISO date stays for programs.
                if feature["properties"]["next_due"]:
                    self.assertRegex(feature["properties"]["next_due_label"], r"^令和\d+年")
        text = response.content.decode()
        for personal in ("青木", "1970-03-01", "090-1111-2222", "birth", "phone"):
            self.assertNotIn(personal, text)
        self.assertEqual(
            self.events(
                EventType.READ_BEAT_MAP, actor=self.officer("officer1a"), purpose="API閲覧"
            ),
            1,
        )

    def test_out_of_scope_is_404_for_the_api_too(self) -> None:
        for username in ("officer2a", "hq", "staff"):
            response = self.api(username).get(f"/api/v1/beats/{self.k1().id}/map")
            self.assertEqual(response.status_code, 404, username)
        self.assertEqual(Client().get(f"/api/v1/beats/{self.k1().id}/map").status_code, 401)

    def test_openapi_documents_both_operations(self) -> None:
        schema = self.client_for("officer1a").get("/api/v1/openapi.json").json()
        self.assertIn("get", schema["paths"]["/api/v1/beats/{beat_id}/map"])
        self.assertIn("put", schema["paths"]["/api/v1/beats/{beat_id}/outline"])


class OutlineApiTests(MapTestCase):
    def put(self, username: str, beat: Beat, body: Any) -> Any:
        return self.api(username).put(
            f"/api/v1/beats/{beat.id}/outline", json.dumps(body), content_type="application/json"
        )

    def test_the_station_manager_sets_an_outline_and_it_is_audited(self) -> None:
        feature = {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Polygon", "coordinates": [SQUARE[:-1]]},
        }
        response = self.put("kacho", self.k1(), feature)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["outline"], POLYGON)  # the open ring came back closed
        self.assertEqual(response.json()["vertices"], 4)
        self.assertEqual(self.k1().outline, POLYGON)
        event = AuditEvent.objects.filter(event_type=int(EventType.BEAT_OUTLINE_SAVED)).latest("id")
        self.assertEqual(event.actor_id, self.officer("kacho").id)
        self.assertEqual(event.object_id, str(self.k1().id))
        self.assertEqual(event.details["source"], "API")
        self.assertEqual(event.details["vertices"], 4)
        # The 地域課長 also sets the 幹部交番's beats; the 幹部交番所長 only his own.
        self.assertEqual(self.put("kacho", self.beat("KB-1"), POLYGON).status_code, 200)
        self.assertEqual(self.put("kanbucho", self.beat("KB-2"), POLYGON).status_code, 200)
        self.assertEqual(self.put("kanbucho", self.k1(), POLYGON).status_code, 404)

    def test_officers_and_readers_are_refused_and_nothing_changes(self) -> None:
        for username, status in (
            ("officer1a", 403),
            ("kobancho1", 403),
            ("chief", 403),
            ("dairi", 403),
            ("officer2a", 404),
            ("hq", 404),
            ("staff", 404),
        ):
            response = self.put(username, self.k1(), POLYGON)
            self.assertEqual(response.status_code, status, username)
            if status == 403:
                self.assertIn("管理責任者", response.json()["detail"])
        self.assertIsNone(self.k1().outline)
        self.assertEqual(self.events(EventType.BEAT_OUTLINE_SAVED, object_id=str(self.k1().id)), 0)

    def test_bad_geojson_is_422_with_a_japanese_message_and_nothing_changes(self) -> None:
        self.put("kacho", self.k1(), POLYGON)
        saved = self.events(EventType.BEAT_OUTLINE_SAVED)
        for body, fragment in (
            (BOW_TIE, "交差"),
            ({"type": "Point", "coordinates": [131.6, 33.2]}, "Polygon"),
            (
                {
                    "type": "Polygon",
                    "coordinates": [[[33.2, 131.6], [33.21, 131.6], [33.21, 131.61]]],
                },
                "[経度, 緯度]",
            ),
            ({"type": "Polygon", "coordinates": [[[131.6, 33.2], [131.61, 33.2]]]}, "3つ以上"),
            ({}, "Polygon"),
        ):
            response = self.put("kacho", self.k1(), body)
            self.assertEqual(response.status_code, 422, body)
            self.assertIn(fragment, response.json()["errors"]["outline"][0])
        self.assertEqual(self.k1().outline, POLYGON)
        self.assertEqual(self.events(EventType.BEAT_OUTLINE_SAVED), saved)


class OutlinePageTests(MapTestCase):
    def url(self) -> str:
        return f"/beats/{self.k1().id}/outline/"

    def test_the_manager_draws_or_pastes_an_outline(self) -> None:
        client = self.client_for("kacho")
        page = client.get(self.url())
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "駅前一区 区域の設定")
        self.assertEqual(
            self.events(
                EventType.READ_BEAT_MAP, actor=self.officer("kacho"), purpose="受持区の区域の設定"
            ),
            1,
        )
        response = client.post(self.url(), {"form": "outline", "geojson": json.dumps(POLYGON)})
        self.assertRedirects(response, f"/beats/{self.k1().id}/map/")
        self.assertEqual(self.k1().outline, POLYGON)
        self.assertEqual(self.events(EventType.BEAT_OUTLINE_SAVED, object_id=str(self.k1().id)), 1)

    def test_a_geojson_file_and_a_one_feature_collection(self) -> None:
        collection = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {"code": "K1-1"}, "geometry": POLYGON}],
        }
        upload = SimpleUploadedFile(
            "k1.geojson", json.dumps(collection).encode(), "application/geo+json"
        )
        response = self.client_for("kacho").post(self.url(), {"form": "outline", "file": upload})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.k1().outline, POLYGON)

    def test_bad_geojson_shows_what_is_wrong_and_changes_nothing(self) -> None:
        client = self.client_for("kacho")
        for data, message in (
            ({"geojson": json.dumps(BOW_TIE)}, "境界線が交差しています"),
            ({"geojson": '{"type": "Polygon", '}, "GeoJSON として読み取れません"),
            ({"geojson": ""}, "区域を地図上で描くか"),
        ):
            response = client.post(self.url(), {"form": "outline", **data})
            self.assertEqual(response.status_code, 422)
            self.assertContains(response, message, status_code=422)
        self.assertIsNone(self.k1().outline)
        self.assertEqual(self.events(EventType.BEAT_OUTLINE_SAVED), 0)

    def test_clearing_the_outline(self) -> None:
        client = self.client_for("kacho")
        client.post(self.url(), {"form": "outline", "geojson": json.dumps(POLYGON)})
        response = client.post(self.url(), {"form": "clear"})
        self.assertEqual(response.status_code, 302)
        self.assertIsNone(self.k1().outline)
        event = AuditEvent.objects.filter(event_type=int(EventType.BEAT_OUTLINE_SAVED)).latest("id")
        self.assertTrue(event.details["cleared"])

    def test_officers_get_403_in_scope_and_404_out_of_it(self) -> None:
        for username in ("officer1a", "kobancho1", "chief", "dairi"):
            client = self.client_for(username)
            self.assertEqual(client.get(self.url()).status_code, 403, username)
            response = client.post(self.url(), {"form": "outline", "geojson": json.dumps(POLYGON)})
            self.assertEqual(response.status_code, 403, username)
        for username in ("officer2a", "kanbucho", "hq", "staff"):
            self.assertEqual(self.client_for(username).get(self.url()).status_code, 404, username)
        self.assertIsNone(self.k1().outline)

    def test_the_post_position(self) -> None:
        client = self.client_for("kacho")
        response = client.post(
            self.url(), {"form": "post_location", "latitude": "33.2049", "longitude": "131.6049"}
        )
        self.assertEqual(response.status_code, 302)
        post = Post.objects.get(pk=self.post("K1").pk)
        self.assertEqual(
            (post.latitude, post.longitude), (Decimal("33.204900"), Decimal("131.604900"))
        )
        for data, message in (
            ({"latitude": "北緯33", "longitude": "131.6"}, "緯度は数値で入力してください"),
            ({"latitude": "133.2", "longitude": "131.6"}, "緯度は-90〜90の範囲"),
            ({"latitude": "33.2", "longitude": ""}, "緯度と経度は両方入力してください"),
        ):
            response = client.post(self.url(), {"form": "post_location", **data})
            self.assertContains(response, message, status_code=422)
        post.refresh_from_db()
        self.assertEqual(post.latitude, Decimal("33.204900"))
        self.assertEqual(
            self.events(
                EventType.POST_LOCATION_SET, object_type="org.post", object_id=str(post.id)
            ),
            1,
        )


class OutlineImportTests(MapTestCase):
    def collection(self, *features: dict[str, Any]) -> str:
        return json.dumps({"type": "FeatureCollection", "features": list(features)})

    def feature(self, geometry: dict[str, Any] = POLYGON, **properties: Any) -> dict[str, Any]:
        return {"type": "Feature", "properties": properties, "geometry": geometry}

    def test_one_feature_per_beat_matched_by_code_or_name(self) -> None:
        moved = {
            "type": "Polygon",
            "coordinates": [[[round(p[0] + 0.02, 6), p[1]] for p in SQUARE]],
        }
        client = self.client_for("kacho")
        self.assertEqual(client.get("/beats/outlines/import/").status_code, 200)
        response = client.post(
            "/beats/outlines/import/",
            {
                "geojson": self.collection(
                    self.feature(code="K1-1"), self.feature(moved, 受持区名="本町一区")
                )
            },
            follow=True,
        )
        self.assertContains(response, "2件の受持区の区域を取り込みました")
        self.assertEqual(self.k1().outline, POLYGON)
        self.assertEqual(self.beat("K2-1").outline, moved)
        self.assertEqual(self.events(EventType.BEAT_OUTLINE_SAVED), 2)

    def test_any_bad_feature_refuses_the_whole_file_with_a_message_per_feature(self) -> None:
        response = self.client_for("kacho").post(
            "/beats/outlines/import/",
            {
                "geojson": self.collection(
                    self.feature(code="K1-1"),
                    self.feature(BOW_TIE, code="K1-2"),
                    self.feature(code="N1-1"),  # the other station's beat
                    self.feature(name="駅前一区"),
                    self.feature(),
                )
            },
        )
        self.assertEqual(response.status_code, 422)
        for message in (
            "2件目（K1-2）: 境界線が交差しています",
            "3件目（N1-1）: 区域を設定できる受持区に該当するものがありません",
            "4件目（駅前一区）: 1件目と同じ受持区です",
            "5件目: 受持区のコード（code）又は名称（name）がありません",
        ):
            self.assertContains(response, message, status_code=422)
        self.assertIsNone(self.k1().outline)
        self.assertEqual(self.events(EventType.BEAT_OUTLINE_SAVED), 0)

    def test_an_import_is_bounded_in_vertices_as_a_whole_not_only_per_outline(self) -> None:
        import math

        n = 19_000  # each outline under the limit of one outline
        ring = [
            [round(131.6 + 0.01 * math.cos(2 * math.pi * k / n), 6),
             round(33.2 + 0.01 * math.sin(2 * math.pi * k / n), 6)]
            for k in range(n)
        ]  # fmt: skip
        circle = {"type": "Polygon", "coordinates": [ring]}
        upload = SimpleUploadedFile(
            "beats.geojson",
            self.collection(*(self.feature(circle, code=f"K{k}") for k in range(6))).encode(),
        )
        response = self.client_for("kacho").post("/beats/outlines/import/", {"file": upload})
        self.assertContains(response, "一度の取込みで合わせて100,000個まで", status_code=422)
        self.assertEqual(self.events(EventType.BEAT_OUTLINE_SAVED), 0)

    def test_not_a_feature_collection(self) -> None:
        response = self.client_for("kacho").post(
            "/beats/outlines/import/", {"geojson": json.dumps(POLYGON)}
        )
        self.assertContains(response, "FeatureCollection を指定してください", status_code=422)

    def test_the_kanbu_koban_head_imports_only_his_beats(self) -> None:
        response = self.client_for("kanbucho").post(
            "/beats/outlines/import/", {"geojson": self.collection(self.feature(code="K1-1"))}
        )
        self.assertContains(response, "該当するものがありません", status_code=422)
        self.assertIsNone(self.k1().outline)

    def test_only_managers_reach_the_import_page(self) -> None:
        for username in ("officer1a", "kobancho1", "chief", "dairi", "hq", "staff"):
            self.assertEqual(
                self.client_for(username).get("/beats/outlines/import/").status_code, 404, username
            )


class DemoOutlineTests(MapTestCase):
    def test_demo_beats_get_outlines_around_their_households_and_posts_a_position(self) -> None:
        from junkai.demo.households import build_demo_households
        from junkai.demo.outlines import build_demo_outlines
        from junkai.lib import geometry

        Household.objects.filter(station=self.station).update(latitude=None, longitude=None)
        build_demo_households(self.station, count=300)
        made = build_demo_outlines(self.station)
        beats = Beat.objects.filter(post__station=self.station)
        self.assertEqual(made, beats.count())
        for beat in beats:
            assert beat.outline is not None
            for lat, lon in Household.objects.filter(beat=beat, latitude__isnull=False).values_list(
                "latitude", "longitude"
            ):
                assert lat is not None and lon is not None
                self.assertTrue(geometry.contains(beat.outline, float(lon), float(lat)), beat.code)
        self.assertFalse(
            Post.objects.filter(
                station=self.station, beats__isnull=False, latitude__isnull=True
            ).exists()
        )
        # Run again: beats that have an outline keep it.
        self.assertEqual(build_demo_outlines(self.station), 0)
