"""The device's offline read log: each entry chained to the one before by SHA-256, so a gap,
a removed entry or a changed one shows when the log is merged at sync.

    hash = SHA-256(prev ‖ "\\n" ‖ JSON{"household_id","purpose","read_at","seq"})

JSON with sorted keys, no spaces, UTF-8; `read_at` exactly as the device wrote it (ISO 8601
with its offset); the first entry's `prev` is `genesis(checkout_id)`. The client computes the
same with `crypto.subtle.digest("SHA-256", …)`; tests/test_readlog.py holds shared vectors."""

from __future__ import annotations

import hashlib
import json


def genesis(checkout_id: int) -> str:
    return hashlib.sha256(f"junkai-read-log/v1/{checkout_id}".encode("ascii")).hexdigest()


def entry_hash(prev: str, *, seq: int, household_id: int, read_at: str, purpose: str) -> str:
    body = json.dumps(
        {"household_id": household_id, "purpose": purpose, "read_at": read_at, "seq": seq},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()
