# Data migration: each written request stored under MEDIA_ROOT goes into AgencyDocument, checked
# against the digest taken at upload. The files are left where they are (remove MEDIA_ROOT once
# the documents open from the pages); a missing or changed file stops the migration, so nothing
# is lost in silence.

import hashlib
from typing import Any

from django.core.files.storage import default_storage
from django.db import migrations


def files_to_table(apps: Any, schema_editor: Any) -> None:
    agency_request = apps.get_model("disclosures", "AgencyRequest")
    agency_document = apps.get_model("disclosures", "AgencyDocument")
    alias = schema_editor.connection.alias
    for entry in agency_request.objects.using(alias).exclude(document="").iterator():
        try:
            with default_storage.open(entry.document.name, "rb") as handle:
                content = handle.read()
        except FileNotFoundError as missing:
            raise RuntimeError(
                f"照会 {entry.id} の照会文書 {entry.document.name} が MEDIA_ROOT にありません"
            ) from missing
        digest = hashlib.sha256(content).hexdigest()
        if entry.document_sha256 and digest != entry.document_sha256:
            raise RuntimeError(
                f"照会 {entry.id} の照会文書 {entry.document.name} が添付時と異なります"
            )
        agency_document.objects.using(alias).update_or_create(
            request_id=entry.id,
            defaults={
                "content": content,
                "content_type": entry.document_type or "application/octet-stream",
                "size": len(content),
                "sha256": digest,
                "uploaded_by_id": entry.document_attached_by_id,
                "uploaded_at": entry.document_attached_at or entry.recorded_at,
            },
        )
        if not entry.document_sha256:
            entry.document_sha256 = digest
            entry.save(update_fields=["document_sha256"])


def table_to_files(apps: Any, schema_editor: Any) -> None:
    from django.core.files.base import ContentFile

    agency_request = apps.get_model("disclosures", "AgencyRequest")
    agency_document = apps.get_model("disclosures", "AgencyDocument")
    alias = schema_editor.connection.alias
    suffixes = {
        "application/pdf": ".pdf",
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/tiff": ".tif",
    }
    for document in agency_document.objects.using(alias).iterator():
        entry = agency_request.objects.using(alias).get(id=document.request_id)
        if entry.document:
            continue
        suffix = suffixes.get(document.content_type, ".bin")
        entry.document.save(f"document{suffix}", ContentFile(bytes(document.content)), save=False)
        entry.save(update_fields=["document"])


class Migration(migrations.Migration):
    dependencies = [("disclosures", "0002_agency_document")]

    operations = [migrations.RunPython(files_to_table, table_to_files)]
