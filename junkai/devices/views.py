"""Pages of devices: the conflict page of a card corrected on a device while it was also
corrected at the post (both versions kept; the officer or the custodian chooses), as the card
page's own conflict page shows it; and the 亡失・盗難 report of a device (the binders' form and
report, junkai.registers.views_losses); and the keeper's 端末の登録 and 使用停止 (the same
actions as the API's)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.records import record_refusal
from junkai.access.roles import can_write_post, keeps_post
from junkai.access.units import access_register_post, record_register_read
from junkai.devices import actions
from junkai.devices.access import access_card_conflict, access_device
from junkai.devices.forms import DeviceForm, RevokeForm
from junkai.households import cards
from junkai.households.access import access_household
from junkai.households.actions import StaleCardError
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors
from junkai.registers.views_losses import loss_form_page


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


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def device_loss_new(request: AuthenticatedHttpRequest, device_id: int) -> HttpResponse:
    """端末の亡失・盗難の報告: by the officer who has it out, or its keepers. The same report
    as a binder's; the households are those the device pulled while out."""
    officer = request.user
    device = access_device(officer, device_id)
    post = device.post
    refusal = actions.loss_reporter_refusal(officer, device)
    if refusal is not None:
        record_refusal(officer, device, station_id=post.station_id, purpose="亡失・盗難の報告")
        raise PermissionDeniedError(refusal)
    if request.method == "GET":
        record_register_read(officer, post=post, purpose="亡失・盗難の報告", obj=device)

    def held() -> str:
        checkouts = actions.held_checkouts(device)
        count = len(actions.households_held(checkouts))
        beats = "、".join(c.beat.name for c in checkouts)
        if not checkouts:
            return "この端末は受持区を持ち出していません（対象世帯なし）。"
        return f"この端末は受持区 {beats} を持ち出しています（同期した世帯 {count} 世帯）。"

    return loss_form_page(
        request,
        post=post,
        subject=str(device),
        earlier=actions.lost_device_report(device),
        report=lambda facts: actions.do_report_device_loss(device, acting_officer=officer, **facts),
        reported=f"{device} の亡失・盗難を報告しました。端末の持出しを取り消しました"
        "（次の接続で端末内のデータを消去します）。地域課長・署長・本部に通知されます。",
        held=held,
    )


#: Who registers and takes devices out of use (devices.actions checks it again).
KEEPERS_ONLY = "{what}は取扱責任者、交番所長または管理責任者が行います"


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def device_new(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    """端末の登録: a tablet the post's officers may take its beats out on."""
    officer = request.user
    post = access_register_post(officer, post_id, purpose="端末の登録", record_read=False)
    if not keeps_post(officer, post):
        record_refusal(officer, post, station_id=post.station_id, purpose="端末の登録")
        raise PermissionDeniedError(KEEPERS_ONLY.format(what="端末の登録"))
    form = DeviceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                device = actions.do_register_device(
                    post, acting_officer=officer, label=form.cleaned_data["label"]
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"端末「{device.label}」を登録しました。")
                return redirect(f"{reverse('register_post', args=[post.id])}#device-{device.id}")
    return render(request, "devices/device_form.html", {"post": post, "form": form}, status=status)


@declare_access("scoped")
@signed_in_view
@require_http_methods(["GET", "POST"])
def device_revoke(request: AuthenticatedHttpRequest, device_id: int) -> HttpResponse:
    """端末の使用停止 (retired or broken): its checkout, if out, is revoked with it and the
    device wipes itself at its next contact. Lost or stolen is a 亡失・盗難 report instead,
    which the page offers first."""
    officer = request.user
    device = access_device(officer, device_id)
    post = device.post
    if not keeps_post(officer, post):
        record_refusal(officer, device, station_id=post.station_id, purpose="端末の使用停止")
        raise PermissionDeniedError(KEEPERS_ONLY.format(what="端末の使用停止"))
    out = actions.open_checkouts(device)
    form = RevokeForm(request.POST or None)
    status = 200
    if device.revoked_at is not None:
        messages.info(request, f"端末「{device.label}」は既に使用停止されています。")
        return redirect(f"{reverse('register_post', args=[post.id])}#device-{device.id}")
    if request.method == "GET":
        record_register_read(officer, post=post, purpose="端末の使用停止", obj=device)
    else:
        status = 422
        if form.is_valid():
            try:
                actions.do_revoke_device(
                    device, acting_officer=officer, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                done = f"端末「{device.label}」を使用停止しました。"
                if out:
                    done += "持出しを取り消しました（次の接続で端末内のデータを消去します）。"
                messages.success(request, done)
                return redirect(f"{reverse('register_post', args=[post.id])}#device-{device.id}")
    return render(
        request,
        "devices/device_revoke.html",
        {"post": post, "device": device, "out": out, "form": form},
        status=status,
    )
