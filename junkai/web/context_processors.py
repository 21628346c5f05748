from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from junkai.access.roles import administers_a_station, is_hq, may_see_misuse_flags, scope_of
from junkai.org.models import Officer, Role


def junkai(request: HttpRequest) -> dict[str, Any]:
    # Everything here reads the officer's assignments, loaded once per request (the session
    # check needs them) and cached on the officer: the nav costs a page no query.
    user = request.user
    can_admin = administers_a_station(user)
    has_scope = bool(user.is_authenticated and not scope_of(user).empty)
    officer = user if isinstance(user, Officer) else None
    assignments = officer.current_assignments() if officer is not None else []
    has_own_beats = any(a.beats.all() for a in assignments)
    # 地域課長 (station MANAGER) and 交番所長 (INSPECTOR at a post) receive reports.
    has_inbox = any(
        (a.role == Role.MANAGER and a.post_id is None)
        or (a.role == Role.INSPECTOR and a.post_id is not None)
        for a in assignments
    )
    return {
        "junkai_production": settings.PRODUCTION,
        "nav_has_scope": has_scope,
        "nav_has_own_beats": has_own_beats,
        "nav_has_inbox": has_inbox,
        "nav_manages_posts": any(a.role == Role.MANAGER for a in assignments),
        "nav_sees_misuse": officer is not None and may_see_misuse_flags(officer),
        "nav_can_admin_org": can_admin,
        # 進捗状況: the station's chief, 地域課長 and 代理, a 交番所長, HQ (junkai.dashboards).
        "nav_sees_dashboard": officer is not None
        and (
            is_hq(officer)
            or any(
                a.role in (Role.STATION_CHIEF, Role.MANAGER, Role.INSPECTOR) for a in assignments
            )
        ),
    }
