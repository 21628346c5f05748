"""The one way a funnel refuses and a page records what it showed: a denial answers 404 alike
for absent and out of scope and is audited; a read of personal data (one record or a list) goes
to the audit log with its purpose."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import Http404

from junkai.access.roles import unit_scope
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.org.models import Officer


def access_unit_row(officer: Officer, model: Any, object_id: int, label: str) -> Any:
    in_scope = unit_scope(officer)
    found = None if in_scope is None else model.objects.filter(in_scope, id=object_id).first()
    if found is None:
        raise deny(officer, label, object_id)
    return found


def deny(officer: Officer | Any, object_type: str, object_id: object) -> Http404:
    record(
        EventType.ACCESS_DENIED,
        actor=officer if getattr(officer, "is_authenticated", False) else None,
        object_type=object_type,
        object_id=str(object_id)[:64],
    )
    return Http404("見つかりません")


#: The event types of a read: `record_read` records nothing else.
READ_EVENTS = frozenset(
    {
        EventType.READ_HOUSEHOLD,
        EventType.LIST_HOUSEHOLDS,
        EventType.READ_DISCLOSURE,
        EventType.READ_AUDIT_LOG,
        EventType.READ_HANDOVER,
        EventType.READ_REGISTER,
        EventType.READ_DASHBOARD,
        EventType.READ_BEAT_MAP,
        EventType.READ_ACCESS_LOG,
    }
)


def record_read(
    officer: Officer,
    event_type: EventType,
    *,
    purpose: str,
    obj: models.Model | None = None,
    station_id: int | None = None,
    count: int | None = None,
) -> None:
    """Record that a page or API operation showed personal data: one record (`obj`) or a list
    over the officer's scope (no `obj`; `count` rows). Views and API operations record reads
    only through this or a funnel, never by appending to the audit log themselves."""
    if event_type not in READ_EVENTS:
        raise ValueError(f"{event_type!r} is not a read")
    record(
        event_type,
        actor=officer,
        obj=obj,
        object_type="" if obj is not None else "scope",
        station_id=station_id,
        purpose=purpose,
        details={"count": count} if count is not None else {},
    )


def record_refusal(
    officer: Officer,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    station_id: int | None,
    purpose: str,
) -> None:
    """Record a refusal of something in scope that the officer may not do (the 403 cases;
    absent or out of scope is `deny`, a 404)."""
    record(
        EventType.ACCESS_DENIED,
        actor=officer,
        obj=obj,
        object_type=object_type,
        station_id=station_id,
        purpose=purpose,
    )
