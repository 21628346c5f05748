# The written requests of agency requests move from MEDIA_ROOT into the database (stateless app
# servers): their own table of bytes. 0003 moves the files, 0004 drops the file column.
# "No decision without the written request" now reads the digest every attached document sets
# (swapped here, first, so that each step can also be reversed).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("disclosures", "0001_disclosures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgencyDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("content", models.BinaryField(verbose_name="内容")),
                ("content_type", models.CharField(max_length=32, verbose_name="文書の種類")),
                ("size", models.PositiveIntegerField(verbose_name="大きさ")),
                ("sha256", models.CharField(max_length=64)),
                ("uploaded_at", models.DateTimeField(verbose_name="添付日時")),
                (
                    "request",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="document_file",
                        to="disclosures.agencyrequest",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "照会文書", "verbose_name_plural": "照会文書"},
        ),
        migrations.RemoveConstraint(
            model_name="agencyrequest", name="agency_request_decision_needs_document"
        ),
        migrations.AddConstraint(
            model_name="agencyrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("decided_at__isnull", True))
                | ~models.Q(("document_sha256", "")),
                name="agency_request_decision_needs_document",
            ),
        ),
    ]
