from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from junkai import access


def junkai(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    can_admin = bool(user.is_authenticated and access.administered_stations(user).exists())
    has_scope = bool(user.is_authenticated and not access.scope_of(user).empty)
    return {
        "junkai_production": settings.PRODUCTION,
        "nav_has_scope": has_scope,
        "nav_can_admin_org": can_admin,
    }
