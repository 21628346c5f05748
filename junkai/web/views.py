"""Home and the officer's own account page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import administered_stations, managed_posts, own_beats, posts_visible_to
from junkai.accounts import actions as account_actions
from junkai.accounts.models import ApiToken
from junkai.dashboards import pending
from junkai.dashboards.figures import own_figures
from junkai.registers.losses import open_loss_reports_for


@declare_access("signed_in")
@signed_in_view
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    officer = request.user
    assignments = officer.current_assignments()
    posts = posts_visible_to(officer).select_related("station").order_by("station", "code")
    todo_counts = pending.counts(officer)
    return render(
        request,
        "web/home.html",
        {
            "assignments": assignments,
            "visible_posts": posts,
            "own_beats": own_beats(officer).select_related("post"),
            "administered": administered_stations(officer),
            "managed_posts": managed_posts(officer).order_by("code"),
            # My beats' coverage and overdue, my month against plan, my open concerns: counts
            # only, nothing of a resident (junkai.dashboards.figures.own_figures).
            "own_progress": own_figures(officer),
            # 亡失・盗難: open reports that reach this officer (地域課長, 署長, 本部, the post).
            "open_losses": open_loss_reports_for(officer).count(),
            # What waits on me (junkai.dashboards.pending): a count a kind, no resident read.
            "todo_counts": todo_counts,
            "todo_total": sum(n for _, n in todo_counts),
            "todo_reaches": pending.reaches_any(officer),
        },
    )


@declare_access("signed_in")
@signed_in_view
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    officer = request.user
    tokens = ApiToken.objects.filter(officer=officer, revoked_at__isnull=True).order_by(
        "-created_at"
    )
    return render(
        request,
        "web/account.html",
        {
            "has_totp": account_actions.confirmed_device(officer) is not None,
            "tokens": tokens,
        },
    )


@declare_access("signed_in")
@signed_in_view
@require_POST
def account_revoke_token(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    # Only the officer's own tokens: another's id answers like an absent one.
    token = ApiToken.objects.filter(officer=request.user, id=token_id).first()
    if token is not None:
        account_actions.do_revoke_api_token(token, acting_officer=request.user)
        messages.success(request, "APIトークンを失効させました。")
    return redirect("account")
