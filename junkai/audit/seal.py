"""The sealer: gives committed events their place in the hash chain, after their commit.

Writers only insert events (junkai.audit.chain.record) and never wait for one another. One
sealer at a time — whoever takes a non-blocking advisory lock: a request's commit hook, or the
`junkai audit-seal` timer — seals pending events in (xid, id) order, and only those whose
transaction id lies below the oldest transaction still open in the cluster
(`pg_snapshot_xmin(pg_current_snapshot())`). Every transaction below that line has ended, and
none can start below it again, so what is sealed is always every committed event below a line
that only moves up: an event whose transaction commits late lies above the line until it
commits, and is sealed then, never skipped. The sealed order is (xid, id), not id: a
transaction that inserted first may be sealed after one that began before it. (The line
counts the sealer's own transaction too; when that is the oldest open one, its own events are
sealed with it — they commit or roll back together. Tests rely on this.)

SQLite writers already serialise (IMMEDIATE transactions), so there `record()` seals its event
inline, in its own transaction, in id order.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models.expressions import RawSQL

from junkai.audit.canonical import GENESIS, body, digest, keyed, reference_bytes
from junkai.audit.models import AuditEvent, AuditSeal

logger = logging.getLogger(__name__)

# Fixed 64-bit keys of PostgreSQL advisory locks: one sealer at a time, one `audit-seal` command.
SEAL_LOCK = 0x4A554E4B4153  # "JUNKAS"
COMMAND_LOCK = 0x4A554E4B4143  # "JUNKAC"
#: A request's commit hook seals at most this many events; the timer takes the rest.
HOOK_LIMIT = 500
#: …and a process tries at most once in this many seconds: under load one pass seals what
#: many requests wrote, and the others skip the round trips. At a quiet moment what a skipped
#: hook left waits for the next request or the timer (the alarm is minutes away). A pass is
#: five statements on the request's connection: at 0.05 s nearly every request of a busy
#: worker paid them (bench/load.py); at 0.5 s events are still sealed within a second.
HOOK_INTERVAL = 0.5
_last_hook = [0.0]


class SealError(Exception):
    pass


def event_columns(alias: str) -> str:
    """id, created_at (ISO, UTC, microseconds), actor, type, object type and id, station,
    purpose, details (JSON text): what a hash covers besides its chain position."""
    if connection.vendor == "postgresql":
        created = (
            f"to_char({alias}.created_at AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')'
        )
        details = f"{alias}.details::text"
    else:
        created, details = f"{alias}.created_at", f"{alias}.details"
    return (
        f"{alias}.id, {created}, {alias}.actor_id, {alias}.event_type, {alias}.object_type, "
        f"{alias}.object_id, {alias}.station_id, {alias}.purpose, {details}"
    )


def _sqlite_iso(value: datetime | str) -> str:
    # Django keeps SQLite datetimes as naive UTC (its connection parses them back to datetime).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC).isoformat(timespec="microseconds")


def created_fixer() -> Callable[[Any], str] | None:
    """How a fetched created_at becomes the hashed ISO text (None: already is)."""
    return None if connection.vendor == "postgresql" else _sqlite_iso


NEXT_XID = "pg_snapshot_xmax(pg_current_snapshot())::text::bigint"


def _head() -> tuple[int, str, tuple[int, int], bool]:
    """(last seq, its hash, the (xid, id) after which pending events lie, whether that xid is
    another cluster's: see _pending)."""
    seals = AuditSeal.objects.order_by("-seal_seq")
    if connection.vendor == "postgresql":
        # In the same round trip: the first transaction id this cluster has not given out.
        seals = seals.annotate(next_xid=RawSQL(NEXT_XID, []))  # noqa: S611 (fixed text)
    seal = seals.values_list(
        "seal_seq", "row_hash", "event_id", "event__xid", "event__seq",
        *(["next_xid"] if connection.vendor == "postgresql" else []),
    ).first()  # fmt: skip
    if seal is None:
        legacy = (
            AuditEvent.objects.filter(seq__isnull=False)
            .order_by("-seq")
            .values_list("seq", "row_hash")
            .first()
        )
        seq, row_hash = legacy if legacy else (0, GENESIS)
        return seq or 0, row_hash or "", (-1, -1), False
    seal_seq, row_hash, event_id, xid, *rest = seal
    if connection.vendor == "postgresql" and xid is None:
        raise SealError(f"封印 {seal_seq} の監査記録 (id {event_id}) がありません")
    # A committed event of this cluster has an id below what it has given out, always.
    foreign = bool(rest) and xid is not None and xid >= rest[-1]
    return seal_seq, row_hash, (xid if xid is not None else -1, event_id), foreign


def next_xid() -> int:
    """The first transaction id this cluster has not yet given out (xid8: 64 bits with its
    epoch, so it never wraps around)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {NEXT_XID}")
        return int(cursor.fetchone()[0])


def _pending(after: tuple[int, int], limit: int, *, foreign: bool) -> list[tuple[Any, ...]]:
    columns = event_columns("e")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and foreign:
            # The last seal's event was written by another cluster: this database was restored
            # from a dump (pg_dump/pg_restore) into a cluster whose transaction ids are behind
            # the old one's. No event of this cluster can compare with those ids. Every event
            # whose id lies above what this cluster has given out came with the dump, committed:
            # they are sealed first, in their old order. Then this cluster's own events, from
            # the start of its ids (its first seal makes the head this cluster's again).
            cursor.execute(
                "WITH b AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax)"  # noqa: S608 (fixed columns)
                f" SELECT {columns} FROM audit_auditevent e, b"
                " WHERE e.seq IS NULL AND e.xid >= b.xmax AND (e.xid, e.id) > (%s, %s)"
                " ORDER BY e.xid, e.id LIMIT %s",
                [after[0], after[1], limit],
            )
            restored = list(cursor.fetchall())
            if restored:
                return restored
            after = (-1, -1)
        if connection.vendor == "postgresql":
            # xmin counts this transaction too: its own events are sealable here only when it
            # is the oldest still open (they then commit, or roll back, with their seals).
            cursor.execute(
                "WITH b AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,"  # noqa: S608 (fixed columns)
                " pg_current_xact_id_if_assigned()::text::bigint AS own)"
                f" SELECT {columns} FROM audit_auditevent e, b"
                " WHERE e.seq IS NULL AND e.xid IS NOT NULL AND (e.xid, e.id) > (%s, %s)"
                " AND (e.xid < b.xmin OR (e.xid = b.own AND b.own = b.xmin))"
                " ORDER BY e.xid, e.id LIMIT %s",
                [after[0], after[1], limit],
            )
        else:
            cursor.execute(
                f"SELECT {columns} FROM audit_auditevent e"  # noqa: S608 (fixed columns)
                " WHERE e.seq IS NULL AND e.id > %s ORDER BY e.id LIMIT %s",
                [after[1], limit],
            )
        return list(cursor.fetchall())


def seal_rows(rows: Sequence[tuple[Any, ...]], seq: int, prev_hash: str) -> list[AuditSeal]:
    """Seals for `rows` (as `event_columns` fetches them), continuing after (seq, prev_hash)."""
    fix = created_fixer()
    key = keyed()
    seals = []
    for event_id, created, actor, kind, otype, oid, station, purpose, details in rows:
        seq += 1
        row_hash = digest(
            key,
            reference_bytes(
                body(
                    seq=seq,
                    created_at=fix(created) if fix else created,
                    actor_id=actor,
                    event_type=kind,
                    object_type=otype,
                    object_id=oid,
                    station_id=station,
                    purpose=purpose,
                    details=json.loads(details),
                    prev_hash=prev_hash,
                    event_id=event_id,
                )
            ),
        )
        seals.append(
            AuditSeal(seal_seq=seq, event_id=event_id, prev_hash=prev_hash, row_hash=row_hash)
        )
        prev_hash = row_hash
    return seals


def _try_lock(key: int, *, xact: bool) -> bool:
    with connection.cursor() as cursor:
        fn = "pg_try_advisory_xact_lock" if xact else "pg_try_advisory_lock"
        cursor.execute(f"SELECT {fn}(%s)", [key])
        return bool(cursor.fetchone()[0])


def seal_pending(*, limit: int | None = None, batch: int = 1000) -> int:
    """Seal what can be sealed now, in batches of `batch`, at most `limit`; return how many.

    Never waits: if another sealer holds the lock it returns 0 at once (that one seals).
    """
    total = 0
    while limit is None or total < limit:
        size = batch if limit is None else min(batch, limit - total)
        with transaction.atomic():
            if connection.vendor == "postgresql" and not _try_lock(SEAL_LOCK, xact=True):
                return total
            seq, prev_hash, after, foreign = _head()
            rows = _pending(after, size, foreign=foreign)
            if rows:
                AuditSeal.objects.bulk_create(seal_rows(rows, seq, prev_hash))
        total += len(rows)
        if len(rows) < size:
            break
    return total


def seal_inline() -> None:
    """SQLite: seal in the writer's own transaction, which already holds the write lock."""
    seq, prev_hash, after, foreign = _head()
    rows = _pending(after, 1000, foreign=foreign)
    if rows:
        AuditSeal.objects.bulk_create(seal_rows(rows, seq, prev_hash))


def seal_after_commit() -> None:
    """A request's commit hook: seal if nobody else is, never fail the request that committed."""
    now = time.monotonic()
    if now - _last_hook[0] < HOOK_INTERVAL:
        return
    _last_hook[0] = now
    try:
        seal_pending(limit=HOOK_LIMIT)
    except Exception:
        logger.exception("監査記録の封印に失敗しました（audit-seal が後で封印します）")


def schedule_seal() -> None:
    """Seal once after the current transaction commits (once, however many events it wrote)."""
    if any(entry[1] is seal_after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(seal_after_commit)


class CommandLock:
    """Held by one `junkai audit-seal` at a time (a session lock, released on exit)."""

    def __enter__(self) -> bool:
        self.held = connection.vendor != "postgresql" or _try_lock(COMMAND_LOCK, xact=False)
        return self.held

    def __exit__(self, *exc: object) -> None:
        if self.held and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [COMMAND_LOCK])
