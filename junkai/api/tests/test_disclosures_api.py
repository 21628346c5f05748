"""The 利用確認簿 (第7号様式) and requests from other agencies over the API (要領 第5-4 (2)).

Callback verification before any release; another prefecture's release needs the manager's
approval; each release shows in the household's access log; an agency request needs every
item of its written request, the document itself (a PDF or an image, checked by its bytes),
and the manager's decision; other units and other posts see nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from junkai.accounts.actions import do_issue_api_token
from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures.models import AgencyDocument, AgencyRequest, DataUse
from junkai.testing import PersonaTestCase

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

MEDIA = tempfile.mkdtemp(prefix="junkai-media-")


@override_settings(MEDIA_ROOT=MEDIA, JUNKAI_PREFECTURE="大分県")
class DisclosuresApiTestCase(PersonaTestCase):
    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        shutil.rmtree(MEDIA, ignore_errors=True)

    def setUp(self) -> None:
        self.clients: dict[str, Client] = {}

    def api(self, username: str) -> Client:
        if username not in self.clients:
            token, _ = do_issue_api_token(self.officer(username))
            self.clients[username] = Client(headers={"Authorization": f"Bearer {token}"})
        return self.clients[username]

    def send(self, username: str, url: str, body: dict[str, Any] | None = None) -> Any:
        return self.api(username).post(
            f"/api/v1{url}", json.dumps(body or {}), content_type="application/json"
        )

    def get(self, username: str, url: str) -> Any:
        return self.api(username).get(f"/api/v1{url}")

    def data_use(self, username: str = "officer1a", **fields: Any) -> Any:
        body = {
            "requester_name": "巡査部長 岸本 誠",
            "requester_unit": "みなと中央警察署 刑事課",
            "requester_prefecture": "大分県",
            "police_phone": "7-2231",
            "purpose": "窃盗事件の被害者への連絡",
            "household_ids": [self.aoki.id],
            **fields,
        }
        return self.send(username, "/data-uses", body)

    def agency(self, username: str = "officer1a", **fields: Any) -> Any:
        body = {
            "agency_name": "みなと市 福祉課",
            "recipient_name": "主査 水野 千尋",
            "recipient_contact": "097-000-1234",
            "purpose": "避難行動要支援者名簿の作成",
            "legal_basis": "災害対策基本法第49条の10第3項",
            "household_ids": [self.aoki.id],
            **fields,
        }
        return self.send(username, "/agency-requests", body)

    def upload(self, username: str, request_id: int, name: str, content: bytes) -> Any:
        return self.api(username).post(
            f"/api/v1/agency-requests/{request_id}/document",
            {"file": SimpleUploadedFile(name, content, "application/pdf")},
        )

    def release(self, username: str, data_use_id: int, groups: list[str] | None = None) -> Any:
        return self.send(
            username,
            f"/data-uses/{data_use_id}/release",
            {
                "items": [{"household_id": self.aoki.id, "groups": groups or ["names", "phones"]}],
                "method": "ORAL",
            },
        )


class DataUseTests(DisclosuresApiTestCase):
    def test_recorded_in_the_unit_register_with_a_number(self) -> None:
        response = self.data_use()
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["unit"], "駅前交番")
        self.assertEqual(body["status"], "REQUESTED")
        self.assertFalse(body["other_prefecture"])
        self.assertEqual(body["household_ids"], [self.aoki.id])
        second = self.data_use(username="kacho").json()
        self.assertEqual(second["number"], body["number"] + 1)  # one series per station
        self.assertEqual(second["unit"], "みなと中央警察署地域課")
        event = AuditEvent.objects.get(
            event_type=EventType.DATA_USE_REQUESTED, object_id=body["id"]
        )
        # The requester's name stays out of the audit log.
        self.assertNotIn("岸本", json.dumps(event.details, ensure_ascii=False))

    def test_each_missing_field_is_named(self) -> None:
        response = self.data_use(requester_name="", police_phone="", household_ids=[])
        self.assertEqual(response.status_code, 422)
        errors = response.json()["errors"]
        self.assertIn("利用者の氏名", errors["requester_name"][0])
        self.assertIn("警察電話番号", errors["police_phone"][0])
        self.assertIn("対象の世帯", errors["household_ids"][0])
        self.assertFalse(DataUse.objects.exists())

    def test_households_outside_the_recorders_scope_are_refused_alike(self) -> None:
        for household_id in (self.honmachi.id, self.other["household"].id, 999999):
            response = self.data_use(household_ids=[household_id])
            self.assertEqual(response.status_code, 422)
            self.assertIn("見つかりません", response.json()["errors"]["household_ids"][0])
        self.assertFalse(DataUse.objects.exists())

    def test_other_units_record_nothing(self) -> None:
        for username in ("staff", "hq"):
            response = self.data_use(username=username)
            self.assertEqual(response.status_code, 403)
            self.assertIn("記録できません", response.json()["detail"])

    def test_release_before_identity_verification_is_refused(self) -> None:
        entry = self.data_use().json()
        response = self.release("officer1a", entry["id"])
        self.assertEqual(response.status_code, 403)
        self.assertIn("折り返し", response.json()["detail"])
        self.assertFalse(AuditEvent.objects.filter(event_type=EventType.DATA_USE_RELEASED).exists())
        self.assertIsNone(DataUse.objects.get(id=entry["id"]).released_at)

    def test_verified_release_within_the_prefecture_needs_no_approval(self) -> None:
        entry = self.data_use().json()
        verified = self.send(
            "officer1b",
            f"/data-uses/{entry['id']}/verify-identity",
            {"callback_number": "7-2231", "note": ""},
        )
        self.assertEqual(verified.status_code, 200, verified.content)
        self.assertEqual(verified.json()["verified_by"]["username"], "officer1b")
        self.assertEqual(self.send("kacho", f"/data-uses/{entry['id']}/approve").status_code, 422)
        released = self.release("officer1a", entry["id"])
        self.assertEqual(released.status_code, 200, released.content)
        self.assertEqual(
            released.json()["released_items"],
            [{"household_id": self.aoki.id, "groups": ["names", "phones"]}],
        )
        # Once released, nothing more is released under it.
        self.assertEqual(self.release("officer1a", entry["id"]).status_code, 422)

    def test_callback_to_another_number_needs_a_note(self) -> None:
        entry = self.data_use().json()
        url = f"/data-uses/{entry['id']}/verify-identity"
        response = self.send("officer1a", url, {"callback_number": "7-9999"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("備考", response.json()["errors"]["note"][0])
        response = self.send("officer1a", url, {"callback_number": "", "note": "x"})
        self.assertIn("折り返し電話をかけた番号", response.json()["errors"]["callback_number"][0])
        response = self.send(
            "officer1a", url, {"callback_number": "7-9999", "note": "所属の代表番号から転送"}
        )
        self.assertEqual(response.status_code, 200)

    def test_another_prefecture_needs_the_managers_approval_before_release(self) -> None:
        entry = self.data_use(requester_prefecture="福岡県警察", police_phone="092-000-0110").json()
        self.assertTrue(entry["other_prefecture"])
        self.assertEqual(entry["requester_prefecture"], "福岡県")
        self.send(
            "officer1a",
            f"/data-uses/{entry['id']}/verify-identity",
            {"callback_number": "092-000-0110"},
        )
        refused = self.release("officer1a", entry["id"])
        self.assertEqual(refused.status_code, 403)
        self.assertIn("管理責任者", refused.json()["detail"])
        # A beat officer, the koban head and the 代理 cannot approve; the 地域課長 can.
        for username in ("officer1a", "kobancho1", "dairi"):
            denied = self.send(username, f"/data-uses/{entry['id']}/approve")
            self.assertEqual(denied.status_code, 403, username)
            self.assertIn("承認", denied.json()["detail"])
        approved = self.send("kacho", f"/data-uses/{entry['id']}/approve")
        self.assertEqual(approved.status_code, 200, approved.content)
        self.assertEqual(approved.json()["approved_by"]["username"], "kacho")
        self.assertEqual(self.release("officer1a", entry["id"]).status_code, 200)

    def test_approval_comes_after_the_callback(self) -> None:
        entry = self.data_use(requester_prefecture="熊本県").json()
        response = self.send("kacho", f"/data-uses/{entry['id']}/approve")
        self.assertEqual(response.status_code, 422)
        self.assertIn("折り返し", response.json()["errors"]["status"][0])

    def test_release_appears_in_the_households_access_log(self) -> None:
        entry = self.data_use().json()
        self.send(
            "officer1a", f"/data-uses/{entry['id']}/verify-identity", {"callback_number": "7-2231"}
        )
        self.release("officer1a", entry["id"], ["names", "birth_dates"])
        log = self.get("kacho", f"/households/{self.aoki.id}/access-log")
        self.assertEqual(log.status_code, 200)
        released = [e for e in log.json() if e["event_type"] == "DATA_USE_RELEASED"]
        self.assertEqual(len(released), 1)
        self.assertEqual(released[0]["purpose"], "窃盗事件の被害者への連絡")
        self.assertEqual(released[0]["actor"]["username"], "officer1a")
        event = AuditEvent.objects.get(event_type=EventType.DATA_USE_RELEASED)
        self.assertEqual(event.details["groups"], ["names", "birth_dates"])
        self.assertNotIn("青木", json.dumps(event.details, ensure_ascii=False))

    def test_release_names_only_known_groups_of_its_own_households(self) -> None:
        entry = self.data_use().json()
        self.send(
            "officer1a", f"/data-uses/{entry['id']}/verify-identity", {"callback_number": "7-2231"}
        )
        response = self.release("officer1a", entry["id"], ["names", "bank_account"])
        self.assertEqual(response.status_code, 422)
        self.assertIn("bank_account", response.json()["errors"]["items"][0])
        response = self.send(
            "officer1a",
            f"/data-uses/{entry['id']}/release",
            {"items": [{"household_id": self.no_card.id, "groups": ["names"]}]},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("対象ではありません", response.json()["errors"]["items"][0])
        response = self.send("officer1a", f"/data-uses/{entry['id']}/release", {"items": []})
        self.assertEqual(response.status_code, 422)

    def test_other_posts_and_units_cannot_see_k1s_entries(self) -> None:
        entry = self.data_use().json()
        for username in ("staff", "hq", "officer2a", "chuzai1"):
            self.assertEqual(self.get(username, f"/data-uses/{entry['id']}").status_code, 404)
            self.assertEqual(self.get(username, "/data-uses").json(), [], username)
            response = self.send(
                username,
                f"/data-uses/{entry['id']}/verify-identity",
                {"callback_number": "7-2231"},
            )
            self.assertEqual(response.status_code, 404, username)
        for username in ("officer1b", "kobancho1", "kacho", "dairi", "chief"):
            self.assertEqual(self.get(username, f"/data-uses/{entry['id']}").status_code, 200)
        # Readers in scope (the chief, the 代理) see it but do not handle a post's cards.
        response = self.send(
            "chief", f"/data-uses/{entry['id']}/verify-identity", {"callback_number": "7-2231"}
        )
        self.assertEqual(response.status_code, 403)
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.READ_DISCLOSURE, object_id=str(entry["id"])
            ).exists()
        )

    def test_register_filtered_by_unit_and_period(self) -> None:
        k1 = self.data_use().json()
        station = self.data_use(username="kacho").json()

        def ids(url: str, username: str = "kacho") -> list[int]:
            return [e["id"] for e in self.get(username, url).json()]

        self.assertEqual(ids("/data-uses?unit=station"), [station["id"]])
        self.assertEqual(ids(f"/data-uses?unit={self.post('K1').id}"), [k1["id"]])
        self.assertEqual(self.get("kacho", "/data-uses?since=2099-01-01").json(), [])
        self.assertEqual(len(self.get("kacho", "/data-uses").json()), 2)
        # The post sees its own register, not the 地域課's.
        self.assertEqual(ids("/data-uses", "officer1b"), [k1["id"]])


class AgencyRequestTests(DisclosuresApiTestCase):
    def test_missing_legal_basis_is_refused_naming_it(self) -> None:
        response = self.agency(legal_basis="")
        self.assertEqual(response.status_code, 422)
        self.assertIn("法令上の根拠", response.json()["errors"]["legal_basis"][0])
        response = self.send("officer1a", "/agency-requests", {"household_ids": [self.aoki.id]})
        errors = response.json()["errors"]
        for field, label in {
            "agency_name": "行政機関",
            "recipient_name": "提供を受ける者の氏名",
            "recipient_contact": "連絡先",
            "purpose": "利用目的",
            "legal_basis": "法令上の根拠",
        }.items():
            self.assertIn(label, errors[field][0])
        self.assertFalse(AgencyRequest.objects.exists())

    def test_decision_refused_without_the_written_request(self) -> None:
        entry = self.agency().json()
        response = self.send(
            "kacho",
            f"/agency-requests/{entry['id']}/decide",
            {"decision": "APPROVED", "reason": "根拠を確認"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("照会文書", response.json()["errors"]["document"][0])
        self.assertEqual(AgencyRequest.objects.get(id=entry["id"]).status, "PENDING")

    def test_non_pdf_or_image_upload_is_refused(self) -> None:
        entry = self.agency().json()
        for name, content in (
            ("shokai.pdf", b"MZ\x90\x00 not a pdf"),
            ("shokai.html", b"<html><script>alert(1)</script>"),
            ("empty.pdf", b""),
        ):
            response = self.upload("officer1a", entry["id"], name, content)
            self.assertEqual(response.status_code, 422, name)
            self.assertIn("file", response.json()["errors"])
        self.assertFalse(AgencyRequest.objects.get(id=entry["id"]).has_document)
        self.assertFalse(AgencyDocument.objects.filter(request_id=entry["id"]).exists())

    @override_settings(JUNKAI_AGENCY_DOCUMENT_MAX_BYTES=1024)
    def test_too_large_upload_is_refused(self) -> None:
        entry = self.agency().json()
        response = self.upload("officer1a", entry["id"], "big.pdf", PDF + b"0" * 2048)
        self.assertEqual(response.status_code, 422)
        self.assertIn("MB", response.json()["errors"]["file"][0])

    def test_document_decision_and_release(self) -> None:
        entry = self.agency().json()
        response = self.upload("officer1a", entry["id"], "照会文書 山田.png", PNG)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["document_type"], "image/png")
        # The bytes are in the database (stateless app servers); nothing is written to disk,
        # and the uploaded file's own name is not kept.
        stored = AgencyDocument.objects.get(request_id=entry["id"])
        self.assertEqual(bytes(stored.content), PNG)
        self.assertEqual(stored.content_type, "image/png")
        self.assertEqual(stored.sha256, hashlib.sha256(PNG).hexdigest())
        self.assertEqual(response.json()["document_sha256"], stored.sha256)
        self.assertEqual(stored.uploaded_by, self.officer("officer1a"))
        self.assertFalse(any(Path(MEDIA).rglob("*.*")))
        # Before the decision nothing is released; only the manager decides.
        body = {"items": [{"household_id": self.aoki.id, "groups": ["names"]}]}
        release = f"/agency-requests/{entry['id']}/release"
        self.assertEqual(self.send("officer1a", release, body).status_code, 403)
        decide = f"/agency-requests/{entry['id']}/decide"
        for username in ("officer1a", "kobancho1", "chief"):
            response = self.send(username, decide, {"decision": "APPROVED", "reason": "確認"})
            self.assertEqual(response.status_code, 403, username)
        response = self.send("kacho", decide, {"decision": "APPROVED", "reason": ""})
        self.assertIn("判断の理由", response.json()["errors"]["reason"][0])
        response = self.send("kacho", decide, {"decision": "APPROVED", "reason": "根拠を確認"})
        self.assertEqual(response.status_code, 200, response.content)
        response = self.send("officer1a", release, body)
        self.assertEqual(response.status_code, 200, response.content)
        log = self.get("kacho", f"/households/{self.aoki.id}/access-log").json()
        self.assertIn("AGENCY_REQUEST_RELEASED", [e["event_type"] for e in log])
        # Once decided, the document stays as it was.
        response = self.upload("officer1a", entry["id"], "again.pdf", PDF)
        self.assertEqual(response.status_code, 422)

    def test_refused_request_releases_nothing(self) -> None:
        entry = self.agency().json()
        self.upload("officer1a", entry["id"], "a.pdf", PDF)
        self.send(
            "kacho",
            f"/agency-requests/{entry['id']}/decide",
            {"decision": "REFUSED", "reason": "根拠の記載なし"},
        )
        response = self.send(
            "officer1a",
            f"/agency-requests/{entry['id']}/release",
            {"items": [{"household_id": self.aoki.id, "groups": ["names"]}]},
        )
        self.assertEqual(response.status_code, 403)

    def test_other_posts_and_units_cannot_see_it(self) -> None:
        entry = self.agency().json()
        for username in ("staff", "hq", "officer2a"):
            self.assertEqual(self.get(username, f"/agency-requests/{entry['id']}").status_code, 404)
            self.assertEqual(
                self.upload(username, entry["id"], "a.pdf", PDF).status_code, 404, username
            )
        self.assertEqual(self.get("officer1b", f"/agency-requests/{entry['id']}").status_code, 200)


class RefusalsAreRecordedTests(DisclosuresApiTestCase):
    def test_naming_another_posts_household_is_refused_and_recorded(self) -> None:
        before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
        response = self.data_use(household_ids=[self.honmachi.id])
        self.assertEqual(response.status_code, 422)
        denied = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED)
        self.assertEqual(denied.count(), before + 1)
        self.assertEqual(denied.latest("id").object_id, str(self.honmachi.id))
