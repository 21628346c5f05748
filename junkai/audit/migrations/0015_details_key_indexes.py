"""PostgreSQL only: the misuse scan finds tasks by the household (or post) they name inside
`details` (`details["household"]`, `details["post"]`), so those keys get expression indexes,
partial to the events that carry them. With them the periodic scan reads each new read's
household's tasks by index, not the day's events of its officers (junkai/disclosures/misuse.py).

Built CONCURRENTLY (outside a transaction): the audit log is the largest table and every audited
write inserts into it, so a plain CREATE INDEX would hold them all back for the build.

SQLite keeps no such index: Django's JSON key lookups there bind the path as a parameter
(`JSON_EXTRACT(details, ?)`), which SQLite never matches against an indexed expression, so it
would cost every insert and serve no query. An embedded SQLite post has a small log.

Creating an index neither updates nor deletes a row: the append-only triggers (0002, 0011) and
the seals (0008, 0009) are untouched.
"""

from django.db import migrations

INDEXES = {
    "audit_event_details_household": "household",
    "audit_event_details_post": "post",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, key in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON audit_auditevent"
            f" ((details -> '{key}'), created_at) WHERE details ? '{key}'",
            params=None,
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("audit", "0014_event_types_devices")]
    operations = [migrations.RunPython(forward, backward)]
