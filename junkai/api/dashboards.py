"""進捗状況 over the API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["dashboards"])
