"""Appending audit events, and verifying the hash chain over them (seal 0, then the seals)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from junkai.audit import seal
from junkai.audit.canonical import (
    GENESIS,
    body,
    canonical,
    digest,
    keyed,
    reference_bytes,
)
from junkai.audit.models import AuditEvent, AuditEventHousehold, AuditSeal, EventType

__all__ = [
    "GENESIS",
    "VerifyResult",
    "append",
    "canonical",
    "households_digest",
    "households_hold",
    "prepare",
    "record",
    "verify",
]


def prepare(
    event_type: EventType,
    *,
    actor: models.Model | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    station_id: int | None = None,
    purpose: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An event ready to append, not appended: hand it to the `record()` of the change it
    goes with (`along`), or to `append()` on its own."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return AuditEvent(
        created_at=timezone.now(),
        actor_id=actor.pk if actor is not None else None,
        event_type=int(event_type),
        object_type=object_type,
        object_id=str(object_id),
        station_id=station_id,
        purpose=purpose[:200],
        details=json.loads(json.dumps(dict(details or {}), ensure_ascii=False, default=str)),
    )


def record(
    event_type: EventType,
    *,
    actor: models.Model | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    station_id: int | None = None,
    purpose: str = "",
    details: Mapping[str, Any] | None = None,
    household_ids: Iterable[int] | None = None,
    along: Sequence[AuditEvent] = (),
) -> AuditEvent:
    """Append one event. Call inside the transaction of the change it records.

    `household_ids`: the households a print or a list showed. The event gets their count and
    the SHA-256 of the sorted ids (`details["households"]`); one `AuditEventHousehold` row per
    household is written in the same transaction.

    `along`: events prepared earlier in the request (`prepare()`: the read of the household a
    visit is recorded on) appended before this one by the same statement, in this transaction.

    PostgreSQL: a plain insert, no lock; the event is sealed after its transaction commits
    (junkai.audit.seal). SQLite: writers already take turns, so the event is sealed inline.
    """
    ids: list[int] | None = None
    if household_ids is not None:
        ids = sorted({int(i) for i in household_ids})
        details = {**(details or {}), "households": households_digest(ids)}
        if along:
            raise ValueError("an event naming households is appended on its own")
    event = prepare(
        event_type,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        station_id=station_id,
        purpose=purpose,
        details=details,
    )
    _append([*along, event], ids)
    return event


def append(event: AuditEvent) -> AuditEvent:
    """Append an event `prepare()` made, on its own (its change did not happen: the action
    refused, and its transaction rolled back with the event it carried)."""
    event.pk = None
    event._state.adding = True
    _append([event], None)
    return event


_COLUMNS = "created_at, actor_id, event_type, object_type, object_id, station_id, purpose, details"
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s::jsonb)"


def _append(events: list[AuditEvent], ids: list[int] | None) -> None:
    """The events in order, the last with its (event, household) rows."""
    if connection.vendor == "postgresql":
        # One plain INSERT (the hot path of every request): no lock, no ORM compilation. The
        # households a list showed go in by the same statement (one round trip, one atomic
        # statement: the event and its rows stand or fall together), and so do the events
        # prepared to go with this one.
        insert = (
            f"INSERT INTO audit_auditevent ({_COLUMNS}) VALUES "  # noqa: S608 (fixed text)
            + ", ".join([_ROW] * len(events))
            + " RETURNING id"
        )
        params: list[Any] = []
        for event in events:
            params += [
                event.created_at,
                event.actor_id,
                event.event_type,
                event.object_type,
                event.object_id,
                event.station_id,
                event.purpose,
                json.dumps(event.details, ensure_ascii=False),
            ]
        if ids:
            insert = (
                f"WITH e AS ({insert}), h AS (INSERT INTO audit_auditeventhousehold"  # noqa: S608 (fixed text)
                " (event_id, household_id) SELECT e.id, unnest(%s::bigint[]) FROM e)"
                " SELECT id FROM e"
            )
            params.append(ids)
        with connection.cursor() as cursor:
            cursor.execute(insert, params)
            # Rows come back in the order of VALUES (as bulk_create relies on).
            for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
                event.id = pk
                event._state.adding = False
        seal.schedule_seal()
        return
    # SQLite: the events, their seals and the rows stand or fall together; a list inside the
    # caller's transaction (the usual case) takes no savepoint of its own, which would cost
    # two queries a list.
    with transaction.atomic(savepoint=not ids):
        for event in events:
            event.save(force_insert=True)
        seal.seal_inline()
        if ids:
            AuditEventHousehold.objects.bulk_create(
                (AuditEventHousehold(event_id=events[-1].id, household_id=i) for i in ids),
                batch_size=5000,
            )


def households_digest(ids: list[int]) -> dict[str, Any]:
    """What the event keeps of the households it showed (ids sorted ascending)."""
    text = ",".join(str(i) for i in ids)
    return {"count": len(ids), "sha256": hashlib.sha256(text.encode()).hexdigest()}


def households_hold(event: AuditEvent) -> bool:
    """The event's (event, household) rows still match the digest its seal covers."""
    stored = (event.details or {}).get("households")
    ids = list(
        AuditEventHousehold.objects.filter(event_id=event.id)
        .order_by("household_id")
        .values_list("household_id", flat=True)
    )
    return stored == households_digest(ids)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS
    #: Events not sealed yet (their transaction may still be open), of which `overdue` are
    #: older than the alarm threshold.
    unsealed: int = 0
    overdue: int = 0
    oldest_unsealed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """The chain holds (tampering found: False). An overdue seal is `alarm`, apart."""
        return not self.reason

    @property
    def alarm(self) -> bool:
        return self.overdue > 0


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Seals, events and the unsealed count read from one snapshot (PostgreSQL: a read-only
    REPEATABLE READ transaction, so a sealer committing meanwhile changes nothing)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


@dataclass
class _Fault:
    seq: int | None
    event_id: int | None
    reason: str


def _unsealed(now: datetime, overdue_after: timedelta) -> tuple[dict[str, Any], _Fault | None]:
    head = AuditSeal.objects.order_by("-seal_seq").values_list("event_id", "event__xid").first()
    unsealed = AuditEvent.objects.filter(seq__isnull=True).exclude(
        Exists(AuditSeal.objects.filter(event_id=OuterRef("pk")))
    )
    # Every event below the last sealed one in the sealer's order is sealed: one that is not
    # was put there behind the sealer's back (or its seal was removed).
    below: Q | None = None
    if head is not None:
        event_id, xid = head
        if connection.vendor == "postgresql":
            if xid is not None and xid >= seal.next_xid():
                # The head came with a dump from another cluster (see seal._pending): only
                # events of that cluster's ids can lie below it; this cluster's are all above.
                floor = seal.next_xid()
                below = (
                    Q(xid__isnull=True)
                    | Q(xid__gte=floor, xid__lt=xid)
                    | Q(xid=xid, id__lt=event_id)
                )
            elif xid is not None:
                below = Q(xid__isnull=True) | Q(xid__lt=xid) | Q(xid=xid, id__lt=event_id)
        else:
            below = Q(id__lt=event_id)
    elif connection.vendor == "postgresql":
        below = Q(xid__isnull=True)
    stats = unsealed.aggregate(
        count=Count("id"),
        oldest=Min("created_at"),
        overdue=Count("id", filter=Q(created_at__lt=now - overdue_after)),
        forged=Min("id", filter=below) if below is not None else Min("id", filter=Q(pk=None)),
    )
    fault = None
    if stats["forged"] is not None:
        fault = _Fault(
            None,
            stats["forged"],
            "封印済みの範囲に封印のない記録があります（記録の挿入、または封印の削除）",
        )
    return stats, fault


def verify(
    chunk_size: int = 10000,
    anchors: dict[int, str] | None = None,
    *,
    now: datetime | None = None,
    overdue_after: timedelta | None = None,
) -> VerifyResult:
    """Walk the whole chain in order — seal 0 (the events hashed on their own row), then the
    seals — and report the first place that does not hold, and the events not sealed yet.

    `anchors` are (seq → hash) heads recorded outside the database earlier (printed by this
    command, kept on paper or in another system): the chain must still reach each of them with
    the same hash, which catches the removal of the newest rows.
    """
    anchors = dict(anchors or {})
    now = now or timezone.now()
    overdue_after = overdue_after or settings.JUNKAI_AUDIT_UNSEALED_ALARM
    with _one_snapshot():
        stats, fault = _unsealed(now, overdue_after)
        extra = {
            "unsealed": stats["count"],
            "overdue": stats["overdue"],
            "oldest_unsealed_at": stats["oldest"],
        }
        walk = _Walk(anchors)
        columns = seal.event_columns("e")
        fault = (
            walk.run(
                f"SELECT e.seq, e.prev_hash, e.row_hash, e.id, {columns}"  # noqa: S608
                " FROM audit_auditevent e WHERE e.seq IS NOT NULL ORDER BY e.seq",
                sealed=False,
                chunk_size=chunk_size,
            )
            or walk.run(
                f"SELECT s.seal_seq, s.prev_hash, s.row_hash, s.event_id, {columns}"  # noqa: S608
                " FROM audit_auditseal s LEFT JOIN audit_auditevent e ON e.id = s.event_id"
                " ORDER BY s.seal_seq",
                sealed=True,
                chunk_size=chunk_size,
            )
            or fault
        )
    if fault is not None:
        return VerifyResult(walk.checked, fault.seq, fault.event_id, fault.reason, **extra)
    if anchors:
        missing = min(anchors)
        return VerifyResult(
            walk.checked,
            missing,
            None,
            f"控えておいた連番 {missing} の記録がありません（末尾の削除）",
            **extra,
        )
    return VerifyResult(walk.checked, head_seq=walk.expected - 1, head_hash=walk.prev_hash, **extra)


def _prefetched(cursor: Any, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The cursor's chunks, the next one fetched by a thread while this one is hashed: the
    database's work and Python's overlap instead of taking turns."""
    chunks: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def pump() -> None:
        try:
            while not stop.is_set() and (rows := cursor.fetchmany(size)):
                chunks.put(rows)
        except BaseException as exc:  # handed to the reader, raised there
            chunks.put(exc)
        chunks.put(None)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.1)
        thread.join()


class _Walk:
    """The chain walk, kept to plain tuples, orjson and one keyed HMAC copied per row: a
    million events verify in seconds."""

    def __init__(self, anchors: dict[int, str]) -> None:
        self.anchors = anchors
        self.expected = 1
        self.prev_hash = GENESIS
        self.checked = 0

    def run(self, sql: str, *, sealed: bool, chunk_size: int) -> _Fault | None:
        # The OpenSSL HMAC object under the hmac module's wrapper, where there is one: copying
        # it per row is most of the hashing's cost, and the wrapper doubles it.
        key = keyed()
        key = getattr(key, "_hmac", key)
        fix = seal.created_fixer()
        loads, dumps, sort = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS
        anchors = self.anchors
        expected, prev_hash, checked = self.expected, self.prev_hash, self.checked
        fault = None
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql)
            for rows in _prefetched(cursor, chunk_size):
                if fault is not None:
                    break
                for row in rows:
                    seq, prev, row_hash, named_id, event_id, created = row[:6]
                    if seq != expected:
                        fault = _Fault(
                            seq,
                            named_id,
                            f"連番が {expected} であるべきところ {seq} です"
                            "（削除・挿入・並べ替え）",
                        )
                        break
                    if prev != prev_hash:
                        fault = _Fault(seq, named_id, "直前の記録のハッシュと一致しません")
                        break
                    if event_id is None:
                        fault = _Fault(seq, named_id, "封印された記録がありません（削除）")
                        break
                    actor, kind, otype, oid, station, purpose, details = row[6:]
                    created = created if fix is None else fix(created)
                    try:
                        content = {
                            "seq": seq,
                            "created_at": created,
                            "actor": actor,
                            "type": kind,
                            "object_type": otype,
                            "object_id": oid,
                            "station": station,
                            "purpose": purpose,
                            "details": loads(details),
                            "prev": prev,
                        }
                        if sealed:
                            content["id"] = event_id
                        mac = key.copy()
                        mac.update(dumps(content, option=sort))
                        good = mac.hexdigest() == row_hash
                    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
                        good = False
                    if not good and not self._reference_match(row, sealed, key, created):
                        fault = _Fault(
                            seq, named_id, "記録の内容がハッシュと一致しません（改ざん）"
                        )
                        break
                    if anchors and seq in anchors and anchors.pop(seq) != row_hash:
                        fault = _Fault(seq, named_id, "控えておいた先頭のハッシュと一致しません")
                        break
                    prev_hash = row_hash
                    expected += 1
                    checked += 1
        self.expected, self.prev_hash, self.checked = expected, prev_hash, checked
        return fault

    @staticmethod
    def _reference_match(row: tuple[Any, ...], sealed: bool, key: Any, created: str) -> bool:
        """The row again in the reference form (json), for what orjson writes differently."""
        seq, prev, row_hash, _, event_id, _, actor, kind, otype, oid, station, purpose = row[:12]
        content = body(
            seq=seq,
            created_at=created,
            actor_id=actor,
            event_type=kind,
            object_type=otype,
            object_id=oid,
            station_id=station,
            purpose=purpose,
            details=json.loads(row[12]),
            prev_hash=prev,
            event_id=event_id if sealed else None,
        )
        return bool(digest(key, reference_bytes(content)) == row_hash)
