"""The periodic misuse scan's watermark, and a flag's audit events as rows (backfilled)."""

from datetime import UTC, datetime
from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    flag_model = apps.get_model("disclosures", "MisuseFlag")
    row_model = apps.get_model("disclosures", "MisuseFlagRead")
    flags = list(flag_model.objects.values_list("id", "event_ids", "window_start"))
    ids = sorted({int(i) for _, event_ids, _ in flags for i in event_ids})
    events: dict[int, tuple[str, str, Any]] = {}
    # The audit log's table by SQL: no dependency on its app's migrations (tests that leave
    # that app out still load this graph); flags exist only where the log does.
    with schema_editor.connection.cursor() as cursor:
        for n in range(0, len(ids), 5000):
            chunk = ids[n : n + 5000]
            cursor.execute(
                "SELECT id, object_type, object_id, created_at FROM audit_auditevent"  # noqa: S608 (placeholders only)
                f" WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            for event_id, object_type, object_id, created_at in cursor.fetchall():
                if isinstance(created_at, str):  # SQLite: naive UTC text
                    created_at = datetime.fromisoformat(created_at)
                if created_at.tzinfo is None:
                    created_at = created_at.replace(tzinfo=UTC)
                events[event_id] = (object_type, object_id, created_at)
    rows = []
    for flag_id, event_ids, window_start in flags:
        for i in {int(i) for i in event_ids}:
            object_type, object_id, created_at = events.get(i, ("", "", window_start))
            rows.append(
                row_model(
                    flag_id=flag_id,
                    event_id=i,
                    household_id=(
                        int(object_id)
                        if object_type == "households.household" and object_id.isdigit()
                        else None
                    ),
                    read_at=created_at,
                )
            )
    row_model.objects.bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [
        ("disclosures", "0005_event_types_devices"),
    ]

    operations = [
        migrations.CreateModel(
            name="MisuseScanMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("line", models.BigIntegerField(verbose_name="検査済みの位置")),
                ("judged_until", models.DateTimeField(verbose_name="判定済みの閲覧の日時")),
                ("scanned_at", models.DateTimeField(verbose_name="検査日時")),
                ("since", models.DateTimeField(verbose_name="検査の起点")),
            ],
            options={
                "verbose_name": "不適正利用の検査の位置",
                "verbose_name_plural": "不適正利用の検査の位置",
            },
        ),
        migrations.CreateModel(
            name="MisuseFlagRead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_id", models.BigIntegerField(verbose_name="監査記録ID")),
                (
                    "household_id",
                    models.BigIntegerField(blank=True, null=True, verbose_name="世帯ID"),
                ),
                ("read_at", models.DateTimeField(verbose_name="日時")),
                (
                    "flag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="read_rows",
                        to="disclosures.misuseflag",
                    ),
                ),
            ],
            options={
                "verbose_name": "不適正利用の兆候の監査記録",
                "verbose_name_plural": "不適正利用の兆候の監査記録",
                "indexes": [
                    models.Index(fields=["event_id"], name="disclosures_event_i_caaf46_idx"),
                    models.Index(
                        fields=["household_id", "read_at"], name="disclosures_househo_c8ad34_idx"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("flag", "event_id"), name="misuse_flag_read_once"
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
