"""A new password must not be one that breach lists hold: attackers try those first (ASVS
6.2.12). No network is reachable from a police network, so the list ships with Junkai: zxcvbn's
30,000 most common passwords (MIT licence, data/LICENSE-zxcvbn.txt). An operator may point
JUNKAI_BREACHED_PASSWORDS_FILE at a larger list (one per line, plain or .gz)."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

BUNDLED = Path(__file__).resolve().parent / "data" / "breached-passwords.txt.gz"


@cache
def _breached(path: str) -> frozenset[str]:
    opener: Any = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


class BreachedPasswordValidator:
    """AUTH_PASSWORD_VALIDATORS: refuses a password found in the breach list."""

    def validate(self, password: str, user: Any = None) -> None:
        path = getattr(settings, "JUNKAI_BREACHED_PASSWORDS_FILE", "") or str(BUNDLED)
        if password.strip().lower() in _breached(path):
            raise ValidationError(
                "このパスワードは漏えいしたパスワードの一覧にあります。別のパスワードにしてください",
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return "漏えいしたパスワードの一覧にあるものは使えません。"
