"""The one way a funnel refuses and records: a denial answers 404 alike for absent and out of
scope and is audited."""

from __future__ import annotations

from typing import Any

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
