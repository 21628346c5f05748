from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from junkai.access.roles import (
    administers_a_station,
    follows_progress,
    manages_a_post,
    may_see_misuse_flags,
    receives_reports,
    scope_of,
)
from junkai.dashboards import pending
from junkai.org.models import Officer


def junkai(request: HttpRequest) -> dict[str, Any]:
    """The navigation asks the same role predicates the pages and actions enforce, so a link is
    shown exactly to those the page serves. Each reads the officer's assignments, loaded once
    per request (the session check needs them) and cached on the officer: no query."""
    user = request.user
    officer = user if isinstance(user, Officer) and user.is_active else None
    assignments = officer.current_assignments() if officer is not None else []
    own = sorted((b.code, b.id) for a in assignments for b in a.beats.all())
    return {
        "junkai_production": settings.PRODUCTION,
        "nav_has_scope": officer is not None and not scope_of(officer).empty,
        "nav_has_own_beats": bool(own),
        # The bottom bar's 地図: the map of his (first) own beat.
        "nav_map_url": reverse("beat_map", args=[own[0][1]]) if own else "",
        "nav_has_inbox": receives_reports(officer),
        # The link only (no query); its count comes after the page (dashboards.views_pending).
        "nav_has_todo": pending.reaches_any(officer),
        "nav_manages_posts": manages_a_post(officer),
        "nav_sees_misuse": officer is not None and may_see_misuse_flags(officer),
        "nav_can_admin_org": administers_a_station(user),
        "nav_sees_dashboard": follows_progress(officer),
    }
