"""The audit log's hash chain: seal 0, the seals, `junkai audit-verify`, tampering, the alarm."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable
from io import StringIO
from typing import Any, ClassVar
from unittest import skipUnless

import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import TestCase
from django.utils import timezone

from junkai.audit.canonical import GENESIS, canonical, fast_bytes, reference_bytes
from junkai.audit.chain import record
from junkai.audit.chain import verify as verify_chain
from junkai.audit.models import AuditEvent, AuditSeal, EventType
from junkai.audit.seal import seal_after_commit, seal_pending

ON_POSTGRES = connection.vendor == "postgresql"


def tamper(sql: str, params: list[str | int] | None = None) -> None:
    """Change the tables behind the application's back, as a DBA with write access could.

    On PostgreSQL the append-only and xid triggers must be bypassed first (superuser only).
    """
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])
        if ON_POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = origin")


def verify(*anchors: str) -> str:
    out = StringIO()
    args = [a for anchor in anchors for a in ("--anchor", anchor)]
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def seal_until(done: Callable[[], bool], timeout: float = 240) -> None:
    """Seal until `done`. On PostgreSQL a seal waits for every older transaction in the
    cluster to end (other test processes' included), so this may take a few passes."""
    deadline = time.monotonic() + timeout
    while True:
        seal_pending()
        if done():
            return
        if time.monotonic() > deadline:
            raise AssertionError("封印されないまま: クラスタの古いトランザクションが終わりません")
        time.sleep(0.2)


def sealed(*events: AuditEvent) -> Callable[[], bool]:
    ids = [e.id for e in events]
    return lambda: AuditSeal.objects.filter(event_id__in=ids).count() == len(ids)


class ChainTests(TestCase):
    def setUp(self) -> None:
        self.events = [
            record(EventType.ACCESS_DENIED, object_type="test", object_id=str(i)) for i in range(5)
        ]
        seal_until(sealed(*self.events))
        self.seals = [AuditSeal.objects.get(event=e) for e in self.events]

    # Browser tests commit audit rows that outlive their test (the tables are append-only),
    # so chain positions are taken relative to this test's own first event.
    def seq(self, n: int) -> int:
        return self.seals[n - 1].seal_seq

    def test_whole_chain_verifies_and_counts(self) -> None:
        total = AuditSeal.objects.count() + AuditEvent.objects.filter(seq__isnull=False).count()
        out = verify()
        self.assertIn(f"{total} 件の監査記録を検証しました", out)
        self.assertIn("未封印: 0 件", out)
        self.assertEqual([s.seal_seq for s in self.seals], [self.seq(1) + n for n in range(5)])
        self.assertEqual(self.seals[1].prev_hash, self.seals[0].row_hash)
        # The events themselves carry no chain position: the seals do.
        self.assertEqual(AuditEvent.objects.get(id=self.events[0].id).chain_seq, self.seq(1))
        self.assertIsNone(self.events[0].seq)

    def test_changed_event_is_named(self) -> None:
        tamper(
            "UPDATE audit_auditevent SET object_id = %s WHERE id = %s",
            ["changed", self.events[2].id],
        )
        with self.assertRaisesMessage(CommandError, f"連番 {self.seq(3)} (id {self.events[2].id})"):
            verify()

    def test_changed_seal_is_named(self) -> None:
        tamper(
            "UPDATE audit_auditseal SET row_hash = %s WHERE seal_seq = %s", ["f" * 64, self.seq(2)]
        )
        with self.assertRaisesMessage(CommandError, f"連番 {self.seq(2)}"):
            verify()

    def test_deleted_event_is_found(self) -> None:
        tamper("DELETE FROM audit_auditevent WHERE id = %s", [self.events[1].id])
        with self.assertRaisesMessage(CommandError, "封印された記録がありません（削除）"):
            verify()

    def test_deleted_seal_is_found(self) -> None:
        tamper("DELETE FROM audit_auditseal WHERE seal_seq = %s", [self.seq(2)])
        with self.assertRaisesMessage(CommandError, f"連番 {self.seq(3)}"):
            verify()

    def test_inserted_event_is_found(self) -> None:
        # An event slipped in among the sealed ones (the sealer will never reach it).
        tamper(
            "INSERT INTO audit_auditevent (id, created_at, event_type, object_type, object_id,"
            " purpose, details, xid) SELECT (SELECT min(id) FROM audit_auditevent) - 1,"
            " created_at, event_type, 'forged', 'x', '', details, 1"
            " FROM audit_auditevent WHERE id = %s",
            [self.events[2].id],
        )
        with self.assertRaisesMessage(CommandError, "封印済みの範囲に封印のない記録があります"):
            verify()

    def test_inserted_seal_is_found(self) -> None:
        # A forged seal squeezed in with the next free seq, but a hash made up by the forger.
        four = self.seq(4)
        tamper("UPDATE audit_auditseal SET seal_seq = seal_seq + 100 WHERE seal_seq >= %s", [four])
        forged = AuditEvent.objects.create(
            created_at=timezone.now(), event_type=EventType.ACCESS_DENIED, object_type="forged"
        )
        tamper(
            "INSERT INTO audit_auditseal (seal_seq, event_id, prev_hash, row_hash)"
            " SELECT %s, %s, row_hash, row_hash FROM audit_auditseal WHERE seal_seq = %s",
            [four, forged.id, four - 1],
        )
        tamper(
            "UPDATE audit_auditseal SET seal_seq = seal_seq - 99 WHERE seal_seq >= %s", [four + 100]
        )
        with self.assertRaisesMessage(CommandError, f"連番 {four}"):
            verify()

    def test_reordered_seals_are_found(self) -> None:
        a, b = self.events[1].id, self.events[2].id
        tamper("UPDATE audit_auditseal SET event_id = -1 WHERE event_id = %s", [a])
        tamper("UPDATE audit_auditseal SET event_id = %s WHERE event_id = %s", [a, b])
        tamper("UPDATE audit_auditseal SET event_id = %s WHERE event_id = -1", [b])
        with self.assertRaisesMessage(CommandError, f"連番 {self.seq(2)}"):
            verify()

    def test_reordered_events_are_found(self) -> None:
        # The rows trade ids: each seal now names the other's content.
        a, b = self.events[1].id, self.events[2].id
        tamper("UPDATE audit_auditevent SET id = -1 WHERE id = %s", [a])
        tamper("UPDATE audit_auditevent SET id = %s WHERE id = %s", [a, b])
        tamper("UPDATE audit_auditevent SET id = %s WHERE id = -1", [b])
        with self.assertRaisesMessage(CommandError, f"連番 {self.seq(2)}"):
            verify()

    def test_truncated_tail_is_found_with_an_anchor(self) -> None:
        head = verify().splitlines()[-1].removeprefix("先頭: ")
        self.assertEqual(head, f"{self.seq(5)}:{self.seals[4].row_hash}")
        tail: list[str | int] = [e.id for e in self.events[3:]]
        tamper("DELETE FROM audit_auditseal WHERE seal_seq >= %s", [self.seq(4)])
        tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", tail)
        verify()  # alone, a shorter chain still holds together
        with self.assertRaisesMessage(CommandError, f"連番 {self.seq(5)} の記録がありません"):
            verify(head)

    def test_a_rewrite_without_the_key_is_found(self) -> None:
        # A forger with the database but not JUNKAI_AUDIT_KEY recomputes plain SHA-256s.
        event, five = self.events[4], self.seq(5)
        forged = hashlib.sha256(
            canonical(
                seq=five, created_at=event.created_at, actor_id=None, event_type=event.event_type,
                object_type="forged", object_id=event.object_id, station_id=None, purpose="",
                details=event.details, prev_hash=self.seals[4].prev_hash, event_id=event.id,
            )
        ).hexdigest()  # fmt: skip
        tamper("UPDATE audit_auditevent SET object_type = 'forged' WHERE id = %s", [event.id])
        tamper("UPDATE audit_auditseal SET row_hash = %s WHERE seal_seq = %s", [forged, five])
        with self.assertRaisesMessage(CommandError, f"連番 {five}"):
            verify()

    @skipUnless(ON_POSTGRES, "the append-only triggers are PostgreSQL's")
    def test_postgres_refuses_update_delete_truncate(self) -> None:
        for sql in (
            "UPDATE audit_auditevent SET purpose = 'x'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
            "UPDATE audit_auditseal SET row_hash = 'x'",
            "DELETE FROM audit_auditseal",
            "TRUNCATE audit_auditseal",
        ):
            with (
                self.subTest(sql=sql),
                self.assertRaises(DatabaseError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
        self.assertEqual(AuditSeal.objects.filter(event__object_type="test").count(), 5)

    @skipUnless(ON_POSTGRES, "the xid is PostgreSQL's")
    def test_the_writer_cannot_choose_its_transaction_id(self) -> None:
        event = AuditEvent.objects.create(
            created_at=timezone.now(), event_type=EventType.ACCESS_DENIED, xid=1
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            (xid,) = cursor.fetchone()
        self.assertEqual(AuditEvent.objects.get(id=event.id).xid, xid)


class UnsealedTests(TestCase):
    """An event waits for its seal a little; one left unsealed too long is an alarm."""

    def unsealed_event(self, age: dt.timedelta) -> AuditEvent:
        # Written as record() does on PostgreSQL, without the seal that follows its commit.
        seal_until(lambda: not self.pending())
        return AuditEvent.objects.create(
            created_at=timezone.now() - age, event_type=EventType.ACCESS_DENIED, object_type="wait"
        )

    def pending(self) -> bool:
        return (
            AuditEvent.objects.filter(seq__isnull=True)
            .exclude(id__in=AuditSeal.objects.values("event_id"))
            .exists()
        )

    def test_a_recent_unsealed_event_is_reported(self) -> None:
        self.unsealed_event(dt.timedelta(seconds=10))
        self.assertIn("未封印: 1 件", verify())
        result = verify_chain()
        self.assertEqual((result.ok, result.unsealed, result.alarm), (True, 1, False))

    def test_an_old_unsealed_event_fails_verification(self) -> None:
        self.unsealed_event(settings.JUNKAI_AUDIT_UNSEALED_ALARM + dt.timedelta(minutes=1))
        with self.assertRaisesMessage(CommandError, "封印されていない監査記録が 5 分を超えて 1 件"):
            verify()
        self.assertTrue(verify_chain().ok)  # the chain itself holds
        seal_until(lambda: not self.pending())
        verify()

    def test_the_commit_hook_is_registered_once_per_transaction(self) -> None:
        if not ON_POSTGRES:
            with self.captureOnCommitCallbacks() as hooks:
                record(EventType.ACCESS_DENIED)
            self.assertEqual(hooks, [])  # SQLite seals inline
            self.assertTrue(AuditSeal.objects.filter(event__event_type=201).exists())
            return
        with self.captureOnCommitCallbacks() as hooks, transaction.atomic():
            for _ in range(3):
                record(EventType.ACCESS_DENIED)
        self.assertEqual(hooks, [seal_after_commit])


class SealZeroTests(TestCase):
    """Today's chain is seal 0: events hashed on their own row before the seals stay as they
    are, and the seals continue from their head."""

    def legacy_append(self, n: int) -> AuditEvent:
        # How record() wrote every event before the seals (the hash on the row, no id in it).
        head = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").first()
        seq, prev = (head.seq + 1, head.row_hash or "") if head and head.seq else (1, GENESIS)
        event = AuditEvent(
            seq=seq,
            created_at=timezone.now(),
            event_type=EventType.ACCESS_DENIED,
            object_type="legacy",
            object_id=str(n),
            details={"n": n, "名前": "巡回"},
            prev_hash=prev,
        )
        event.row_hash = hmac.new(
            settings.JUNKAI_AUDIT_KEY.encode(),
            canonical(
                seq=seq, created_at=event.created_at, actor_id=None, event_type=201,
                object_type="legacy", object_id=str(n), station_id=None, purpose="",
                details=event.details, prev_hash=prev,
            ),
            hashlib.sha256,
        ).hexdigest()  # fmt: skip
        event.save(force_insert=True)
        return event

    def setUp(self) -> None:
        if AuditSeal.objects.exists() or AuditEvent.objects.exists():
            self.skipTest("seal 0 comes before any seal; this database already has events")
        self.legacy = [self.legacy_append(n) for n in range(3)]

    def test_seals_continue_from_the_head_of_seal_zero(self) -> None:
        self.assertIn("OK: 3 件", verify())
        new = [record(EventType.ACCESS_DENIED, object_type="new") for _ in range(2)]
        seal_until(sealed(*new))
        first = AuditSeal.objects.get(event=new[0])
        self.assertEqual((first.seal_seq, first.prev_hash), (4, self.legacy[2].row_hash))
        out = verify()
        self.assertIn("OK: 5 件", out)
        self.assertEqual(
            out.splitlines()[-1], f"先頭: 5:{AuditSeal.objects.get(seal_seq=5).row_hash}"
        )
        verify(f"3:{self.legacy[2].row_hash}")

    def test_a_changed_event_of_seal_zero_is_found(self) -> None:
        new = record(EventType.ACCESS_DENIED, object_type="new")
        seal_until(sealed(new))
        tamper("UPDATE audit_auditevent SET purpose = 'x' WHERE seq = 2")
        with self.assertRaisesMessage(CommandError, "連番 2"):
            verify()

    def test_a_rewritten_head_of_seal_zero_breaks_the_first_seal(self) -> None:
        new = record(EventType.ACCESS_DENIED, object_type="new")
        seal_until(sealed(new))
        tamper("DELETE FROM audit_auditevent WHERE seq = 3")
        with self.assertRaisesMessage(CommandError, "連番 4"):
            verify()


class CanonicalFormTests(TestCase):
    """orjson writes the reference bytes (json.dumps sorted, ensure_ascii=False, compact), which
    every existing hash was made over — except small floats, which the verifier re-checks."""

    TRICKY: ClassVar[list[dict[str, Any]]] = [
        {
            "名前": "巡回 連絡",
            "ｶﾅ": "ｼﾞｭﾝｶｲ",
            "emoji": "😀",
            "nested": {"b": [1, {"z": None}], "a": True},
        },
        {"quote": 'a"b\\c', "control": "\x00\x1f\n\t\x7f", "sep": "\u2028\u2029"},
        {"floats": [0.1, 1.0, -0.0, 33.2382, 131.61, 1e15, 1e16, 1.5e300, 0.0001]},
        {"keys": {"B": 1, "a": 2, "é": 3, "あ": 4, "Ａ": 5, "": 6, "10": 7, "9": 8}},
        {"ints": [0, -1, 2**53, 2**63 - 1]},
    ]

    def test_orjson_writes_the_reference_bytes(self) -> None:
        for details in self.TRICKY:
            with self.subTest(details=details):
                self.assertEqual(fast_bytes(details), reference_bytes(details))

    def test_small_floats_differ_and_still_verify(self) -> None:
        self.assertNotEqual(fast_bytes({"f": 1e-05}), reference_bytes({"f": 1e-05}))
        events = [
            record(EventType.ACCESS_DENIED, object_type="tricky", details=d)
            # PostgreSQL's jsonb refuses \u0000; everything else goes through the database.
            for d in [
                self.TRICKY[0],
                {"text": 'a"b\\c\x01\x1f\n\t\x7f\u2028'},
                *self.TRICKY[2:],
                {"f": 1e-05, "g": [2.5e-7]},
                {"big": 2**70},
            ]
        ]
        seal_until(sealed(*events))
        self.assertTrue(verify_chain().ok)

    def test_whole_second_timestamps_verify(self) -> None:
        # The database writes the hashed time itself; a zero fraction must still read ".000000".
        with time_machine.travel(dt.datetime(2026, 4, 1, 9, 0, 0, tzinfo=dt.UTC), tick=False):
            event = record(EventType.ACCESS_DENIED, object_type="second")
        seal_until(sealed(event))
        self.assertTrue(verify_chain().ok)
