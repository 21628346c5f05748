"""The shared cache's table (settings.CACHES: Django's database cache on the primary), made by
`junkai migrate` so every way of setting up a database — run.sh, the deploy, a restore check —
has it with no separate `createcachetable` step. createcachetable skips a table that exists."""

from django.core.management import call_command
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def create_cache_table(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0001_month_snapshots")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
