"""様式の印刷・略図 over the API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["documents"])
