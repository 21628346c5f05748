"""The audit log's hash chain: appends, `junkai audit-verify`, tampering, concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from unittest import skipUnless

from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import TestCase

from junkai.audit.chain import record
from junkai.audit.chain import verify as verify_chain
from junkai.audit.models import AuditEvent, EventType
from junkai.testing import JunkaiTransactionTestCase

ON_POSTGRES = connection.vendor == "postgresql"


def tamper(sql: str, params: list[str | int] | None = None) -> None:
    """Change the table behind the application's back, as a DBA with write access could.

    On PostgreSQL the append-only trigger must be bypassed first (superuser only).
    """
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])
        if ON_POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = origin")


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


class ChainTests(TestCase):
    def setUp(self) -> None:
        self.events = [
            record(EventType.ACCESS_DENIED, object_type="test", object_id=str(i)) for i in range(5)
        ]

    def test_whole_chain_verifies_and_counts(self) -> None:
        self.assertIn("5 件の監査記録を検証しました", verify())
        self.assertEqual([e.seq for e in self.events], [1, 2, 3, 4, 5])
        self.assertEqual(self.events[1].prev_hash, self.events[0].row_hash)

    def test_changed_row_is_named(self) -> None:
        tamper("UPDATE audit_auditevent SET object_id = %s WHERE seq = %s", ["changed", 3])
        with self.assertRaisesMessage(CommandError, "連番 3"):
            verify()

    def test_deleted_row_is_found(self) -> None:
        tamper("DELETE FROM audit_auditevent WHERE seq = %s", [2])
        with self.assertRaisesMessage(CommandError, "連番 3"):
            verify()

    def test_inserted_row_is_found(self) -> None:
        # A forged row squeezed in with the next free seq, but a hash made up by the forger.
        tamper("UPDATE audit_auditevent SET seq = seq + 100 WHERE seq >= 4")
        tamper(
            "INSERT INTO audit_auditevent (seq, created_at, event_type, object_type, object_id,"
            " purpose, details, prev_hash, row_hash) SELECT 4, created_at, event_type,"
            " 'forged', 'x', '', details, row_hash, row_hash FROM audit_auditevent WHERE seq = 3"
        )
        tamper("UPDATE audit_auditevent SET seq = seq - 99 WHERE seq >= 104")
        with self.assertRaisesMessage(CommandError, "連番 4"):
            verify()

    def test_reordered_rows_are_found(self) -> None:
        tamper("UPDATE audit_auditevent SET seq = -1 WHERE seq = 2")
        tamper("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
        tamper("UPDATE audit_auditevent SET seq = 3 WHERE seq = -1")
        with self.assertRaisesMessage(CommandError, "連番 2"):
            verify()

    def test_personal_values_are_not_copied(self) -> None:
        event = record(EventType.SIGN_IN_FAILED, details={"username": "someone"})
        self.assertEqual(set(event.details), {"username"})

    @skipUnless(ON_POSTGRES, "the append-only trigger is PostgreSQL's")
    def test_postgres_refuses_update_delete_truncate(self) -> None:
        for sql in (
            "UPDATE audit_auditevent SET purpose = 'x'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
        ):
            with (
                self.subTest(sql=sql),
                self.assertRaises(DatabaseError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
        self.assertEqual(AuditEvent.objects.count(), 5)


class CommandLineTests(TestCase):
    def test_exit_status_is_one_on_a_broken_chain(self) -> None:
        record(EventType.ACCESS_DENIED)
        tamper("UPDATE audit_auditevent SET purpose = 'x' WHERE seq = 1")
        with self.assertRaises(CommandError) as caught:
            verify()
        self.assertEqual(caught.exception.returncode, 1)


@skipUnless(ON_POSTGRES, "four processes need a shared server database")
class ConcurrentAppendTests(JunkaiTransactionTestCase):
    def test_four_processes_append_a_thousand_events_without_forking(self) -> None:
        before = AuditEvent.objects.count()
        db = connection.settings_dict
        auth = f"{db['USER']}:{db['PASSWORD']}@" if db.get("USER") else ""
        host = f"{db['HOST']}:{db['PORT'] or 5432}" if db.get("HOST") else ""
        url = f"postgres://{auth}{host}/{db['NAME']}"
        env = {**os.environ, "DATABASE_URL": url}
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "junkai.audit.tests.append_worker", "250", str(n)],
                env=env,
            )
            for n in range(4)
        ]
        self.assertEqual([w.wait(timeout=300) for w in workers], [0, 0, 0, 0])
        self.assertEqual(AuditEvent.objects.count(), before + 1000)
        self.assertEqual(
            AuditEvent.objects.filter(object_type="stress").values("object_id").distinct().count(),
            1000,
        )
        # available_apps hides the audit app's command here; the chain check itself is the same.
        result = verify_chain()
        self.assertTrue(result.ok, result.reason)
        self.assertEqual(result.checked, before + 1000)
