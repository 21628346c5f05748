"""Route planning (巡回経路) over the API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["routes"])
