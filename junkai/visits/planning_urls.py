"""Plans, dedicated days, the schedule policy, handover and concern follow-up (planning pages)."""

from __future__ import annotations

urlpatterns: list[object] = []
