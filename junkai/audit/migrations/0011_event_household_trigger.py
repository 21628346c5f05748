"""PostgreSQL only: the (event, household) rows are insert-only like the events (0002)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_household_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditeventhousehold is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_household_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditeventhousehold
    FOR EACH ROW EXECUTE FUNCTION audit_event_household_append_only();
CREATE TRIGGER audit_event_household_no_truncate
    BEFORE TRUNCATE ON audit_auditeventhousehold
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_household_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_household_no_truncate ON audit_auditeventhousehold;
DROP TRIGGER IF EXISTS audit_event_household_no_update_delete ON audit_auditeventhousehold;
DROP FUNCTION IF EXISTS audit_event_household_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0010_audit_event_household")]
    operations = [migrations.RunPython(forward, backward)]
