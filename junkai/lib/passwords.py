"""Issued passwords: what an administrator hands an officer on paper, to be changed at his
first sign-in (the officers import, a reissue by his manager)."""

from __future__ import annotations

import secrets

#: No 0/O, 1/l/I: it is read off a slip of paper and typed on a tablet.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 14  # 56^14 ≈ 2^81


def issued_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))
