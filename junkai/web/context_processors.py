from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from junkai import access


def junkai(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    can_admin = bool(user.is_authenticated and access.administered_stations(user).exists())
    return {
        "junkai_production": settings.PRODUCTION,
        "nav_can_admin_org": can_admin,
    }
