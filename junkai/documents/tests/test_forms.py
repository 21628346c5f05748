"""The printed forms (第1〜7号様式) through the API, as officers print them.

Each form: the extracted text (pypdf) holds the form's heading and the data, every page's footer
names the printing officer, the print is in the audit log on each household shown (and so in
the manager's 閲覧記録), out of scope answers 404, and bad parameters 422 in Japanese.
"""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO
from typing import Any, ClassVar

from django.db import connection
from django.test import Client, SimpleTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import actions as disclosure_actions
from junkai.documents.ledger import Column, Ledger, Section, render_ledger
from junkai.documents.maps import _distance
from junkai.documents.printing import INDEX_LINE, INDEX_ROW
from junkai.documents.testing import build_building
from junkai.households import actions as household_actions
from junkai.households.cards import snapshot
from junkai.households.models import Building, Household
from junkai.lib.months import current_month, month_label
from junkai.org import actions as org_actions
from junkai.registers import actions as register_actions
from junkai.registers.testing import build_post_registers
from junkai.testing import PersonaTestCase


def pdf_text(response: Any) -> str:
    assert response["Content-Type"] == "application/pdf", response.content[:200]
    reader = PdfReader(BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_pages(response: Any) -> list[str]:
    return [p.extract_text() for p in PdfReader(BytesIO(response.content)).pages]


class FormsTestCase(PersonaTestCase):
    building: ClassVar[Building]
    residents: ClassVar[list[Household]]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.building = build_building(cls.beat_of("K1-1"))
        cls.residents = list(Household.objects.filter(building=cls.building).order_by("room"))

    @classmethod
    def beat_of(cls, code: str) -> Any:
        return cls.station.posts.get(code=code.split("-")[0]).beats.get(code=code)

    def get(self, username: str, url: str, **params: str) -> Any:
        client: Client = self.client_for(username)
        return client.get(url, params)

    def prints(self, household: Household, form: str) -> list[AuditEvent]:
        return list(
            AuditEvent.objects.filter(
                event_type=EventType.PRINT_FORM,
                household_rows__household_id=household.id,
                details__form=form,
            )
        )

    def assert_footer(self, response: Any, username: str) -> None:
        officer = self.officer(username)
        pages = pdf_pages(response)
        self.assertTrue(pages)
        for text in pages:
            self.assertIn("印刷者", text)
            self.assertIn(f"{officer.full_name}（{username}）", text)
            # The moment of the print in 和暦, as every date the system shows.
            self.assertRegex(text, rf"（{username}）\u3000令和\d+年\d+月\d+日 \d\d:\d\d")
        self.assertIn(f"1 / {len(pages)} 頁", pages[0])

    def assert_hidden(self, url: str, *usernames: str, **params: str) -> None:
        for username in usernames:
            response = self.get(username, url, **params)
            self.assertEqual(response.status_code, 404, username)
            self.assertEqual(response.json(), {"detail": "見つかりません"})


class CardTests(FormsTestCase):
    def url(self, household: Household) -> str:
        return f"/api/v1/households/{household.id}/card.pdf"

    def test_filled_card_shows_the_household_and_is_recorded(self) -> None:
        response = self.get("officer1a", self.url(self.aoki))
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])
        self.assertNotIn("青木", response["Content-Disposition"])
        text = pdf_text(response)
        for expected in (
            "第1号様式",
            "巡回連絡カード",
            "駅前町1丁目2番3号",
            "青木 一郎",
            "あおき いちろう",
            "世帯主",
            "090-1111-2222",
            "青木 次郎",
            "03-3333-4444",
            "1組",
        ):
            self.assertIn(expected, text)
        self.assert_footer(response, "officer1a")
        [event] = self.prints(self.aoki, "第1号様式")
        self.assertEqual(event.actor, self.officer("officer1a"))
        self.assertEqual(event.purpose, "第1号様式の印刷")

    def test_corrections_show_in_the_idou_hosei_column(self) -> None:
        card = self.aoki.cards.get(status="ACTIVE")
        data = snapshot(card)
        data["residents"][1]["phone"] = "090-9999-0000"
        household_actions.do_save_card(
            self.aoki, data, acting_officer=self.officer("officer1a"),
            expected_version=card.version, basis="VISIT",
        )  # fmt: skip
        text = pdf_text(self.get("officer1a", self.url(self.aoki)))
        today = timezone.localdate()
        short = f"令{today.year - 2018}.{today.month}.{today.day}"
        self.assertIn("異動・補正", text)
        self.assertIn("異動・補正の年月日", text)
        # Beside the resident whose entry changed (青木 花), and in the card's list of dates.
        self.assertRegex(text, rf"090-9999-0000\s*{re.escape(short)}")
        self.assertIn(short, text[text.index("異動・補正の年月日") :])

    def test_print_appears_in_the_managers_access_log(self) -> None:
        # officer1b walks another beat of the post: he prints 青木's card for a stated purpose.
        self.get("officer1b", self.url(self.aoki) + "?purpose=INCIDENT")
        self.get("officer1a", self.url(self.aoki))
        kacho = self.client_for("kacho")
        self.state_read_purpose(kacho, self.aoki)
        page = kacho.get(f"/households/{self.aoki.id}/").content.decode()
        log = page[page.index("閲覧記録") :]
        self.assertRegex(log, r"様式の印刷</td><td[^>]*>事件・事故")
        self.assertIn("第1号様式の印刷", log)
        self.assertIn("（officer1b）", log)

    def test_household_page_has_the_print_button(self) -> None:
        page = self.get("officer1a", f"/households/{self.aoki.id}/").content.decode()
        self.assertIn(self.url(self.aoki), page)
        resident = self.residents[0]
        page = self.get("officer1a", f"/households/{resident.id}/").content.decode()
        self.assertIn(f"/api/v1/buildings/{self.building.id}/map.pdf", page)

    def test_out_of_scope_is_404_and_nothing_printed(self) -> None:
        self.assert_hidden(
            self.url(self.aoki), "officer2a", "hq", "staff", "chuzai1", "other_officer"
        )
        self.assertEqual(self.prints(self.aoki, "第1号様式"), [])
        self.assert_hidden("/api/v1/households/999999/card.pdf", "officer1a")
        self.assertEqual(Client().get(self.url(self.aoki)).status_code, 401)
        denied = AuditEvent.objects.filter(
            event_type=EventType.ACCESS_DENIED, object_id=str(self.aoki.id)
        )
        self.assertGreaterEqual(denied.count(), 4)

    def test_household_without_card_prints_its_address(self) -> None:
        response = self.get("officer1a", self.url(self.no_card))
        text = pdf_text(response)
        self.assertIn("駅前町1丁目2番4号", text)
        self.assertNotIn("青木", text)
        self.assertEqual(len(self.prints(self.no_card, "第1号様式")), 1)

    def test_blank_card_for_any_signed_in_officer(self) -> None:
        for username in ("hq", "staff", "officer2a"):
            response = self.get(username, "/api/v1/forms/blank-card.pdf")
            self.assertEqual(response.status_code, 200, username)
            text = pdf_text(response)
            self.assertIn("巡回連絡カード", text)
            self.assertIn("ふりがな／氏名", text)
            self.assertIn("緊急連絡先", text)
            self.assertNotIn("青木", text)
            # Handed to residents: the eras to circle for each birth date, and nothing of
            # the printing officer or 取扱注意 in its footer (the print is still recorded).
            self.assertEqual(text.count("明・大・昭・平・令"), 8)
            self.assertNotIn("印刷者", text)
            self.assertNotIn(username, text)
            self.assertNotIn(self.officer(username).full_name, text)
            self.assertNotIn("取扱注意", text)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.PRINT_FORM, details__form="第1号様式（記入用）"
            ).exists()
        )
        self.assertEqual(Client().get("/api/v1/forms/blank-card.pdf").status_code, 401)


class HouseholdMapTests(FormsTestCase):
    def url(self) -> str:
        return f"/api/v1/beats/{self.beat_of('K1-1').id}/household-map.pdf"

    def test_map_per_town_and_group_with_heading_and_numbers(self) -> None:
        response = self.get("officer1a", self.url())
        self.assertEqual(response.status_code, 200)
        [page] = pdf_pages(response)
        for expected in (
            "第2号様式",
            "世帯分布略図",
            "町名",
            "駅前町",
            "組・班",
            "1組",
            "整理番号",
        ):
            self.assertIn(expected, page)
        self.assertIn("1 ～ 12", page)  # 整理番号 range of the page
        self.assertIn("青木", page)
        self.assertIn("メゾン駅前（2戸）", page)
        self.assertIn("11～12", page)
        self.assertIn("位置の登録がないため番地順に配置", page)
        # Streets to orient by: the 丁目 where a street of doors begins, then each 番地.
        self.assertIn("1丁目2番", page)
        self.assert_footer(response, "officer1a")
        for household in (self.aoki, self.no_card, *self.residents):
            self.assertEqual(len(self.prints(household, "第2号様式")), 1)
        self.assertEqual(self.prints(self.honmachi, "第2号様式"), [])

    def test_positions_are_projected_when_present(self) -> None:
        for i, household in enumerate((self.aoki, self.no_card, *self.residents)):
            household_actions.do_update_household(
                household,
                acting_officer=None,
                latitude=f"{33.2400 + i * 0.0003:.6f}",
                longitude=f"{131.6100 + i * 0.0004:.6f}",
            )
        text = pdf_text(self.get("officer1a", self.url()))
        self.assertNotIn("番地順に配置", text)
        self.assertRegex(text, r"\d+ m\n")  # the scale bar
        self.assertIn("青木", text)
        # Each 丁目 named, each 番 (block) labelled under its doors, to orient by.
        self.assertIn("駅前町1丁目", text)
        self.assertIn("1丁目2番", text)

    def test_what_to_orient_by_outline_post_and_neighbouring_blocks(self) -> None:
        """A page of one 組 names the 丁目, its blocks and the blocks around them (other 組),
        points to the post off the page with its direction and distance, and shows where in
        the beat it lies (受持区内の位置)."""
        beat = self.beat_of("K1-1")
        doors = (self.aoki, self.no_card, *self.residents)
        for i, household in enumerate(doors):
            household_actions.do_update_household(
                household,
                acting_officer=None,
                latitude=f"{33.2400 + i * 0.0001:.6f}",
                longitude=f"{131.6100 + i * 0.0002:.6f}",
            )
        household_actions.do_create_household(
            beat, acting_officer=None, kind="RESIDENCE", name="佐藤 一", town="駅前町",
            chome="1", banchi="3", block_group="2組", map_number=30,
            latitude="33.240300", longitude="131.611200",
        )  # fmt: skip
        org_actions.do_save_beat_outline(
            beat,
            {
                "type": "Polygon",
                "coordinates": [
                    [[131.605, 33.235], [131.625, 33.235], [131.625, 33.250], [131.605, 33.250],
                     [131.605, 33.235]]
                ],
            },
            acting_officer=None,
        )  # fmt: skip
        # The post 1 km or so to the north-east: off a page that shows a few doors.
        org_actions.do_set_post_location(
            beat.post, acting_officer=None, latitude="33.247000", longitude="131.618000"
        )
        first = pdf_pages(self.get("officer1a", self.url(), block_group="1組"))[0]
        self.assertIn("駅前町1丁目", first)  # the 丁目, large
        self.assertIn("1丁目2番", first)  # this page's block
        self.assertIn("1丁目3番", first)  # the neighbouring block of 2組
        self.assertNotIn("佐藤", first)  # ... not its doors
        self.assertIn("■ 駅前交番", first)
        self.assertRegex(first, r"図の中央から北東へ約([\d,]+ m|[\d.,]+ km)")
        self.assertIn("受持区内の位置", first)

    def test_one_page_per_group_and_filters(self) -> None:
        household_actions.do_create_household(
            self.beat_of("K1-1"), acting_officer=None, kind="RESIDENCE", name="佐藤 一",
            town="駅前町", chome="2", banchi="1", block_group="2組", map_number=30,
        )  # fmt: skip
        pages = pdf_pages(self.get("officer1a", self.url()))
        self.assertEqual(len(pages), 2)
        self.assertIn("2組", pages[1])
        self.assertIn("佐藤", pages[1])
        only = pdf_pages(self.get("officer1a", self.url(), town="駅前町", block_group="2組"))
        self.assertEqual(len(only), 1)
        self.assertNotIn("青木", only[0])

    def test_unknown_town_or_group_is_422(self) -> None:
        response = self.get("officer1a", self.url(), town="存在しない町")
        self.assertEqual(response.status_code, 422)
        self.assertIn("存在しない町", response.json()["errors"]["town"][0])
        response = self.get("officer1a", self.url(), town="駅前町", block_group="99組")
        self.assertEqual(response.status_code, 422)
        self.assertIn("99組", response.json()["errors"]["block_group"][0])
        self.assertEqual(self.prints(self.aoki, "第2号様式"), [])

    def test_out_of_scope_is_404(self) -> None:
        self.assert_hidden(self.url(), "officer2a", "hq", "staff")
        other = f"/api/v1/beats/{self.other['beat'].id}/household-map.pdf"
        self.assert_hidden(other, "chief", "kacho", "officer1a")


class BuildingTests(FormsTestCase):
    def test_buildings_of_a_post(self) -> None:
        post = self.post("K1")
        response = self.get("officer1a", f"/api/v1/posts/{post.id}/buildings")
        self.assertEqual(response.status_code, 200)
        [item] = response.json()["items"]
        self.assertEqual(item["name"], "メゾン駅前")
        self.assertEqual(item["household_count"], 2)
        self.assertEqual(item["card_count"], 0)
        self.assertEqual((item["floors"], item["rooms_per_floor"]), (2, 3))
        self.assert_hidden(f"/api/v1/posts/{post.id}/buildings", "officer2a", "hq")

    def test_building_map_floors_by_rooms(self) -> None:
        url = f"/api/v1/buildings/{self.building.id}/map.pdf"
        response = self.get("kobancho1", url)
        self.assertEqual(response.status_code, 200)
        text = pdf_text(response)
        for expected in (
            "第3号様式",
            "アパート等居住分布略図",
            "メゾン駅前",
            "2階",
            "1階",
            "101号室",
            "入居者101",
            "202号室",
            "入居者202",
            "（空室）",
            "整理 11",
            "未把握（カードなし）",
        ):
            self.assertIn(expected, text)
        self.assertLess(text.index("2階"), text.index("1階"))  # top floor uppermost
        self.assert_footer(response, "kobancho1")
        for household in self.residents:
            self.assertEqual(len(self.prints(household, "第3号様式")), 1)
        self.assert_hidden(url, "officer2a", "hq", "staff")

    def test_building_list(self) -> None:
        url = f"/api/v1/posts/{self.post('K1').id}/building-list.pdf"
        response = self.get("officer1a", url)
        text = pdf_text(response)
        for expected in (
            "第4号様式",
            "アパート等一覧表",
            "駅前交番",
            "メゾン駅前",
            "駅前町1丁目5番1号",
        ):
            self.assertIn(expected, text)
        self.assert_footer(response, "officer1a")
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.PRINT_FORM,
                object_type="org.post",
                object_id=str(self.post("K1").id),
                details__form="第4号様式",
            ).exists()
        )
        self.assert_hidden(url, "officer2a", "hq")


class CardIndexTests(FormsTestCase):
    def test_index_by_number_and_in_gojuon_order(self) -> None:
        household_actions.do_save_card(
            self.no_card,
            {
                "residents": [{"name": "山田 太郎", "kana": "ヤマダ タロウ", "relation": "世帯主"}],
                "binder_number": "2",
                "index_number": 1,
            },
            acting_officer=self.officer("officer1a"),
            expected_version=None,
        )
        url = f"/api/v1/posts/{self.post('K1').id}/card-index.pdf"
        response = self.get("officer1b", url)
        self.assertEqual(response.status_code, 200)
        text = pdf_text(response)
        for expected in (
            "第5号様式",
            "巡回連絡カード索引簿",
            "索引番号順",
            "50音順",
            "あ行",
            "や行",
        ):
            self.assertIn(expected, text)
        by_number, by_kana = text.split("【50音順（世帯員全員）】", 1)
        # 山田 has index number 1, 青木 none: 山田 first by number, 青木 first in 50音.
        self.assertLess(by_number.index("山田 太郎"), by_number.index("青木 一郎"))
        self.assertLess(by_kana.index("青木 一郎"), by_kana.index("山田 太郎"))
        # Every resident, not only the head, each with his card's 受持区.
        self.assertIn("青木 花 あおき はな 妻 ― 1 駅前一区", by_kana)
        self.assertIn("山田 太郎 やまだ たろう 世帯主 1 2 駅前一区", by_kana)
        self.assertNotIn("青木 花", by_number)
        self.assertNotIn("本町", text)  # another post's card
        self.assert_footer(response, "officer1b")
        self.assertEqual(len(self.prints(self.aoki, "第5号様式")), 1)
        self.assertEqual(len(self.prints(self.no_card, "第5号様式")), 1)
        self.assertEqual(self.prints(self.honmachi, "第5号様式"), [])
        self.assert_hidden(url, "officer2a", "hq", "staff")

    def test_queries_do_not_grow_with_the_cards(self) -> None:
        """A 交番's book is 1,500 cards: one query per card (its building for the address, its
        station for the audit event) made the print seconds slower."""
        url = f"/api/v1/posts/{self.post('K1').id}/card-index.pdf"
        client = self.client_for("officer1b")
        with CaptureQueriesContext(connection) as before:
            self.assertEqual(client.get(url).status_code, 200)
        self.assertGreaterEqual(len(self.residents), 2)
        for i, household in enumerate(self.residents, start=1):
            household_actions.do_save_card(
                household,
                {
                    "residents": [{"name": f"室田 {i}郎", "kana": "むろた", "relation": "世帯主"}],
                    "binder_number": "3",
                },
                acting_officer=self.officer("officer1a"),
                expected_version=None,
            )
        with CaptureQueriesContext(connection) as after:
            response = client.get(url)
        self.assertIn(f"室田 {len(self.residents)}郎", pdf_text(response))
        self.assertEqual(len(after.captured_queries), len(before.captured_queries))


class CheckoutTests(FormsTestCase):
    def url(self) -> str:
        return f"/api/v1/posts/{self.post('K1').id}/checkouts.pdf"

    def test_month_of_the_register(self) -> None:
        made = build_post_registers(self.post("K1"), ("7",))
        register_actions.do_declare_checkout(
            made["binders"],
            acting_officer=self.officer("officer1a"),
            purpose="巡回連絡（駅前一区）",
        )
        month = current_month()
        response = self.get("officer1b", self.url())
        self.assertEqual(response.status_code, 200)
        text = pdf_text(response)
        for expected in (
            "第6号様式",
            "巡回連絡カード持出確認簿",
            month_label(month),
            "巡回連絡（駅前一区）",
            self.officer("officer1a").full_name,
            "管理責任者の確認",
            "未確認",
        ):
            self.assertIn(expected, text)
        self.assert_footer(response, "officer1b")
        same = pdf_text(self.get("officer1b", self.url(), month=f"{month:%Y-%m}"))
        self.assertIn("巡回連絡（駅前一区）", same)
        earlier = pdf_text(self.get("officer1b", self.url(), month="2020-01"))
        self.assertIn("令和2年1月", earlier)
        self.assertIn("この月の持出しはありません", earlier)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.PRINT_FORM, details__form="第6号様式"
            ).exists()
        )

    def test_return_declared_to_and_the_review_line(self) -> None:
        made = build_post_registers(self.post("K1"), ("8",))
        checkout = register_actions.do_declare_checkout(
            made["binders"], acting_officer=self.officer("officer1a"), purpose="巡回連絡"
        )
        register_actions.do_confirm_checkout_out(checkout, acting_officer=self.officer("officer1b"))
        register_actions.do_record_return(checkout, acting_officer=self.officer("officer1a"))
        text = pdf_text(self.get("officer1b", self.url()))
        self.assertIn("返却時の申告先", text)
        kacho = self.officer("kacho")
        # Declared to at the checkout and at the return: the 管理責任者 (地域課長) of the day.
        self.assertEqual(text.count(kacho.full_name), 2)
        # Not yet reviewed: the line the 管理責任者 signs, with his name and the date.
        self.assertIn("確認者（管理責任者）氏名", text)
        self.assertIn("確認年月日　令和　　年　　月　　日", text)

    def test_bad_month_is_422(self) -> None:
        for bad, message in (
            ("2026-13", "対象月が正しくありません"),
            ("13月", "2026-05 の形式"),
            ("9999-12", "1868年から2200年"),  # had no next month: a 500 (now the boundary's)
            ("2200-12", "未来の月"),
        ):
            response = self.get("officer1a", self.url(), month=bad)
            self.assertEqual(response.status_code, 422)
            self.assertIn(message, response.json()["errors"]["month"][0])

    def test_out_of_scope_is_404(self) -> None:
        self.assert_hidden(self.url(), "officer2a", "hq", "staff")


class DataUseTests(FormsTestCase):
    def url(self) -> str:
        return f"/api/v1/stations/{self.station.id}/data-uses.pdf"

    def setUp(self) -> None:
        disclosure_actions.do_record_data_use(
            acting_officer=self.officer("officer1a"),
            requester_name="巡査 照会太郎",
            requester_unit="刑事課",
            requester_prefecture="大分県",
            police_phone="7-1234",
            purpose="事件の被害者への連絡先確認",
            household_ids=[self.aoki.id],
        )

    def test_period_of_the_station(self) -> None:
        response = self.get("kacho", self.url())
        self.assertEqual(response.status_code, 200)
        text = pdf_text(response)
        for expected in (
            "第7号様式",
            "巡回連絡カード利用確認簿",
            "みなと中央警察署",
            "巡査 照会太郎",
            "7-1234",
            "事件の被害者への連絡先",
            "駅前町1丁目2番3号",
            "未確認",
        ):
            self.assertIn(expected, text)
        self.assert_footer(response, "kacho")
        [event] = self.prints(self.aoki, "第7号様式")
        self.assertEqual(event.actor, self.officer("kacho"))

    def test_period_filters(self) -> None:
        today = timezone.localdate()
        old = pdf_text(self.get("kacho", self.url(), **{"from": "2020-04-01", "to": "R3.3.31"}))
        self.assertIn("令和2年4月1日 ～ 令和3年3月31日", old)
        self.assertNotIn("照会太郎", old)
        now = pdf_text(self.get("kacho", self.url(), **{"from": f"{today - dt.timedelta(days=1)}"}))
        self.assertIn("照会太郎", now)

    def test_bad_period_is_422(self) -> None:
        response = self.get("kacho", self.url(), **{"from": "2026-05-01", "to": "2026-04-01"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("より後", response.json()["errors"]["from"][0])
        response = self.get("kacho", self.url(), **{"to": "2026-02-30"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("存在しない日付", response.json()["errors"]["to"][0])
        # The last day there is (was a 500: no day after it), and every entry since 2000.
        response = self.get("kacho", self.url(), **{"to": "9999-12-31"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("1868年から2200年", response.json()["errors"]["to"][0])
        response = self.get("kacho", self.url(), **{"to": "2200-12-31"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("までの日付で指定してください", response.json()["errors"]["to"][0])
        response = self.get("kacho", self.url(), **{"from": "2000-01-01"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("366日以内", response.json()["errors"]["to"][0])
        self.assertEqual(self.prints(self.aoki, "第7号様式"), [])

    def test_a_phone_number_is_never_broken(self) -> None:
        disclosure_actions.do_record_data_use(
            acting_officer=self.officer("officer1a"),
            requester_name="巡査 照会次郎",
            requester_unit="生活安全課",
            requester_prefecture="大分県",
            police_phone="097-536-2131（内線 3456）",
            purpose="安否確認",
            household_ids=[self.aoki.id],
        )
        text = pdf_text(self.get("kacho", self.url()))
        self.assertIn("097-536-2131", text.replace("\n", "|"))

    def test_a_post_officer_prints_his_posts_entries_only(self) -> None:
        text = pdf_text(self.get("officer2a", self.url()))
        self.assertNotIn("照会太郎", text)
        self.assertIn("この期間の記録はありません", text)
        self.assertIn("照会太郎", pdf_text(self.get("officer1b", self.url())))

    def test_out_of_scope_is_404(self) -> None:
        self.assert_hidden(self.url(), "hq", "staff")
        other = f"/api/v1/stations/{self.other['station'].id}/data-uses.pdf"
        self.assert_hidden(other, "chief", "kacho", "officer1a")


class OffPageDistanceTests(SimpleTestCase):
    def test_metres_below_a_kilometre_then_kilometres(self) -> None:
        # The 第2号's note for a post off the page: a 駐在所's beat runs tens of kilometres.
        self.assertEqual(
            [_distance(m) for m in (354, 999, 1234, 9_960, 47_120)],
            ["350 m", "1.0 km", "1.2 km", "10 km", "47 km"],
        )


class ClipTextTests(SimpleTestCase):
    def test_a_long_field_is_cut_to_fit_at_once_not_a_character_at_a_time(self) -> None:
        import time
        from io import BytesIO

        from junkai.documents.pdf import FONT, clip_text, new_canvas

        canvas = new_canvas(BytesIO(), title="test")
        self.assertEqual(clip_text(canvas, "駅前町1丁目", 200, 9), "駅前町1丁目")
        short = clip_text(canvas, "巡回連絡カード" * 10, 60, 9)
        self.assertTrue(short.endswith("…"))
        self.assertLessEqual(canvas.stringWidth(short, FONT, 9), 60)
        # One character more would not fit: the longest prefix, as before.
        longer = "巡回連絡カード" * 10
        self.assertGreater(canvas.stringWidth(longer[: len(short)] + "…", FONT, 9), 60)
        started = time.perf_counter()
        clipped = clip_text(canvas, "あ" * 20_000, 100, 9)
        self.assertLess(time.perf_counter() - started, 1.0)
        self.assertLessEqual(canvas.stringWidth(clipped, FONT, 9), 100)


class DenseIndexTests(SimpleTestCase):
    """The 索引簿 is a book of thousands of lines: about 35 a page, and the 50音順 part two
    lists side by side (issue 17: it held 20 a page, 138 pages for one 交番)."""

    def test_rows_per_page(self) -> None:
        columns = [Column("索引番号", 1, "right", 6.8), Column("氏名", 3, size=6.8)]
        rows = [[str(i), "青木 一郎"] for i in range(700)]
        ledger = Ledger(
            "巡回連絡カード索引簿", "第5号様式", [], columns,
            [Section("索引番号順", rows), Section("50音順", rows, blocks=2)],
            line=INDEX_LINE, min_row=INDEX_ROW,
        )  # fmt: skip
        pages = PdfReader(BytesIO(render_ledger(ledger, "印刷者"))).pages
        by_number = [p for p in pages if "索引番号順" in p.extract_text()]
        by_kana = [p for p in pages if "50音順" in p.extract_text()]
        self.assertLessEqual(len(by_number), 700 // 33 + 1)
        self.assertLessEqual(len(by_kana), 700 // 66 + 1)
