"""The 利用確認簿, agency requests and misuse flags through the pages."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import actions
from junkai.disclosures.models import AgencyDocument, AgencyRequest, DataUse, MisuseFlag
from junkai.testing import PersonaTestCase

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
MEDIA = tempfile.mkdtemp(prefix="junkai-media-")


#: What an action might one day say under a name the page has no input for, and a message
#: with no name at all: each must show on the page, not vanish behind a bare 422.
UNPLACED = (
    (ValidationError({"requester_rank": "利用者の階級を入力してください"}), "利用者の階級を"),
    (ValidationError("ただいま記録を受け付けられません"), "ただいま記録を受け付けられません"),
)


def data_use_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "requester_prefecture": "大分県",
        "requester_unit": "みなと中央警察署 刑事課",
        "requester_name": "巡査部長 岸本 誠",
        "police_phone": "7-2231",
        "purpose": "窃盗事件の被害者への連絡",
        "household_ids": [],
        "query": "",
        "action": "record",
    }
    data.update(overrides)
    return data


@override_settings(MEDIA_ROOT=MEDIA, JUNKAI_PREFECTURE="大分県")
class DisclosurePagesTestCase(PersonaTestCase):
    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        shutil.rmtree(MEDIA, ignore_errors=True)

    def record_data_use(self, username: str = "officer1a", **fields: Any) -> DataUse:
        return actions.do_record_data_use(
            acting_officer=self.officer(username),
            requester_name="巡査部長 岸本 誠",
            requester_unit="刑事課",
            requester_prefecture=fields.pop("requester_prefecture", "大分県"),
            police_phone="7-2231",
            purpose="窃盗事件の被害者への連絡",
            household_ids=fields.pop("household_ids", [self.aoki.id]),
        )


class DataUsePageTests(DisclosurePagesTestCase):
    def test_search_pick_and_record(self) -> None:
        client = self.client_for("officer1a")
        page = client.get("/data-uses/new/")
        self.assertContains(page, "駅前交番")
        found = client.post("/data-uses/new/", data_use_post(action="search", query="青木 一郎"))
        self.assertContains(found, f'value="{self.aoki.id}"')
        self.assertContains(found, "岸本 誠")  # what was typed stays
        response = client.post("/data-uses/new/", data_use_post(household_ids=[self.aoki.id]))
        entry = DataUse.objects.get()
        self.assertRedirects(response, f"/data-uses/{entry.id}/")
        self.assertEqual(entry.post, self.post("K1"))
        self.assertEqual(list(entry.households.all()), [self.aoki])

    def test_started_from_a_household(self) -> None:
        page = self.client_for("officer1a").get(f"/data-uses/new/?household={self.aoki.id}")
        self.assertContains(page, f'name="household_ids" value="{self.aoki.id}"')
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.READ_HOUSEHOLD,
                object_id=str(self.aoki.id),
                purpose="利用確認簿・照会の記録",
            ).exists()
        )
        other = self.client_for("officer2a").get(f"/data-uses/new/?household={self.aoki.id}")
        self.assertEqual(other.status_code, 404)

    def test_missing_fields_are_named_and_nothing_is_saved(self) -> None:
        client = self.client_for("officer1a")
        response = client.post("/data-uses/new/", data_use_post(police_phone="", purpose=""))
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "警察電話番号を入力してください", status_code=422)
        self.assertContains(response, "利用目的を入力してください", status_code=422)
        self.assertContains(response, "対象の世帯を1件以上選んでください", status_code=422)
        self.assertFalse(DataUse.objects.exists())

    def test_other_units_see_an_explanation_not_a_form(self) -> None:
        for username in ("staff", "hq"):
            client = self.client_for(username)
            self.assertContains(client.get("/data-uses/new/"), "記録できません")
            self.assertContains(client.get("/data-uses/"), "閲覧できる利用確認簿はありません")

    def test_register_shows_the_form_columns_and_filters(self) -> None:
        k1 = self.record_data_use()
        station = self.record_data_use("kacho", requester_prefecture="福岡県")
        client = self.client_for("kacho")
        page = client.get("/data-uses/")
        for column in (
            "利用者（所属・氏名・警察電話番号）",
            "利用目的",
            "対象の世帯",
            "折り返し",
            "承認",
        ):
            self.assertContains(page, column)
        self.assertEqual({r.id for r in page.context["view"].rows}, {k1.id, station.id})
        page = client.get("/data-uses/", {"unit": "station"})
        self.assertEqual([r.id for r in page.context["view"].rows], [station.id])
        page = client.get("/data-uses/", {"unit": str(self.post("K1").id)})
        self.assertEqual([r.id for r in page.context["view"].rows], [k1.id])
        page = client.get("/data-uses/", {"since": "2099-01-01"})
        self.assertEqual(page.context["view"].rows, [])
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.READ_DISCLOSURE, object_type="scope"
            ).exists()
        )

    def test_register_query_count_does_not_grow_with_entries(self) -> None:
        client = self.client_for("kacho")
        self.record_data_use()
        client.get("/data-uses/")  # warm the session
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as one:
            client.get("/data-uses/")
        for _ in range(5):
            self.record_data_use(household_ids=[self.aoki.id, self.no_card.id])
        with self.assertNumQueries(len(one)):
            client.get("/data-uses/")

    def test_k1_entries_are_hidden_from_other_posts_and_units(self) -> None:
        entry = self.record_data_use()
        for username in ("staff", "hq", "officer2a"):
            client = self.client_for(username)
            for url in ("", "verify/", "release/"):
                self.assertEqual(client.get(f"/data-uses/{entry.id}/{url}").status_code, 404)
            self.assertNotContains(client.get("/data-uses/"), "岸本")
        self.assertContains(self.client_for("officer1b").get(f"/data-uses/{entry.id}/"), "岸本")

    def test_release_needs_the_callback_first(self) -> None:
        entry = self.record_data_use()
        client = self.client_for("officer1a")
        page = client.get(f"/data-uses/{entry.id}/release/")
        self.assertContains(page, "折り返し")
        self.assertNotContains(page, "提供を記録する")
        refused = client.post(
            f"/data-uses/{entry.id}/release/",
            {f"groups_{self.aoki.id}": ["names"], "method": "ORAL", "note": ""},
        )
        self.assertEqual(refused.status_code, 403)
        self.assertContains(refused, "警察職員であることを確認するまで", status_code=403)
        response = client.post(
            f"/data-uses/{entry.id}/verify/", {"callback_number": "7-2231", "note": ""}
        )
        self.assertRedirects(response, f"/data-uses/{entry.id}/")
        response = client.post(
            f"/data-uses/{entry.id}/release/",
            {f"groups_{self.aoki.id}": ["names", "phones"], "method": "ORAL", "note": ""},
        )
        self.assertRedirects(response, f"/data-uses/{entry.id}/")
        entry.refresh_from_db()
        self.assertEqual(
            entry.released_items, [{"household": self.aoki.id, "groups": ["names", "phones"]}]
        )
        # The household's access log (for its manager) shows the release.
        kacho = self.client_for("kacho")
        self.state_read_purpose(kacho, self.aoki, "INQUIRY")
        household = kacho.get(f"/households/{self.aoki.id}/")
        self.assertContains(household, "巡回連絡個人情報の提供")

    def test_release_without_any_group_is_refused(self) -> None:
        entry = self.record_data_use()
        actions.do_verify_identity(
            entry, acting_officer=self.officer("officer1a"), callback_number="7-2231"
        )
        response = self.client_for("officer1a").post(
            f"/data-uses/{entry.id}/release/", {"method": "ORAL", "note": ""}
        )
        self.assertContains(response, "1つ以上選んでください", status_code=422)

    def test_a_message_the_form_has_no_place_for_still_shows(self) -> None:
        client = self.client_for("officer1a")
        for error, shown in UNPLACED:
            with (
                self.subTest(shown=shown),
                mock.patch.object(actions, "do_record_data_use", side_effect=error),
            ):
                response = client.post(
                    "/data-uses/new/", data_use_post(household_ids=[self.aoki.id])
                )
                self.assertContains(response, shown, status_code=422)
                self.assertContains(response, 'class="alert error"', status_code=422)
        entry = self.record_data_use()
        actions.do_verify_identity(
            entry, acting_officer=self.officer("officer1a"), callback_number="7-2231"
        )
        for error, shown in UNPLACED:
            with (
                self.subTest(shown=shown, page="release"),
                mock.patch.object(actions, "do_release_data_use", side_effect=error),
            ):
                response = client.post(
                    f"/data-uses/{entry.id}/release/",
                    {f"groups_{self.aoki.id}": ["names"], "method": "ORAL", "note": ""},
                )
                self.assertContains(response, shown, status_code=422)
        self.assertFalse(DataUse.objects.exclude(id=entry.id).exists())

    def test_only_the_manager_approves_another_prefecture(self) -> None:
        entry = self.record_data_use(requester_prefecture="福岡県")
        actions.do_verify_identity(
            entry, acting_officer=self.officer("officer1a"), callback_number="7-2231"
        )
        denied = self.client_for("officer1a").post(f"/data-uses/{entry.id}/approve/")
        self.assertEqual(denied.status_code, 403)
        self.assertContains(denied, "管理責任者", status_code=403)
        detail = self.client_for("kacho").get(f"/data-uses/{entry.id}/")
        self.assertContains(detail, "提供を承認する")
        self.client_for("kacho").post(f"/data-uses/{entry.id}/approve/")
        entry.refresh_from_db()
        self.assertEqual(entry.approved_by, self.officer("kacho"))

    def test_manager_refuses_with_a_reason(self) -> None:
        entry = self.record_data_use(requester_prefecture="福岡県")
        client = self.client_for("kacho")
        response = client.post(f"/data-uses/{entry.id}/refuse/", {"reason": ""}, follow=True)
        self.assertContains(response, "不承認の理由を入力してください")
        client.post(f"/data-uses/{entry.id}/refuse/", {"reason": "必要性が示されない"})
        entry.refresh_from_db()
        self.assertEqual(entry.status, "REFUSED")


class AgencyRequestPageTests(DisclosurePagesTestCase):
    def agency_post(self, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "agency_name": "みなと市 福祉課",
            "recipient_name": "主査 水野 千尋",
            "recipient_contact": "097-000-1234",
            "purpose": "避難行動要支援者名簿の作成",
            "legal_basis": "災害対策基本法第49条の10第3項",
            "household_ids": [self.aoki.id],
            "action": "record",
        }
        data.update(overrides)
        return data

    def test_missing_legal_basis_is_named(self) -> None:
        response = self.client_for("officer1a").post(
            "/agency-requests/new/", self.agency_post(legal_basis="")
        )
        self.assertContains(response, "法令上の根拠を入力してください", status_code=422)
        self.assertFalse(AgencyRequest.objects.exists())

    def test_a_message_the_form_has_no_place_for_still_shows(self) -> None:
        client = self.client_for("officer1a")
        for error, shown in UNPLACED:
            with (
                self.subTest(shown=shown),
                mock.patch.object(actions, "do_record_agency_request", side_effect=error),
            ):
                response = client.post("/agency-requests/new/", self.agency_post())
                self.assertContains(response, shown, status_code=422)
        client.post("/agency-requests/new/", self.agency_post())
        entry = AgencyRequest.objects.get()
        pdf = SimpleUploadedFile("shokai.pdf", PDF, "application/pdf")
        actions.do_attach_agency_document(
            entry, acting_officer=self.officer("officer1a"), upload=pdf
        )
        actions.do_decide_agency_request(
            entry, acting_officer=self.officer("kacho"), decision="APPROVED", reason="根拠を確認"
        )
        for error, shown in UNPLACED:
            with (
                self.subTest(shown=shown, page="release"),
                mock.patch.object(actions, "do_release_agency_request", side_effect=error),
            ):
                response = client.post(
                    f"/agency-requests/{entry.id}/release/",
                    {f"groups_{self.aoki.id}": ["names"], "method": "GIVEN", "note": ""},
                )
                self.assertContains(response, shown, status_code=422)

    def test_upload_download_and_decide(self) -> None:
        client = self.client_for("officer1a")
        response = client.post("/agency-requests/new/", self.agency_post())
        entry = AgencyRequest.objects.get()
        self.assertRedirects(response, f"/agency-requests/{entry.id}/")
        # The manager cannot decide while no document is attached.
        kacho = self.client_for("kacho")
        page = kacho.post(
            f"/agency-requests/{entry.id}/decide/",
            {"decision": "APPROVED", "reason": "確認"},
            follow=True,
        )
        self.assertContains(page, "照会文書")
        entry.refresh_from_db()
        self.assertEqual(entry.status, "PENDING")
        # A file that is not a PDF or an image is refused, whatever its name says.
        page = client.post(
            f"/agency-requests/{entry.id}/upload/",
            {"file": SimpleUploadedFile("shokai.pdf", b"PK\x03\x04zip", "application/pdf")},
            follow=True,
        )
        self.assertContains(page, "PDF または画像")
        client.post(
            f"/agency-requests/{entry.id}/upload/",
            {"file": SimpleUploadedFile("shokai.pdf", PDF, "application/pdf")},
        )
        entry.refresh_from_db()
        self.assertTrue(entry.has_document)
        download = self.client_for("officer1b").get(f"/agency-requests/{entry.id}/document/")
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download.content, PDF)
        # Served from the database: no app server keeps the document on its disk.
        self.assertEqual(bytes(AgencyDocument.objects.get(request=entry).content), PDF)
        self.assertFalse(any(Path(MEDIA).rglob("*.*")))
        # A replacement before the decision keeps one document: the new one.
        client.post(
            f"/agency-requests/{entry.id}/upload/",
            {"file": SimpleUploadedFile("v2.pdf", PDF + b"%v2\n", "application/pdf")},
        )
        self.assertEqual(AgencyDocument.objects.filter(request=entry).count(), 1)
        download = self.client_for("officer1b").get(f"/agency-requests/{entry.id}/document/")
        self.assertEqual(download.content, PDF + b"%v2\n")
        self.assertEqual(download["X-Content-Type-Options"], "nosniff")
        self.assertIn("attachment", download["Content-Disposition"])
        self.assertEqual(
            self.client_for("officer2a").get(f"/agency-requests/{entry.id}/document/").status_code,
            404,
        )
        # Only the manager decides; then the release is recorded per household.
        self.assertEqual(
            client.post(
                f"/agency-requests/{entry.id}/decide/", {"decision": "APPROVED", "reason": "x"}
            ).status_code,
            403,
        )
        kacho.post(
            f"/agency-requests/{entry.id}/decide/",
            {"decision": "APPROVED", "reason": "根拠を確認"},
        )
        response = client.post(
            f"/agency-requests/{entry.id}/release/",
            {f"groups_{self.aoki.id}": ["names", "address"], "method": "GIVEN", "note": ""},
        )
        self.assertRedirects(response, f"/agency-requests/{entry.id}/")
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.AGENCY_REQUEST_RELEASED,
                object_type="households.household",
                object_id=str(self.aoki.id),
            ).exists()
        )


class MisuseFlagPageTests(DisclosurePagesTestCase):
    def flag_about(self, username: str) -> MisuseFlag:
        from junkai.households.access import access_household

        officer = self.officer(username)
        access_household(officer, self.aoki.id)
        event = AuditEvent.objects.filter(
            event_type=EventType.READ_HOUSEHOLD, actor=officer
        ).latest("id")
        return actions.do_raise_misuse_flag(
            station_id=self.station.id,
            post_id=self.post("K1").id if username != "kacho" else None,
            officer_id=officer.id,
            kind="UNEXPLAINED",
            window_start=event.created_at,
            window_end=event.created_at,
            event_ids=[event.id],
            household_count=1,
        )

    def test_manager_sees_the_flags_and_their_events(self) -> None:
        flag = self.flag_about("officer1a")
        kacho = self.client_for("kacho")
        page = kacho.get("/misuse/")
        self.assertContains(page, "業務上の文脈がない閲覧")
        detail = kacho.get(f"/misuse/{flag.id}/")
        self.assertContains(detail, "根拠となった監査記録")
        self.assertContains(detail, f"世帯 #{self.aoki.id}")
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.READ_AUDIT_LOG, object_id=str(flag.id)
            ).exists()
        )
        response = kacho.post(f"/misuse/{flag.id}/review/", {"note": "本人に確認。指導済み"})
        self.assertRedirects(response, "/misuse/")
        flag.refresh_from_db()
        self.assertEqual(flag.reviewed_by, self.officer("kacho"))
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.MISUSE_REVIEWED, object_id=str(flag.id)
            ).exists()
        )

    def test_others_cannot_see_or_review(self) -> None:
        flag = self.flag_about("officer1a")
        self.assertContains(
            self.client_for("officer1a").get("/misuse/"), "確認するものはありません"
        )
        for username, status in (
            ("officer1a", 403),
            ("kobancho1", 403),
            ("dairi", 403),
            ("officer2a", 404),
            ("staff", 404),
            ("hq", 404),
        ):
            client = self.client_for(username)
            self.assertEqual(client.get(f"/misuse/{flag.id}/").status_code, status, username)
            self.assertEqual(
                client.post(f"/misuse/{flag.id}/review/", {"note": "x"}).status_code,
                status,
                username,
            )
        flag.refresh_from_db()
        self.assertIsNone(flag.reviewed_at)

    def test_a_flag_about_the_manager_goes_to_the_chief(self) -> None:
        flag = self.flag_about("kacho")
        response = self.client_for("kacho").post(f"/misuse/{flag.id}/review/", {"note": "x"})
        self.assertEqual(response.status_code, 403)
        self.client_for("chief").post(f"/misuse/{flag.id}/review/", {"note": "確認した"})
        flag.refresh_from_db()
        self.assertEqual(flag.reviewed_by, self.officer("chief"))
