"""Appending to and verifying the hash chain of AuditEvent."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from junkai.audit.models import AuditEvent, EventType

GENESIS = "0" * 64
# Any fixed 64-bit key: every appender takes this PostgreSQL advisory lock for its transaction.
_PG_LOCK_KEY = 0x4A554E4B4149  # "JUNKAI"


def canonical(
    *,
    seq: int,
    created_at: datetime,
    actor_id: int | None,
    event_type: int,
    object_type: str,
    object_id: str,
    station_id: int | None,
    purpose: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    body = {
        "seq": seq,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "type": event_type,
        "object_type": object_type,
        "object_id": object_id,
        "station": station_id,
        "purpose": purpose,
        "details": details,
        "prev": prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _hash_of(event: AuditEvent) -> str:
    """HMAC-SHA-256 under JUNKAI_AUDIT_KEY: recomputing the chain after a change needs the key."""
    return hmac.new(
        settings.JUNKAI_AUDIT_KEY.encode(),
        canonical(
            seq=event.seq,
            created_at=event.created_at,
            actor_id=event.actor_id,
            event_type=event.event_type,
            object_type=event.object_type,
            object_id=event.object_id,
            station_id=event.station_id,
            purpose=event.purpose,
            details=event.details,
            prev_hash=event.prev_hash,
        ),
        hashlib.sha256,
    ).hexdigest()


def _lock_chain() -> None:
    """Serialise appenders so two transactions never extend the same head (no fork).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the connection opens its
    transactions IMMEDIATE (settings), which already holds the database's write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


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
) -> AuditEvent:
    """Append one event. Call inside the transaction of the change it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    clean_details = json.loads(json.dumps(dict(details or {}), ensure_ascii=False, default=str))
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "row_hash").first()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
        event = AuditEvent(
            seq=seq,
            created_at=timezone.now(),
            actor_id=actor.pk if actor is not None else None,
            event_type=int(event_type),
            object_type=object_type,
            object_id=str(object_id),
            station_id=station_id,
            purpose=purpose[:200],
            details=clean_details,
            prev_hash=prev_hash,
        )
        event.row_hash = _hash_of(event)
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify(chunk_size: int = 5000, anchors: dict[int, str] | None = None) -> VerifyResult:
    """Walk the whole chain in order; report the first event that does not hold.

    `anchors` are (seq → hash) heads recorded outside the database earlier (printed by this
    command, kept on paper or in another system): the chain must still reach each of them with
    the same hash, which catches the removal of the newest rows.
    """
    anchors = dict(anchors or {})
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq", "id").iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            reason = (
                f"連番が {expected_seq} であるべきところ {event.seq} です（削除・挿入・並べ替え）"
            )
            return VerifyResult(checked, event.seq, event.id, reason)
        if event.prev_hash != prev_hash:
            return VerifyResult(checked, event.seq, event.id, "直前の記録のハッシュと一致しません")
        if _hash_of(event) != event.row_hash:
            return VerifyResult(
                checked, event.seq, event.id, "記録の内容がハッシュと一致しません（改ざん）"
            )
        if event.seq in anchors and anchors.pop(event.seq) != event.row_hash:
            return VerifyResult(
                checked, event.seq, event.id, "控えておいた先頭のハッシュと一致しません"
            )
        prev_hash = event.row_hash
        expected_seq += 1
        checked += 1
    if anchors:
        missing = min(anchors)
        return VerifyResult(
            checked, missing, None, f"控えておいた連番 {missing} の記録がありません（末尾の削除）"
        )
    return VerifyResult(checked, head_seq=expected_seq - 1, head_hash=prev_hash)
