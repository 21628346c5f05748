"""Sealing on PostgreSQL: late commits, two sealers, many writers (each its own connection)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from io import StringIO
from typing import Any
from unittest import skipUnless

import psycopg
from django.core.management import call_command
from django.db import connection

from junkai.audit.chain import verify
from junkai.audit.management.commands.audit_seal import Command as SealCommand
from junkai.audit.models import AuditEvent, AuditSeal
from junkai.audit.seal import COMMAND_LOCK, SEAL_LOCK, seal_pending
from junkai.audit.tests.test_chain import seal_until
from junkai.testing import JunkaiTransactionTestCase, other_connection

ON_POSTGRES = connection.vendor == "postgresql"


def insert_event(conn: psycopg.Connection[Any], label: str) -> int:
    row = conn.execute(
        "INSERT INTO audit_auditevent (created_at, event_type, object_type, object_id, purpose,"
        " details) VALUES (now(), 201, 'late', %s, '', '{}') RETURNING id",
        [label],
    ).fetchone()
    assert row is not None
    return int(row[0])


def seal_of(event_id: int) -> int | None:
    return AuditSeal.objects.filter(event_id=event_id).values_list("seal_seq", flat=True).first()


@skipUnless(ON_POSTGRES, "transaction ids and concurrent sessions are PostgreSQL's")
class LateCommitTests(JunkaiTransactionTestCase):
    def setUp(self) -> None:
        self.a, self.b = other_connection(), other_connection()

    def tearDown(self) -> None:
        self.a.close()
        self.b.close()

    def test_an_event_committed_after_later_ones_were_sealed_is_sealed_not_skipped(self) -> None:
        # B's transaction begins first; A then inserts its event (a lower id than B's) and stays
        # open while B's event commits and is sealed.
        self.b.execute("SELECT pg_current_xact_id()")
        early = insert_event(self.a, "A")
        later = insert_event(self.b, "B")
        self.b.commit()
        self.assertLess(early, later)
        seal_until(lambda: seal_of(later) is not None)
        self.assertIsNone(seal_of(early))  # its transaction is still open
        self.a.commit()
        seal_until(lambda: seal_of(early) is not None)
        self.assertGreater(seal_of(early) or 0, seal_of(later) or 0)
        result = verify()
        self.assertTrue(result.ok, result.reason)
        self.assertEqual(result.unsealed, 0)

    def test_nothing_after_an_open_transaction_is_sealed_before_it(self) -> None:
        early = insert_event(self.a, "A")
        later = insert_event(self.b, "B")
        self.b.commit()
        seal_pending()
        self.assertIsNone(seal_of(later))  # waits for A, which began before it
        self.a.commit()
        seal_until(lambda: seal_of(later) is not None)
        self.assertEqual(seal_of(early), (seal_of(later) or 0) - 1)
        self.assertTrue(verify().ok)

    def test_a_rolled_back_event_leaves_no_gap(self) -> None:
        gone = insert_event(self.a, "A")
        kept = insert_event(self.b, "B")
        self.a.rollback()
        self.b.commit()
        seal_until(lambda: seal_of(kept) is not None)
        self.assertFalse(AuditEvent.objects.filter(id=gone).exists())
        self.assertTrue(verify().ok)


@skipUnless(ON_POSTGRES, "advisory locks are PostgreSQL's")
class TwoSealersTests(JunkaiTransactionTestCase):
    def test_a_sealer_never_waits_for_another(self) -> None:
        other = other_connection()
        try:
            other.execute("SELECT pg_advisory_lock(%s)", [SEAL_LOCK])
            event = insert_event(other, "x")
            other.commit()
            started = time.monotonic()
            self.assertEqual(seal_pending(), 0)
            self.assertLess(time.monotonic() - started, 2)
            self.assertIsNone(seal_of(event))
            other.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK])
            other.commit()
            seal_until(lambda: seal_of(event) is not None)
        finally:
            other.close()

    def test_the_command_started_twice_seals_once(self) -> None:
        other = other_connection()
        try:
            other.execute("SELECT pg_advisory_lock(%s)", [COMMAND_LOCK])
            out = StringIO()
            call_command(SealCommand(), stdout=out)
            self.assertIn("他の audit-seal が封印中です", out.getvalue())
        finally:
            other.close()
        event = insert_event(conn := other_connection(), "y")
        conn.commit()
        conn.close()
        deadline = time.monotonic() + 240
        while seal_of(event) is None and time.monotonic() < deadline:
            out = StringIO()
            call_command(SealCommand(), "--seconds", "5", stdout=out)
            time.sleep(0.2)
        self.assertIsNotNone(seal_of(event))
        self.assertIn("封印:", out.getvalue())


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
        # The workers sealed after their commits; the last ones may wait for the timer.
        stress = AuditEvent.objects.filter(object_type="stress")
        seal_until(lambda: AuditSeal.objects.filter(event__in=stress).count() == 1000)
        # available_apps hides the audit app's command here; the chain check itself is the same.
        result = verify()
        self.assertTrue(result.ok, result.reason)
        self.assertEqual(result.unsealed, 0)
        self.assertEqual(result.checked, AuditSeal.objects.count())
