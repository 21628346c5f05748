"""PostgreSQL only: every event row is stamped with the transaction that wrote it (the sealer's
ordering, set here so no writer can choose it), and the seal table is append-only like the
event table (0002)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_stamp_xid() RETURNS trigger AS $$
BEGIN
    NEW.xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_xid
    BEFORE INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_stamp_xid();
CREATE OR REPLACE FUNCTION audit_seal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditseal is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_seal_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditseal
    FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only();
CREATE TRIGGER audit_seal_no_truncate
    BEFORE TRUNCATE ON audit_auditseal
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_auditseal;
DROP TRIGGER IF EXISTS audit_seal_no_update_delete ON audit_auditseal;
DROP FUNCTION IF EXISTS audit_seal_append_only();
DROP TRIGGER IF EXISTS audit_event_xid ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_stamp_xid();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_audit_seal")]
    operations = [migrations.RunPython(forward, backward)]
