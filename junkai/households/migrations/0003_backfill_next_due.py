"""Data: households registered before the schedule existed had no visits, so each is due since
the day it was registered (未把握 due now; the work list then sorts by priority)."""

from django.db import migrations
from django.utils import timezone


def backfill(apps, schema_editor):
    Household = apps.get_model("households", "Household")
    batch = []
    for household in (
        Household.objects.filter(next_due__isnull=True)
        .only("id", "created_at")
        .iterator(chunk_size=5000)
    ):
        household.next_due = timezone.localdate(household.created_at)
        batch.append(household)
        if len(batch) >= 5000:
            Household.objects.bulk_update(batch, ["next_due"])
            batch = []
    if batch:
        Household.objects.bulk_update(batch, ["next_due"])


class Migration(migrations.Migration):
    dependencies = [("households", "0002_schedule_fields")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
