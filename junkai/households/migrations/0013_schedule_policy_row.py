"""The schedule policy's row exists from the start (its defaults, the 別表's intervals): a visit
share-locks it while it computes a due date (visits.actions._policy_shared), which only works on
a row that is there; before, the defaults lived in memory until 本部地域課 first saved them."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def create_default(apps: Any, schema_editor: Any) -> None:
    SchedulePolicy = apps.get_model("households", "SchedulePolicy")
    if not SchedulePolicy.objects.exists():
        SchedulePolicy.objects.create()


class Migration(migrations.Migration):
    dependencies = [("households", "0012_schedule_policy_moved_here")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
