"""要対応: the one inbox of every decision that waits on the signed-in officer
(junkai.dashboards.pending), and its count for the navigation's badge."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.dashboards import pending


@declare_access("signed_in")
@signed_in_view
@require_GET
def todo(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What waits on me, kind by kind, oldest first, each row a link to where I act. The rows
    name units, dates and officers, never a resident: no household is read here."""
    groups = pending.groups(request.user)
    return render(
        request,
        "dashboards/todo.html",
        {
            "groups": groups,
            "any_empty": any(not g.count for g in groups),
            "reaches_any": bool(groups),
            "total": sum(g.count for g in groups),
        },
    )


@declare_access("signed_in")
@signed_in_view
@require_GET
def todo_count(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The navigation's badge, fetched after the page (htmx), so no page pays for it: the
    number, or nothing when none waits."""
    n = pending.total(request.user)
    return HttpResponse(str(n) if n else "", content_type="text/plain; charset=utf-8")
