"""A database restored from a dump into another cluster (a new server, a restore drill) keeps
its seals' transaction ids, which are the old cluster's: often far ahead of the new cluster's.
The sealer and audit-verify must not compare the two (issue 14)."""

from __future__ import annotations

from unittest import skipUnless

from django.db.models import Exists, OuterRef

from junkai.audit.chain import verify
from junkai.audit.models import AuditEvent, AuditSeal
from junkai.audit.tests.test_chain import seal_until
from junkai.audit.tests.test_seal import ON_POSTGRES, insert_event, seal_of
from junkai.testing import JunkaiTransactionTestCase, other_connection

#: The old cluster was this many transactions ahead of the one the dump is restored into.
AHEAD = 10**12


def unsealed() -> int:
    return (
        AuditEvent.objects.filter(seq__isnull=True)
        .exclude(Exists(AuditSeal.objects.filter(event_id=OuterRef("pk"))))
        .count()
    )


@skipUnless(ON_POSTGRES, "transaction ids are PostgreSQL's")
class RestoredClusterTests(JunkaiTransactionTestCase):
    def test_a_dump_restored_into_a_cluster_behind_it_keeps_sealing(self) -> None:
        with other_connection() as conn:
            insert_event(conn, "old-1")
            insert_event(conn, "old-2")
        seal_until(lambda: unsealed() == 0)
        # The dump as the new cluster sees it: every event's xid the old cluster's (far ahead),
        # and two events that were committed there but not yet sealed when it was taken.
        # (Triggers off for the rewrite, as pg_restore's data load is not a request.)
        with other_connection() as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                "UPDATE audit_auditevent SET xid = xid + %s WHERE xid IS NOT NULL", [AHEAD]
            )
            row = conn.execute("SELECT max(xid) FROM audit_auditevent").fetchone()
            assert row is not None
            restored = [
                int(
                    conn.execute(
                        "INSERT INTO audit_auditevent (created_at, event_type, object_type,"
                        " object_id, purpose, details, xid) VALUES (now(), 201, 'restored', %s,"
                        " '', '{}', %s) RETURNING id",
                        [str(n), row[0] + n],
                    ).fetchone()[0]  # type: ignore[index]
                )
                for n in (1, 2)
            ]
        # This cluster's own events after the restore (its ids are far below the head's).
        with other_connection() as conn:
            local = [insert_event(conn, "new-1"), insert_event(conn, "new-2")]
        before = verify()
        self.assertTrue(before.ok, before.reason)  # waiting for a seal is not an insertion
        self.assertEqual(before.unsealed, 4)

        seal_until(lambda: seal_of(local[-1]) is not None)
        order = [seal_of(i) or 0 for i in [*restored, *local]]
        self.assertEqual(order, sorted(order))  # the dump's first, in their order, then ours
        self.assertEqual(unsealed(), 0)
        after = verify()
        self.assertTrue(after.ok, after.reason)
        # And on: the head is this cluster's again, so sealing goes on as usual.
        with other_connection() as conn:
            more = insert_event(conn, "new-3")
        seal_until(lambda: seal_of(more) is not None)
        self.assertTrue(verify().ok)
