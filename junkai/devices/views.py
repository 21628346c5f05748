"""The conflict page of a card corrected on a device while it was also corrected at the post
(both versions kept; the officer or the custodian chooses), as the card page's own conflict
page shows it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import can_write_post
from junkai.devices import actions
from junkai.devices.access import access_card_conflict
from junkai.households import cards
from junkai.households.access import access_household
from junkai.households.actions import StaleCardError


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def card_conflict(request: AuthenticatedHttpRequest, conflict_id: int) -> HttpResponse:
    officer = request.user
    conflict = access_card_conflict(officer, conflict_id)
    household = conflict.household
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        if choice not in ("device", "current"):
            messages.error(request, "どちらの内容にするかを選んでください。")
            return redirect("device_card_conflict", conflict_id=conflict.id)
        try:
            actions.do_resolve_card_conflict(
                conflict, acting_officer=officer, use_device=choice == "device"
            )
        except (ValidationError, StaleCardError, cards.CardInvalid):
            messages.error(request, "解決できませんでした。最新の内容を確認してください。")
            return redirect("device_card_conflict", conflict_id=conflict.id)
        messages.success(request, "端末の補正の競合を解決しました。")
        return redirect("household", household_id=household.id)
    # The page shows the card as it is now: a read of its own.
    access_household(officer, household.id, purpose="補正の競合確認")
    current = cards.snapshot(conflict.card)
    return render(
        request,
        "devices/card_conflict.html",
        {
            "conflict": conflict,
            "household": household,
            "current_version": conflict.card.version,
            "differences": cards.diff(current, conflict.submitted),
            "latest": conflict.card.revisions.select_related("revised_by")
            .order_by("-version")
            .first(),
            "can_resolve": conflict.resolved_at is None
            and can_write_post(officer, household.post_id),
        },
    )
