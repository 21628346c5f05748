"""The disclosure accounting (提供の記録): every release and print of one household, for its
管理責任者 or the 署長 to hand to the resident."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import actions
from junkai.disclosures.models import DataUse
from junkai.documents.tests.test_forms import pdf_text
from junkai.households.models import Household
from junkai.testing import PersonaTestCase

SHOTS = Path(__file__).resolve().parents[3] / "var" / "test" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@override_settings(JUNKAI_PREFECTURE="大分県")
class DisclosureAccountingTests(PersonaTestCase):
    def release_data_use(
        self, household: Household, *, username: str, prefecture: str, unit: str, purpose: str
    ) -> DataUse:
        officer = self.officer(username)
        entry = actions.do_record_data_use(
            acting_officer=officer,
            requester_name="巡査部長 岸本 誠",
            requester_unit=unit,
            requester_prefecture=prefecture,
            police_phone="7-2231",
            purpose=purpose,
            household_ids=[household.id],
        )
        entry = actions.do_verify_identity(entry, acting_officer=officer, callback_number="7-2231")
        if entry.other_prefecture:
            entry = actions.do_approve_data_use(entry, acting_officer=self.officer("kacho"))
        return actions.do_release_data_use(
            entry, acting_officer=officer, items={household.id: ["names", "phones"]}
        )

    def setUp(self) -> None:
        # Each kind of release of 青木's data.
        self.release_data_use(
            self.aoki, username="officer1a", prefecture="大分県", unit="刑事課", purpose="窃盗事件"
        )
        self.release_data_use(
            self.aoki,
            username="officer1a",
            prefecture="福岡県",
            unit="博多警察署",
            purpose="所在確認",
        )
        request = actions.do_record_agency_request(
            acting_officer=self.officer("officer1a"),
            agency_name="みなと市福祉課",
            recipient_name="主査 水野",
            recipient_contact="097-000-1234",
            purpose="避難行動要支援者名簿",
            legal_basis="災害対策基本法第49条の10",
            household_ids=[self.aoki.id],
        )
        request = actions.do_attach_agency_document(
            request,
            acting_officer=self.officer("officer1a"),
            upload=SimpleUploadedFile("shokai.pdf", PDF, "application/pdf"),
        )
        request = actions.do_decide_agency_request(
            request, acting_officer=self.officer("kacho"), decision="APPROVED", reason="根拠を確認"
        )
        actions.do_release_agency_request(
            request, acting_officer=self.officer("officer1a"), items={self.aoki.id: ["address"]}
        )
        officer = self.client_for("officer1a")
        self.assertEqual(
            officer.get(f"/api/v1/households/{self.aoki.id}/card.pdf").status_code, 200
        )
        index = officer.get(f"/api/v1/posts/{self.post('K1').id}/card-index.pdf")
        self.assertEqual(index.status_code, 200)
        # Another household's release and print, which 青木's accounting must not show.
        self.release_data_use(
            self.honmachi, username="officer2a", prefecture="大分県", unit="交通課", purpose="別件"
        )
        other = self.client_for("officer2a")
        self.assertEqual(
            other.get(f"/api/v1/households/{self.honmachi.id}/card.pdf").status_code, 200
        )

    def test_the_disclosure_accounting_lists_every_release_and_print_of_a_household(
        self,
    ) -> None:
        kacho = self.client_for("kacho")
        page = kacho.get(f"/households/{self.aoki.id}/disclosures/")
        printed = kacho.get(f"/api/v1/households/{self.aoki.id}/disclosures.pdf")
        self.assertEqual(printed.status_code, 200)
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "disclosure-accounting.pdf").write_bytes(printed.content)  # to look at
        text = pdf_text(printed).replace("\n", "")
        for shown in (page.content.decode(), text):
            with self.subTest(shown=shown[:20]):
                for expected in (
                    "大分県警察 刑事課",  # a use by another unit of this prefecture
                    "窃盗事件",
                    "福岡県警察 博多警察署",  # another prefecture, with the approval
                    "他の都道府県警察への提供",
                    "みなと市福祉課 主査 水野",  # an agency request, with its legal basis
                    "災害対策基本法第49条の10",
                    "第1号様式",  # its card printed
                    "第5号様式",  # a post-wide print that named it
                    "世帯員の氏名・電話番号",
                    "令和",
                ):
                    self.assertIn(expected, shown)
                for absent in ("交通課", "別件"):
                    self.assertNotIn(absent, shown)
        self.assertIn("提供の記録", text)
        # The honmachi household's own accounting has its own release and not 青木's.
        self.state_read_purpose(kacho, self.honmachi)
        own = kacho.get(f"/households/{self.honmachi.id}/disclosures/")
        self.assertContains(own, "交通課")
        self.assertNotContains(own, "博多警察署")
        # Reading it is recorded on the household (its 閲覧記録), and so is the print.
        self.assertTrue(
            AuditEvent.objects.filter(
                event_type=EventType.READ_DISCLOSURE,
                object_type="households.household",
                object_id=str(self.aoki.id),
                actor=self.officer("kacho"),
            ).exists()
        )
        again = kacho.get(f"/households/{self.aoki.id}/disclosures/")
        self.assertContains(again, "提供の記録")  # the print handed over lists itself

    def test_reachable_from_the_household_page_for_its_manager_and_chief_only(self) -> None:
        for username in ("kacho", "chief"):
            client = self.client_for(username)
            self.state_read_purpose(client, self.aoki)
            household = client.get(f"/households/{self.aoki.id}/")
            self.assertContains(household, f"/households/{self.aoki.id}/disclosures/")
            self.assertEqual(
                client.get(f"/households/{self.aoki.id}/disclosures/").status_code, 200
            )
        beat_officer = self.client_for("officer1a")
        household = beat_officer.get(f"/households/{self.aoki.id}/")
        self.assertNotContains(household, "/disclosures/")
        for url in (
            f"/households/{self.aoki.id}/disclosures/",
            f"/api/v1/households/{self.aoki.id}/disclosures.pdf",
        ):
            with self.subTest(url=url):
                self.assertEqual(beat_officer.get(url).status_code, 403)
        denials = AuditEvent.objects.filter(
            event_type=EventType.ACCESS_DENIED, actor=self.officer("officer1a")
        )
        self.assertEqual(denials.count(), 2)
        # Another station's chief: absent alike.
        stranger = self.client_for("other_chief")
        self.assertEqual(stranger.get(f"/households/{self.aoki.id}/disclosures/").status_code, 404)
