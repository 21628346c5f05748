"""Migrations 0002–0004: written requests kept under MEDIA_ROOT move into AgencyDocument (and
back, reversed)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from junkai.demo.organisation import build_demo
from junkai.disclosures import actions
from junkai.disclosures.models import AgencyDocument, AgencyRequest
from junkai.org.models import Officer
from junkai.testing import JunkaiTransactionTestCase, build_sample_households

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
MEDIA = tempfile.mkdtemp(prefix="junkai-media-migration-")


@override_settings(MEDIA_ROOT=MEDIA)
class DocumentMigrationTests(JunkaiTransactionTestCase):
    def tearDown(self) -> None:
        call_command("migrate", "disclosures", verbosity=0)  # whatever happened, end migrated
        shutil.rmtree(MEDIA, ignore_errors=True)
        super().tearDown()

    def test_files_move_into_the_table_and_back(self) -> None:
        aoki = build_sample_households(build_demo())["aoki"]
        kacho = Officer.objects.get(username="kacho")
        entry = actions.do_record_agency_request(
            acting_officer=kacho,
            agency_name="みなと市 福祉課",
            recipient_name="主査 水野 千尋",
            recipient_contact="097-000-1234",
            purpose="安否確認体制",
            legal_basis="災害対策基本法第49条の10第3項",
            household_ids=[aoki.id],
        )
        actions.do_attach_agency_document(
            entry,
            acting_officer=kacho,
            upload=SimpleUploadedFile("shokai.pdf", PDF, "application/pdf"),
        )
        # Back to before the move: the bytes go out to MEDIA_ROOT as they were kept then.
        call_command("migrate", "disclosures", "0002", verbosity=0)
        files = [p for p in Path(MEDIA).rglob("*") if p.is_file()]
        self.assertEqual(len(files), 1)
        self.assertEqual(files[0].read_bytes(), PDF)
        self.assertEqual(files[0].suffix, ".pdf")
        # As a database of the old version would be: files only, an empty table.
        old_apps = (
            MigrationExecutor(connection)
            .loader.project_state(("disclosures", "0002_agency_document"))
            .apps
        )
        old_apps.get_model("disclosures", "AgencyDocument").objects.all().delete()

        call_command("migrate", "disclosures", verbosity=0)
        document = AgencyDocument.objects.get(request_id=entry.id)
        self.assertEqual(bytes(document.content), PDF)
        self.assertEqual(document.sha256, hashlib.sha256(PDF).hexdigest())
        self.assertEqual(document.content_type, "application/pdf")
        self.assertEqual(document.uploaded_by_id, kacho.id)
        self.assertTrue(AgencyRequest.objects.get(id=entry.id).has_document)
