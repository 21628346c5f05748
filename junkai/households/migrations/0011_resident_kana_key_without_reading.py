"""A resident with no reading gets his name's key as kana_key (search.resident_keys): a name
written in kana is then found by a query in kana, which now looks at kana_key alone."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import F


def forwards(apps: Any, schema_editor: Any) -> None:
    Resident = apps.get_model("households", "Resident")
    Resident.objects.filter(kana="").update(kana_key=F("name_key"))


def backwards(apps: Any, schema_editor: Any) -> None:
    Resident = apps.get_model("households", "Resident")
    Resident.objects.filter(kana="").update(kana_key="")


class Migration(migrations.Migration):
    dependencies = [("households", "0010_household_address_search_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
