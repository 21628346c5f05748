"""The bytes an audit hash covers, and the keyed hash over them.

The reference form is `json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))`,
as every existing `row_hash` was made with it. orjson writes the same bytes ~10× faster except
for floats below 1e-4 (json `1e-05`, orjson `0.00001`; see test_canonical), so the verifier
tries orjson first and, for a row whose hash does not match, the reference form; a writer
always uses the reference form. Both parse back to the same value, so accepting either never
lets one content pass for another.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings

GENESIS = "0" * 64

_REFERENCE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def iso(created_at: datetime) -> str:
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def body(
    *,
    seq: int,
    created_at: str,
    actor_id: int | None,
    event_type: int,
    object_type: str,
    object_id: str,
    station_id: int | None,
    purpose: str,
    details: Any,
    prev_hash: str,
    event_id: int | None,
) -> dict[str, Any]:
    """The hashed content. `event_id` is None for seal 0 (the rows hashed before seals, whose
    hash did not cover the id) and the event's id for a sealed event."""
    content = {
        "seq": seq,
        "created_at": created_at,
        "actor": actor_id,
        "type": event_type,
        "object_type": object_type,
        "object_id": object_id,
        "station": station_id,
        "purpose": purpose,
        "details": details,
        "prev": prev_hash,
    }
    if event_id is not None:
        content["id"] = event_id
    return content


def reference_bytes(content: Mapping[str, Any]) -> bytes:
    return _REFERENCE.encode(content).encode()


def fast_bytes(content: Mapping[str, Any]) -> bytes:
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


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
    event_id: int | None = None,
) -> bytes:
    return reference_bytes(
        body(
            seq=seq,
            created_at=iso(created_at),
            actor_id=actor_id,
            event_type=event_type,
            object_type=object_type,
            object_id=object_id,
            station_id=station_id,
            purpose=purpose,
            details=details,
            prev_hash=prev_hash,
            event_id=event_id,
        )
    )


def keyed() -> Any:
    """HMAC-SHA-256 under JUNKAI_AUDIT_KEY, ready to `.copy()` per row (the key's pads are
    hashed once): recomputing the chain after a change needs the key."""
    return hmac.new(settings.JUNKAI_AUDIT_KEY.encode(), digestmod=hashlib.sha256)


def digest(key: Any, data: bytes) -> str:
    mac = key.copy()
    mac.update(data)
    return str(mac.hexdigest())
