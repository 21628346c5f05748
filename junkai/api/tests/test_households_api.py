"""Households over the API: scope, search, the card's read-modify-write round trip, conflicts,
bad input, revisions and the access log."""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

from django.db import connection
from django.test import Client

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions
from junkai.households.models import CardRevision, ContactCard, Household
from junkai.org.models import Officer
from junkai.testing import PersonaTestCase

YAJIMA_CARD: dict[str, Any] = {
    "source": "RESIDENT",
    "accepted_on": "2025-05-01",
    "binder_number": "3",
    "residents": [
        {
            "name": "矢島 奈緒",
            "kana": "やじま なお",
            "relation": "世帯主",
            "birth_date": "1980-05-05",
            "sex": "F",
            "phone": "090-1234-5678",
        },
        {"name": "矢島 湊", "kana": "やじま みなと", "relation": "子", "birth_date": "2012-01-20"},
    ],
    "contacts": [{"name": "矢島 幸子", "relation": "母", "phone": "03-1111-2222"}],
}


class HouseholdsApiTestCase(PersonaTestCase):
    yajima: ClassVar[Household]
    empty: ClassVar[Household]
    k1_second_beat: ClassVar[Household]
    k2: ClassVar[Household]
    far: ClassVar[Household]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        officer1a = Officer.objects.get(username="officer1a")
        officer2a = Officer.objects.get(username="officer2a")
        k1_1 = cls.station.posts.get(code="K1").beats.get(code="K1-1")
        k1_2 = cls.station.posts.get(code="K1").beats.get(code="K1-2")
        k2_1 = cls.station.posts.get(code="K2").beats.get(code="K2-1")
        cls.yajima = actions.do_create_household(
            k1_1, acting_officer=None, kind="RESIDENCE", name="矢島", town="青葉町",
            chome="2", banchi="7", go="1", block_group="2組", map_number=5,
            latitude="35.681236", longitude="139.767125", leader_role="HANCHO",
        )  # fmt: skip
        actions.do_save_card(
            cls.yajima, YAJIMA_CARD, acting_officer=officer1a, expected_version=None
        )
        cls.empty = actions.do_create_household(
            k1_1, acting_officer=None, kind="RESIDENCE", town="青葉町", chome="2",
            banchi="7", go="2", block_group="2組", map_number=6,
        )  # fmt: skip
        cls.k1_second_beat = actions.do_create_household(
            k1_2, acting_officer=None, kind="BUSINESS", name="青葉薬局", town="青葉町",
            chome="3", banchi="1", block_group="1班", map_number=1,
        )  # fmt: skip
        cls.k2 = actions.do_create_household(
            k2_1, acting_officer=None, kind="RESIDENCE", town="本町", chome="1", banchi="9",
        )  # fmt: skip
        actions.do_save_card(
            cls.k2,
            {"residents": [{"name": "戸田 進", "kana": "とだ すすむ"}]},
            acting_officer=officer2a,
            expected_version=None,
        )
        cls.far = actions.do_create_household(
            cls.other["beat"], acting_officer=None, kind="RESIDENCE", town="北辺町",
            chome="9", banchi="9",
        )  # fmt: skip
        actions.do_save_card(
            cls.far,
            {"residents": [{"name": "矢島 遠子", "kana": "やじま とおこ"}]},
            acting_officer=cls.other["officer"],
            expected_version=None,
        )

    # --- helpers -----------------------------------------------------------------------

    def get(self, username: str, url: str) -> Any:
        return self.client_for(username).get(url)

    def put_card(self, username: str, household: Household, body: dict[str, Any]) -> Any:
        return self.client_for(username).put(
            f"/api/v1/households/{household.id}/card",
            json.dumps(body),
            content_type="application/json",
        )

    def ids_of_post(self, code: str) -> set[int]:
        return set(Household.objects.filter(post=self.post(code)).values_list("id", flat=True))

    def listed(self, username: str, query: str = "") -> dict[str, Any]:
        response = self.get(username, f"/api/v1/households?page_size=200{query}")
        self.assertEqual(response.status_code, 200, response.content)
        body: dict[str, Any] = response.json()
        return body

    def card_of(self, household: Household) -> ContactCard:
        return ContactCard.objects.get(household=household, status="ACTIVE")


class ListTests(HouseholdsApiTestCase):
    def test_beat_officer_sees_his_post_only(self) -> None:
        body = self.listed("officer1a")
        ids = {item["id"] for item in body["items"]}
        self.assertEqual(ids, self.ids_of_post("K1"))
        self.assertEqual(body["count"], len(ids))
        self.assertIn(self.k1_second_beat.id, ids)  # the whole post, not only his own beat
        self.assertNotIn(self.k2.id, ids)
        self.assertNotIn(self.far.id, ids)

    def test_item_shape(self) -> None:
        items = {item["id"]: item for item in self.listed("officer1a")["items"]}
        self.assertEqual(
            items[self.yajima.id],
            {
                "id": self.yajima.id,
                "address": "青葉町2丁目7番1号",
                "town": "青葉町",
                "block_group": "2組",
                "map_number": 5,
                "beat_id": self.yajima.beat_id,
                "kind": "RESIDENCE",
                "status": "ACTIVE",
                "category": "HOME",
                "priority": "MEDIUM",
                "card_status": "ACTIVE",
            },
        )
        self.assertEqual(items[self.empty.id]["card_status"], "NONE")
        self.assertEqual(items[self.empty.id]["category"], "UNKNOWN")
        self.assertEqual(items[self.empty.id]["priority"], "HIGH")
        self.assertEqual(items[self.k1_second_beat.id]["priority"], "HIGH")  # no card yet

    def test_other_post_and_station(self) -> None:
        self.assertEqual(
            {item["id"] for item in self.listed("officer2a")["items"]}, self.ids_of_post("K2")
        )
        station_ids = set(
            Household.objects.filter(station=self.station).values_list("id", flat=True)
        )
        for who in ("kacho", "chief", "dairi"):
            with self.subTest(who):
                self.assertEqual({item["id"] for item in self.listed(who)["items"]}, station_ids)

    def test_staff_and_hq_see_nothing(self) -> None:
        for who in ("staff", "hq"):
            with self.subTest(who):
                self.assertEqual(self.listed(who), {"items": [], "count": 0})

    def test_filter_by_beat(self) -> None:
        body = self.listed("officer1a", f"&beat={self.beat('K1-2').id}")
        self.assertEqual([item["id"] for item in body["items"]], [self.k1_second_beat.id])
        self.assertEqual(body["count"], 1)
        event = AuditEvent.objects.filter(event_type=EventType.LIST_HOUSEHOLDS).last()
        assert event is not None
        self.assertEqual(
            (event.actor_id, event.object_type, event.object_id, event.details),
            (self.officer("officer1a").id, "org.beat", str(self.beat("K1-2").id), {"count": 1}),
        )

    def test_beat_out_of_scope_is_404(self) -> None:
        for beat_id in (self.beat("K2-1").id, self.other["beat"].id, 999999):
            with self.subTest(beat_id):
                response = self.get("officer1a", f"/api/v1/households?beat={beat_id}")
                self.assertEqual(response.status_code, 404)
                self.assertEqual(response.json(), {"detail": "見つかりません"})

    def test_pages_in_address_order(self) -> None:
        expected = list(
            Household.objects.filter(station=self.station)
            .order_by("town", "chome", "block_group", "map_number", "id")
            .values_list("id", flat=True)
        )
        self.assertGreaterEqual(len(expected), 4)
        client = self.client_for("kacho")
        first = client.get("/api/v1/households?page_size=2").json()
        second = client.get("/api/v1/households?page=2&page_size=2").json()
        self.assertEqual(set(first), {"items", "count"})
        self.assertEqual(first["count"], len(expected))
        self.assertEqual([i["id"] for i in first["items"] + second["items"]], expected[:4])
        beyond = client.get("/api/v1/households?page=999&page_size=2").json()
        self.assertEqual(beyond, {"items": [], "count": len(expected)})
        self.assertEqual(client.get("/api/v1/households?page_size=201").status_code, 422)
        self.assertEqual(client.get("/api/v1/households?page=0").status_code, 422)

    def test_list_read_is_recorded(self) -> None:
        self.listed("officer1a")
        event = AuditEvent.objects.filter(event_type=EventType.LIST_HOUSEHOLDS).last()
        assert event is not None
        self.assertEqual(event.actor_id, self.officer("officer1a").id)
        self.assertEqual(event.object_type, "scope")
        self.assertEqual(event.details, {"count": len(self.ids_of_post("K1"))})

    def test_query_count_does_not_grow_with_households(self) -> None:
        token, _ = do_issue_api_token(self.officer("kacho"))
        client = Client(headers={"Authorization": f"Bearer {token}"})
        # The token with its officer and his assignments and their beats, count, page (card
        # status as a subquery), and the audit append (PostgreSQL: one insert, sealed after
        # commit; SQLite: savepoint, insert, seal head, pending, seal, release).
        expected = 4 if connection.vendor == "postgresql" else 9
        with self.assertNumQueries(expected):
            small = client.get("/api/v1/households")
        beat = self.beat("K1-3")
        for n in range(10):
            household = actions.do_create_household(
                beat, acting_officer=None, kind="RESIDENCE", town="港町", banchi=str(n + 1)
            )
            if n % 2:
                actions.do_save_card(
                    household,
                    {"residents": [{"name": f"住民 {n}"}]},
                    acting_officer=self.officer("officer1a"),
                    expected_version=None,
                )
        with self.assertNumQueries(expected):
            large = client.get("/api/v1/households")
        self.assertEqual(large.json()["count"], small.json()["count"] + 10)


class SearchTests(HouseholdsApiTestCase):
    def search(self, username: str, body: Any) -> Any:
        return self.client_for(username).post(
            "/api/v1/households/search", json.dumps(body), content_type="application/json"
        )

    def test_katakana_finds_the_hiragana_reading(self) -> None:
        for query in ("ヤジマ", "ﾔｼﾞﾏ", "やじま　なお"):
            with self.subTest(query):
                response = self.search("officer1a", {"query": query})
                self.assertEqual(response.status_code, 200)
                [item] = response.json()["items"]
                self.assertEqual(item["id"], self.yajima.id)
                self.assertIn("矢島 奈緒", item["matched_names"])
                self.assertEqual(item["card_status"], "ACTIVE")
                self.assertEqual(item["address"], "青葉町2丁目7番1号")

    def test_search_stays_in_scope(self) -> None:
        # 矢島 遠子 lives at the other station; officer2a's post has no 矢島 at all.
        self.assertEqual(self.search("officer2a", {"query": "ヤジマ"}).json(), {"items": []})
        kacho = {i["id"] for i in self.search("kacho", {"query": "矢島"}).json()["items"]}
        self.assertEqual(kacho, {self.yajima.id})
        self.assertEqual(self.search("staff", {"query": "矢島"}).json(), {"items": []})

    def test_search_by_address(self) -> None:
        # The address key runs 町名・丁目・番地・号 together, without the words 丁目・番地.
        items = self.search("officer1a", {"query": "青葉町2"}).json()["items"]
        self.assertEqual({i["id"] for i in items}, {self.yajima.id, self.empty.id})
        self.assertEqual({i["id"]: i["matched_names"] for i in items}[self.empty.id], [])

    def test_blank_query_is_refused_in_japanese(self) -> None:
        for body in ({"query": ""}, {"query": "  　"}):
            with self.subTest(body):
                response = self.search("officer1a", body)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(
                    response.json(),
                    {
                        "detail": "入力内容に誤りがあります",
                        "errors": {"query": ["検索する語を入力してください"]},
                    },
                )
        self.assertEqual(self.search("officer1a", {}).status_code, 422)

    def test_search_is_recorded_without_the_query(self) -> None:
        self.search("officer1a", {"query": "ヤジマ"})
        event = AuditEvent.objects.filter(event_type=EventType.SEARCH_HOUSEHOLDS).last()
        assert event is not None
        self.assertEqual(event.actor_id, self.officer("officer1a").id)
        self.assertNotIn("ヤジマ", json.dumps(event.details, ensure_ascii=False))


class DetailTests(HouseholdsApiTestCase):
    def test_household_with_its_card(self) -> None:
        response = self.get("officer1a", f"/api/v1/households/{self.yajima.id}")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        card = self.card_of(self.yajima)
        self.assertEqual(
            {k: body[k] for k in ("id", "town", "chome", "banchi", "go", "room", "block_group")},
            {
                "id": self.yajima.id,
                "town": "青葉町",
                "chome": "2",
                "banchi": "7",
                "go": "1",
                "room": "",
                "block_group": "2組",
            },
        )
        self.assertEqual(body["map_number"], 5)
        self.assertEqual((body["kind"], body["status"]), ("RESIDENCE", "ACTIVE"))
        self.assertEqual((body["category"], body["priority"]), ("HOME", "MEDIUM"))
        self.assertIs(body["elderly_flag"], False)
        self.assertEqual(body["community_leader"], "HANCHO")
        self.assertEqual((body["latitude"], body["longitude"]), (35.681236, 139.767125))
        self.assertEqual(body["card"]["id"], card.id)
        self.assertEqual(body["card"]["version"], 1)
        self.assertEqual(body["card"]["residents"][0]["phone"], "090-1234-5678")
        self.assertEqual(body["card"]["residents"][1]["birth_date"], "2012-01-20")
        self.assertEqual(body["card"]["contacts"][0]["name"], "矢島 幸子")
        self.assertEqual(body["card"]["vehicles"], [])

    def test_household_without_a_card(self) -> None:
        body = self.get("officer1b", f"/api/v1/households/{self.empty.id}?purpose=PATROL").json()
        self.assertIsNone(body["card"])
        self.assertIsNone(body["community_leader"])
        self.assertIsNone(body["latitude"])

    def test_read_is_recorded_with_its_purpose(self) -> None:
        self.get("officer1a", f"/api/v1/households/{self.yajima.id}")
        event = AuditEvent.objects.filter(event_type=EventType.READ_HOUSEHOLD).last()
        assert event is not None
        self.assertEqual(
            (event.actor_id, event.object_type, event.object_id, event.purpose, event.station_id),
            (
                self.officer("officer1a").id,
                "households.household",
                str(self.yajima.id),
                "API閲覧",
                self.station.id,
            ),
        )

    def test_out_of_scope_is_404_like_absent(self) -> None:
        cases = [
            ("officer2a", self.yajima),
            ("officer1a", self.k2),
            ("officer1a", self.far),
            ("kacho", self.far),
            ("chief", self.far),
            ("staff", self.yajima),
            ("hq", self.yajima),
        ]
        absent = self.get("officer1a", "/api/v1/households/999999")
        self.assertEqual(absent.status_code, 404)
        for who, household in cases:
            with self.subTest(who=who, household=household.id):
                response = self.get(who, f"/api/v1/households/{household.id}")
                self.assertEqual(response.status_code, 404)
                self.assertEqual(response.json(), absent.json())
                for sub in ("card/revisions", "access-log"):
                    url = f"/api/v1/households/{household.id}/{sub}"
                    self.assertEqual(self.get(who, url).status_code, 404)
        denied = AuditEvent.objects.filter(
            event_type=EventType.ACCESS_DENIED, object_id=str(self.far.id)
        )
        self.assertTrue(denied.exists())
        self.assertFalse(
            AuditEvent.objects.filter(
                event_type=EventType.READ_HOUSEHOLD, object_id=str(self.far.id)
            ).exists()
        )

    def test_bearer_token(self) -> None:
        token = self.client.post(
            "/api/v1/auth/token",
            json.dumps({"username": "officer1a", "password": "junkai-demo"}),
            content_type="application/json",
        ).json()["token"]
        client = Client(headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(client.get(f"/api/v1/households/{self.yajima.id}").status_code, 200)
        self.assertEqual(Client().get(f"/api/v1/households/{self.yajima.id}").status_code, 401)


class CardWriteTests(HouseholdsApiTestCase):
    def read_card(self, username: str, household: Household) -> dict[str, Any]:
        card: dict[str, Any] = self.get(username, f"/api/v1/households/{household.id}").json()[
            "card"
        ]
        return card

    def test_round_trip_bumps_the_version_and_records_the_correction(self) -> None:
        card = self.read_card("officer1a", self.yajima)
        card["residents"][0]["phone"] = "080-5555-6666"
        response = self.put_card("officer1a", self.yajima, {**card, "note": "転居先で確認"})
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["version"], 2)
        self.assertEqual(body["card"]["version"], 2)
        self.assertEqual(body["card"]["residents"][0]["phone"], "080-5555-6666")
        revision = CardRevision.objects.get(card__household=self.yajima, version=2)
        self.assertEqual(revision.revised_by, self.officer("officer1a"))
        self.assertEqual(revision.basis, "VISIT")
        self.assertEqual(revision.note, "転居先で確認")
        self.assertEqual(
            revision.changes,
            [
                {
                    "field": "residents.0.phone",
                    "label": "世帯員1の電話",
                    "old": "090-1234-5678",
                    "new": "080-5555-6666",
                }
            ],
        )
        again = self.read_card("officer1a", self.yajima)
        self.assertEqual(again, {**card, "version": 2})

    def test_create_the_first_card(self) -> None:
        response = self.put_card(
            "officer1b",
            self.empty,
            {"version": None, "residents": [{"name": "新井 実", "kana": "アライ ミノル"}]},
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["version"], 1)
        self.assertEqual(response.json()["card"]["residents"][0]["kana"], "あらい みのる")
        self.empty.refresh_from_db()
        self.assertEqual(self.empty.category, "HOME")
        revision = CardRevision.objects.get(card__household=self.empty)
        self.assertEqual((revision.version, revision.basis), (1, "NEW"))

    def test_stale_version_is_409_and_changes_nothing(self) -> None:
        mine = self.read_card("officer1a", self.yajima)
        theirs = copy.deepcopy(mine)
        theirs["residents"][0]["phone"] = "080-7777-8888"
        self.assertEqual(self.put_card("officer1b", self.yajima, theirs).status_code, 200)

        mine["remarks"] = "夜間は不在が多い"
        response = self.put_card("officer1a", self.yajima, mine)
        self.assertEqual(response.status_code, 409)
        body = response.json()
        self.assertEqual(body["detail"], "他の職員が先に更新しました")
        self.assertEqual((body["current_version"], body["submitted_version"]), (2, 1))
        self.assertEqual(body["current"]["version"], 2)
        self.assertEqual(body["current"]["residents"][0]["phone"], "080-7777-8888")
        self.assertEqual(body["current"]["remarks"], "")
        self.assertEqual(body["submitted"]["remarks"], "夜間は不在が多い")
        self.assertEqual(body["submitted"]["residents"][0]["phone"], "090-1234-5678")
        card = self.card_of(self.yajima)
        self.assertEqual((card.version, card.remarks), (2, ""))
        self.assertEqual(CardRevision.objects.filter(card=card).count(), 2)
        # The refusal is on the record, and so is showing him the current card.
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.CARD_CONFLICT, object_id=str(card.id)
            ).exists()
        )
        shown = AuditEvent.objects.filter(event_type=EventType.READ_HOUSEHOLD).last()
        assert shown is not None
        self.assertEqual(
            (shown.actor_id, shown.purpose), (self.officer("officer1a").id, "補正の競合確認")
        )

        # Retrying on the current version goes through.
        retry = {**body["current"], "remarks": "夜間は不在が多い"}
        self.assertEqual(self.put_card("officer1a", self.yajima, retry).json()["version"], 3)

    def test_saving_without_a_version_over_an_existing_card_conflicts(self) -> None:
        card = self.read_card("officer1a", self.yajima)
        card["version"] = None
        card["remarks"] = "上書き"
        self.assertEqual(self.put_card("officer1a", self.yajima, card).status_code, 409)
        self.assertEqual(self.card_of(self.yajima).remarks, "")

    def test_impossible_birth_date_is_422_naming_the_field(self) -> None:
        card = self.read_card("officer1a", self.yajima)
        card["residents"][0]["birth_date"] = "2023-02-30"
        card["residents"][1]["phone"] = "080-1111-2222"
        response = self.put_card("officer1a", self.yajima, card)
        self.assertEqual(response.status_code, 422)
        body = response.json()
        self.assertEqual(body["detail"], "入力内容に誤りがあります")
        self.assertEqual(list(body["errors"]), ["residents.0.birth_date"])
        self.assertIn("存在しない日付", body["errors"]["residents.0.birth_date"][0])
        self.assertIn("世帯員1の生年月日", body["errors"]["residents.0.birth_date"][0])
        stored = self.card_of(self.yajima)
        self.assertEqual(stored.version, 1)
        self.assertEqual(stored.residents.get(position=1).phone, "")
        self.assertEqual(CardRevision.objects.filter(card=stored).count(), 1)

    def test_other_bad_input(self) -> None:
        card = self.read_card("officer1a", self.yajima)
        cases: list[tuple[dict[str, Any], str]] = [
            ({**card, "basis": "GUESS"}, "basis"),
            ({**card, "note": "あ" * 201}, "note"),
            ({**card, "residents": []}, "residents"),
            ({**card, "remark": "綴り違い"}, "remark"),  # unknown keys are refused, not dropped
            (card, "__all__"),  # nothing changed
        ]
        for body, field in cases:
            with self.subTest(field):
                response = self.put_card("officer1a", self.yajima, body)
                self.assertEqual(response.status_code, 422)
                # Schema errors and the action's alike: one shape, the field named.
                errors = response.json()["errors"]
                self.assertIn(field, errors)
                self.assertTrue(all(not m.isascii() for m in errors[field]), errors)
        self.assertEqual(self.card_of(self.yajima).version, 1)

    def test_readers_and_strangers_cannot_write(self) -> None:
        card = self.read_card("officer1a", self.yajima)
        card["remarks"] = "書換え"
        for who in ("chief", "dairi", "officer2a", "staff", "hq"):
            with self.subTest(who):
                status = self.put_card(who, self.yajima, card).status_code
                # Readers without write rights: 404 from access_household_for_write today.
                self.assertIn(status, (403, 404))
        self.assertEqual(self.put_card("officer1a", self.far, card).status_code, 404)
        self.assertEqual(self.card_of(self.yajima).version, 1)
        self.assertEqual(self.card_of(self.far).version, 1)
        # The 地域課長 writes across his station; the koban head at his post.
        self.assertEqual(self.put_card("kacho", self.yajima, card).status_code, 200)


class RevisionsTests(HouseholdsApiTestCase):
    def test_newest_first(self) -> None:
        card = self.get("officer1a", f"/api/v1/households/{self.yajima.id}").json()["card"]
        card["residents"][1]["workplace"] = "青葉小学校"
        self.assertEqual(self.put_card("officer1a", self.yajima, card).status_code, 200)
        response = self.get(
            "kobancho1", f"/api/v1/households/{self.yajima.id}/card/revisions?purpose=SUPERVISION"
        )
        self.assertEqual(response.status_code, 200)
        revisions = response.json()
        self.assertEqual([r["version"] for r in revisions], [2, 1])
        self.assertEqual(
            revisions[0]["revised_by"],
            {
                "id": self.officer("officer1a").id,
                "username": "officer1a",
                "full_name": "佐野 翔太",
            },
        )
        self.assertEqual(revisions[0]["changes"][0]["field"], "residents.1.workplace")
        self.assertEqual(revisions[1]["basis"], "NEW")
        event = AuditEvent.objects.filter(event_type=EventType.READ_HOUSEHOLD).last()
        assert event is not None
        self.assertEqual(event.purpose, "監督・点検")  # the 交番所長 walks no beat

    def test_basis_is_kept(self) -> None:
        card = self.get("officer1a", f"/api/v1/households/{self.yajima.id}").json()["card"]
        card["remarks"] = "本人から電話で申告"
        response = self.put_card("officer1a", self.yajima, {**card, "basis": "RESIDENT"})
        self.assertEqual(response.status_code, 200)
        revisions = self.get(
            "officer1a", f"/api/v1/households/{self.yajima.id}/card/revisions"
        ).json()
        self.assertEqual(
            (revisions[0]["basis"], revisions[0]["basis_label"]), ("RESIDENT", "住民等の申告")
        )


class AccessLogTests(HouseholdsApiTestCase):
    def url(self, household: Household) -> str:
        return f"/api/v1/households/{household.id}/access-log"

    def test_only_the_manager_and_the_chief(self) -> None:
        for who in ("officer1a", "kobancho1", "dairi"):
            with self.subTest(who):
                response = self.get(who, self.url(self.yajima))
                self.assertEqual(response.status_code, 403)
                self.assertIn("閲覧記録", response.json()["detail"])
        self.assertFalse(AuditEvent.objects.filter(event_type=EventType.READ_ACCESS_LOG).exists())
        denied = AuditEvent.objects.filter(
            event_type=EventType.ACCESS_DENIED,
            object_id=str(self.yajima.id),
            purpose="閲覧記録の確認",
        )
        self.assertEqual(denied.count(), 3)
        self.assertEqual(self.get("chief", self.url(self.yajima)).status_code, 200)

    def test_manager_sees_who_read_the_household(self) -> None:
        self.get("officer1a", f"/api/v1/households/{self.yajima.id}")
        response = self.get("kacho", self.url(self.yajima))
        self.assertEqual(response.status_code, 200)
        entries = response.json()
        # Its own reading comes first: the log records who looked at the log.
        self.assertEqual(entries[0]["event_type"], "READ_ACCESS_LOG")
        self.assertEqual(entries[0]["actor"], {"username": "kacho", "full_name": "高瀬 恭一"})
        read = entries[1]
        self.assertEqual(
            (read["event_type"], read["event_label"], read["purpose"], read["actor"]),
            (
                "READ_HOUSEHOLD",
                "世帯・カードの閲覧",
                "API閲覧",
                {"username": "officer1a", "full_name": "佐野 翔太"},
            ),
        )
        types = [e["event_type"] for e in entries]
        self.assertIn("CARD_CREATED", types)  # events on the card count too
        self.assertEqual(types[-1], "HOUSEHOLD_CREATED")
        self.assertIsNone(entries[-1]["actor"])  # created by the system
        event = AuditEvent.objects.get(event_type=EventType.READ_ACCESS_LOG)
        self.assertEqual(
            (event.actor_id, event.object_id, event.purpose),
            (self.officer("kacho").id, str(self.yajima.id), "閲覧記録の確認"),
        )
        # Looking at the log is not itself a read of the card.
        self.assertFalse(
            AuditEvent.objects.filter(
                event_type=EventType.READ_HOUSEHOLD, actor=self.officer("kacho")
            ).exists()
        )

    def test_other_households_events_are_not_listed(self) -> None:
        self.get("officer2a", f"/api/v1/households/{self.k2.id}")
        entries = self.get("kacho", self.url(self.yajima)).json()
        self.assertNotIn("officer2a", json.dumps(entries))
