"""Every change to devices and what they carry: registering and revoking a device, taking a
beat out onto it (an entry of the 持出確認簿, with the same four steps and rules as a binder:
junkai.registers.actions), the lease of its key, and sync (pull recorded, push applied).

One function per change, its audit event in the same transaction. Who-may-not is a
PermissionDeniedError (403); bad input a ValidationError naming the field (422); a checkout
that is no longer out is CheckoutGone (410).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from junkai.access.purposes import ReadPurpose
from junkai.access.records import deny
from junkai.access.roles import can_write_post, keeps_post
from junkai.audit.chain import record
from junkai.audit.models import AuditEventHousehold, EventType
from junkai.devices import keys, readlog
from junkai.devices.models import (
    CardConflict,
    ChangeKind,
    ChangeStatus,
    Device,
    DeviceCheckout,
    DeviceLease,
    DevicePull,
    OfflineRead,
    SyncChange,
)
from junkai.disclosures.actions import do_raise_misuse_flag
from junkai.disclosures.models import MisuseKind
from junkai.households import actions as household_actions
from junkai.households import cards
from junkai.households.access import households_visible_to, record_list_read
from junkai.households.models import CardStatus, ContactCard, Household
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Beat, Officer, Post
from junkai.registers import actions as register_actions
from junkai.registers.models import BinderCheckout, CheckoutStatus, LossKind, LossReport
from junkai.visits import actions as visit_actions

#: A lease lasts one shift at most.
LEASE_HOURS = 12
MAX_LABEL = 64
MAX_REASON = 200
DEFAULT_PURPOSE = "巡回連絡（端末での持出し）"


class CheckoutGone(Exception):
    """The checkout is returned or revoked: the device may no longer sync (410). `wipe`: the
    device must delete what it holds (always; `revoked` adds Clear-Site-Data)."""

    def __init__(self, message: str, *, revoked: bool) -> None:
        super().__init__(message)
        self.revoked = revoked


# --- devices ---------------------------------------------------------------------------------


def _require_keeper(acting_officer: Officer | None, post: Post, what: str) -> None:
    """The post's 取扱責任者, 交番所長 or 管理責任者 (None: the command line and fixtures)."""
    if acting_officer is None or acting_officer.is_superuser:
        return
    if not keeps_post(acting_officer, post):
        raise PermissionDeniedError(f"{what}は取扱責任者、交番所長または管理責任者が行います")


@transaction.atomic
def do_register_device(post: Post, *, acting_officer: Officer | None, label: str) -> Device:
    """端末の登録: the post's 取扱責任者 registers a tablet that may carry its beats."""
    _require_keeper(acting_officer, post, "端末の登録")
    label = label.strip()
    if not label:
        raise ValidationError({"label": "端末名を入力してください"})
    if len(label) > MAX_LABEL:
        raise ValidationError({"label": f"端末名は{MAX_LABEL}文字以内で入力してください"})
    if Device.objects.filter(post=post, label=label).exists():
        raise ValidationError({"label": f"端末「{label}」はこの交番等で既に登録されています"})
    device = Device.objects.create(post=post, label=label, registered_by=acting_officer)
    record(
        EventType.DEVICE_REGISTERED,
        actor=acting_officer,
        obj=device,
        station_id=post.station_id,
        details={"post": post.id},
    )
    return device


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "理由を入力してください"})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"理由は{MAX_REASON}文字以内で入力してください"})
    return reason


@transaction.atomic
def do_revoke_device(device: Device, *, acting_officer: Officer, reason: str) -> Device:
    """端末の使用停止 (retired, broken, or gone before anyone reports it lost): its open checkout
    is revoked with it, so its next contact is told to wipe itself; until then its lease simply
    runs out. Revocation is not a return: the checkout's 持出確認簿 entry, if still declared or
    out, ends as 「使用停止により終了」 (registers.actions.end_entry_by_revocation) and is no longer
    chased as overdue; one already returned waits for its return to be confirmed. A device
    lost or stolen is reported as such (do_report_device_loss), which closes it as lost."""
    post = device.post
    _require_keeper(acting_officer, post, "端末の使用停止")
    reason = _reason(reason)
    device = Device.objects.select_for_update().select_related("post").get(id=device.id)
    if device.revoked_at is not None:
        raise ValidationError({"device": "この端末は既に使用停止されています"})
    device.revoked_at = timezone.now()
    device.revoked_by = acting_officer
    device.revoke_reason = reason
    device.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    for checkout in open_checkouts(device):
        do_revoke_device_checkout(checkout, acting_officer=acting_officer, reason=reason)
    record(
        EventType.DEVICE_REVOKED,
        actor=acting_officer,
        obj=device,
        station_id=post.station_id,
        # The reason is free text: it stays on the device's row, the event carries its digest
        # (as a stated purpose's note), so the chain proves the row's reason unchanged.
        details={"post": post.id, "reason_sha256": hashlib.sha256(reason.encode()).hexdigest()},
    )
    return device


def open_checkouts(device: Device) -> list[DeviceCheckout]:
    """The device's checkouts not confirmed back and not revoked (at most one)."""
    return list(
        DeviceCheckout.objects.filter(
            device=device, revoked_at__isnull=True, entry__return_confirmed_at__isnull=True
        ).select_related("entry", "entry__post", "device", "beat")
    )


@transaction.atomic
def do_revoke_device_checkout(
    checkout: DeviceCheckout, *, acting_officer: Officer, reason: str
) -> DeviceCheckout:
    """One checkout revoked without a loss report: it can no longer sync or lease its key, the
    device wipes itself at its next contact, and its 持出確認簿 entry ends as revoked (see
    do_revoke_device)."""
    _require_keeper(acting_officer, checkout.entry.post, "端末の持出しの取消")
    return _revoke_checkout(
        checkout, acting_officer=acting_officer, reason=_reason(reason), ends_entry=True
    )


def _revoke_checkout(
    checkout: DeviceCheckout, *, acting_officer: Officer, reason: str, ends_entry: bool = False
) -> DeviceCheckout:
    """`ends_entry`: the entry ends as revoked here; a loss report closes it as lost itself."""
    post = checkout.entry.post
    if checkout.revoked_at is not None:
        return checkout
    checkout.revoked_at = timezone.now()
    checkout.revoked_by = acting_officer
    checkout.save(update_fields=["revoked_at", "revoked_by"])
    ended = (
        register_actions.end_entry_by_revocation(checkout.entry, at=checkout.revoked_at)
        if ends_entry
        else None
    )
    if ended is not None:
        checkout.entry = ended
    record(
        EventType.DEVICE_CHECKOUT_REVOKED,
        actor=acting_officer,
        obj=checkout,
        station_id=post.station_id,
        details={
            "device": checkout.device_id,
            "entry": checkout.entry_id,
            "reason": reason,
            # Without a loss report: the entry's status after it (REVOKED when it ended here).
            **({"entry_status": checkout.entry.status.value} if ends_entry else {}),
        },
    )
    return checkout


# --- 亡失・盗難: one report over binders and devices (junkai.registers) ----------------------


def lost_device_report(device: Device) -> LossReport | None:
    """The report that keeps a device out of service: lost or stolen and not found since."""
    return LossReport.objects.filter(device=device, found_at__isnull=True).first()


def held_checkouts(device: Device) -> list[DeviceCheckout]:
    """The device's checkouts whose data it may still hold: their 持出確認簿 entry is neither
    confirmed back nor closed by a loss (a revoked one too: its wipe is not yet confirmed)."""
    return list(
        DeviceCheckout.objects.filter(
            device=device,
            entry__return_confirmed_at__isnull=True,
            entry__lost_at__isnull=True,
        )
        .select_related("entry", "entry__post", "device", "beat")
        .order_by("id")
    )


def households_held(checkouts: Sequence[DeviceCheckout]) -> list[int]:
    """What the device held (DESIGN.md "Loss reports"): every household a pull under these
    checkouts sent, as each pull's audit event names them."""
    events = DevicePull.objects.filter(checkout__in=[c.id for c in checkouts]).values("event_id")
    return sorted(
        set(
            AuditEventHousehold.objects.filter(event_id__in=events).values_list(
                "household_id", flat=True
            )
        )
    )


def loss_reporter_refusal(officer: Officer, device: Device) -> str | None:
    """Why `officer` may not report `device` lost; None when he may: the officer who has it out
    (the borrower of an entry still open), or its keepers (取扱責任者, 交番所長, 管理責任者), as
    for a binder."""
    if officer.is_superuser or keeps_post(officer, device.post):
        return None
    if DeviceCheckout.objects.filter(
        device=device,
        entry__borrower=officer,
        entry__return_confirmed_at__isnull=True,
        entry__lost_at__isnull=True,
    ).exists():
        return None
    return (
        "端末の亡失・盗難の報告は、端末を持ち出している警察官または取扱責任者・交番所長・"
        "管理責任者が行います"
    )


@transaction.atomic
def do_report_device_loss(
    device: Device,
    *,
    acting_officer: Officer,
    kind: str,
    occurred_at: dt.datetime,
    place: str,
    circumstances: str,
    measures: str,
    at: dt.datetime | None = None,
) -> LossReport:
    """亡失・盗難の報告 of a device, as of a binder: the same report, notices and follow-up. The
    households are those it pulled under the checkouts still on it, with their cards as they
    are now; those checkouts are revoked at once (the device is told to wipe itself at its next
    contact, and until then its lease simply runs out) and their 持出確認簿 entries are closed
    as lost. The device is out of service (no new checkout) until it is found."""
    device = Device.objects.select_for_update().select_related("post__station").get(id=device.id)
    post = device.post
    refusal = loss_reporter_refusal(acting_officer, device)
    if refusal is not None:
        raise PermissionDeniedError(refusal)
    earlier = lost_device_report(device)
    checkouts = held_checkouts(device)
    entries = {
        e.id: e
        for e in BinderCheckout.objects.select_for_update().filter(
            id__in=[c.entry_id for c in checkouts]
        )
    }
    held = households_held(checkouts)
    cards = list(
        ContactCard.objects.filter(household_id__in=held, status=CardStatus.ACTIVE).order_by(
            "index_number", "household_id"
        )
    )
    report = register_actions.file_loss_report(
        post,
        acting_officer=acting_officer,
        kind=kind,
        occurred_at=occurred_at,
        place=place,
        circumstances=circumstances,
        measures=measures,
        cards=cards,
        checkout=entries[checkouts[-1].entry_id] if checkouts else None,
        device_id=device.id,
        already=(
            "device",
            f"端末「{device.label}」は既に亡失・盗難を報告済みです（報告 #{earlier.id}）",
        )
        if earlier is not None
        else None,
        details={
            "device": device.id,
            "label": device.label,
            "device_checkouts": [c.id for c in checkouts],
            "pulled": len(held),
        },
        at=at,
    )
    reason = f"{LossKind(kind).label}の報告 #{report.id}"
    for checkout in checkouts:
        _revoke_checkout(checkout, acting_officer=acting_officer, reason=reason)
        entry = entries[checkout.entry_id]
        entry.lost_at = report.reported_at
        entry.save(update_fields=["lost_at"])
    return report


# --- the checkout: an entry of the 持出確認簿 --------------------------------------------------


@transaction.atomic
def do_declare_device_checkout(
    device: Device, beat: Beat, *, acting_officer: Officer, purpose: str = DEFAULT_PURPOSE
) -> DeviceCheckout:
    """持出しの申告 of a beat onto a device (第5-3(3)ア, as for a binder): who may take it and
    why are the binders' rule; the device is the post's, the beat too; one checkout per device
    until its return is confirmed."""
    post = device.post
    purpose = register_actions.entry_purpose(
        post, acting_officer=acting_officer, purpose=purpose, what="受持区のデータ"
    )
    errors = {}
    if beat.post_id != post.id:
        errors["beat_id"] = "端末と同じ交番等の受持区を選んでください"
    device = Device.objects.select_for_update().get(id=device.id)
    if device.revoked_at is not None:
        errors["device_id"] = "この端末は使用停止されています"
    elif open_checkouts(device):
        errors["device_id"] = f"端末「{device.label}」は持出中です（返却の確認が済んでいません）"
    elif (lost := lost_device_report(device)) is not None:
        errors["device_id"] = (
            f"端末「{device.label}」は亡失・盗難の報告（#{lost.id}）があり、使用を停止しています"
            "（発見の記録があるまで持ち出せません）"
        )
    if errors:
        raise ValidationError(errors)
    entry = register_actions.open_entry(post, acting_officer=acting_officer, purpose=purpose)
    checkout = DeviceCheckout.objects.create(
        entry=entry, device=device, beat=beat, data_key_wrapped=b""
    )
    checkout.data_key_wrapped = keys.seal_data_key(keys.new_data_key(), checkout.id)
    checkout.read_log_hash = readlog.genesis(checkout.id)
    checkout.save(update_fields=["data_key_wrapped", "read_log_hash"])
    record(
        EventType.DEVICE_CHECKOUT_DECLARED,
        actor=acting_officer,
        obj=checkout,
        station_id=post.station_id,
        details={
            "post": post.id,
            "device": device.id,
            "beat": beat.id,
            "entry": entry.id,
            "declared_to": entry.declared_to_id,
            "due_at": entry.due_at,
        },
    )
    return checkout


def reloaded(checkout: DeviceCheckout) -> DeviceCheckout:
    return DeviceCheckout.objects.select_related(
        "entry", "entry__post", "entry__post__station", "device", "beat"
    ).get(id=checkout.id)


@transaction.atomic
def do_confirm_device_out(checkout: DeviceCheckout, *, acting_officer: Officer) -> DeviceCheckout:
    """持出確認者の確認: the binders' rule (a second officer, his own credentials; the borrower
    himself only at a single-officer 駐在所)."""
    if checkout.revoked_at is not None or checkout.device.revoked_at is not None:
        raise ValidationError({"status": "この持出しは取り消されています"})
    register_actions.do_confirm_checkout_out(checkout.entry, acting_officer=acting_officer)
    return reloaded(checkout)


@transaction.atomic
def do_record_device_return(checkout: DeviceCheckout, *, acting_officer: Officer) -> DeviceCheckout:
    """返却の申告 by the borrower (the device has synced and cleared itself)."""
    register_actions.do_record_return(checkout.entry, acting_officer=acting_officer)
    return reloaded(checkout)


@transaction.atomic
def do_confirm_device_return(
    checkout: DeviceCheckout, *, acting_officer: Officer
) -> DeviceCheckout:
    """返却確認者の確認: the device may carry a beat again."""
    register_actions.do_confirm_return(checkout.entry, acting_officer=acting_officer)
    return reloaded(checkout)


def require_syncable(checkout: DeviceCheckout, officer: Officer) -> None:
    """Only the borrower, only while out: revoked or returned answers 410 (and wipe)."""
    if checkout.revoked_at is not None or checkout.device.revoked_at is not None:
        raise CheckoutGone(
            "この端末の持出しは取り消されました。端末内のデータを消去します", revoked=True
        )
    status = checkout.entry.status
    if status in (CheckoutStatus.RETURNED, CheckoutStatus.CLOSED):
        raise CheckoutGone("この持出しは返却済みです。端末内のデータを消去します", revoked=False)
    if officer.id != checkout.entry.borrower_id:
        raise PermissionDeniedError("端末の同期と鍵の貸与は持出警察官本人が行います")
    if status != CheckoutStatus.OUT:
        raise PermissionDeniedError(
            "持出しの確認が済んでいません。先に持出確認者の確認を受けてください"
        )


# --- the lease ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedLease:
    lease: DeviceLease
    key: keys.WrappedKey


@transaction.atomic
def do_issue_lease(
    checkout: DeviceCheckout, *, acting_officer: Officer, not_after: dt.datetime | None = None
) -> IssuedLease:
    """The checkout's data key wrapped under a fresh lease key of one shift (≤ 12 h, and not
    past `not_after`, the end of the credential that asked). Every call re-issues the same
    data key, so a new sign-in reads again what the device stored under an older lease."""
    require_syncable(checkout, acting_officer)
    now = timezone.now()
    expires = now + dt.timedelta(hours=LEASE_HOURS)
    if not_after is not None and not_after < expires:
        expires = not_after
    if expires <= now:
        raise PermissionDeniedError(
            "サインインの有効期限が切れています。サインインし直してください"
        )
    lease_key = os.urandom(keys.KEY_BYTES)
    lease = DeviceLease.objects.create(
        checkout=checkout,
        officer=acting_officer,
        issued_at=now,
        expires_at=expires,
        key_sha256=keys.sha256_hex(lease_key),
    )
    data_key = keys.open_data_key(checkout.data_key_wrapped, checkout.id)
    aad = keys.lease_aad(checkout.id, lease.id, int(expires.timestamp()))
    wrapped = keys.wrap_for_lease(data_key, lease_key, aad)
    record(
        EventType.DEVICE_LEASE_ISSUED,
        actor=acting_officer,
        obj=checkout,
        station_id=checkout.entry.post.station_id,
        details={"lease": lease.id, "expires_at": expires, "device": checkout.device_id},
    )
    return IssuedLease(lease=lease, key=wrapped)


# --- pull: the beat onto the device ---------------------------------------------------------


@transaction.atomic
def do_record_pull(
    checkout: DeviceCheckout, *, acting_officer: Officer, household_ids: list[int], full: bool
) -> DevicePull:
    """A pull is a read of every household it sends: one event naming them (the audit log's
    (event, household) rows, so each household's 閲覧記録 shows it), kept with the checkout
    (what the device held, for a loss report)."""
    event = record_list_read(
        acting_officer,
        beat=checkout.beat,
        count=len(household_ids),
        purpose="端末への持出し（同期）",
        household_ids=household_ids,
    )
    return DevicePull.objects.create(
        checkout=checkout,
        event_id=event.id,
        household_count=len(household_ids),
        full=full,
    )


# --- push: the device's outbox, in order, once each -------------------------------------------


@dataclass
class Change:
    """One change of the outbox. `visit`: do_record_visit's keyword arguments; `card`: the
    card's content as the card API takes it, with `version` read on the device."""

    client_id: str
    kind: str
    household_id: int
    visit: dict[str, Any] | None = None
    card: dict[str, Any] | None = None
    version: int | None = None
    basis: str = "VISIT"
    note: str = ""


@dataclass
class ReadEntry:
    seq: int
    household_id: int
    read_at: dt.datetime
    read_at_text: str
    purpose: str
    prev: str
    hash: str


@dataclass
class ReadLogResult:
    accepted: int = 0
    duplicates: int = 0
    flagged: list[str] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = ""


@dataclass
class PushResult:
    results: list[dict[str, Any]]
    read_log: ReadLogResult


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("__all__" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def _refused(
    change: Change, detail: str, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {
        "client_id": change.client_id,
        "kind": change.kind,
        "status": ChangeStatus.REFUSED.value,
        "detail": detail,
        "errors": errors or {},
    }


def _households_on_device(
    checkout: DeviceCheckout, officer: Officer, changes: Sequence[Change]
) -> dict[int, Household]:
    """The households the changes name, read at once through the scope funnel (one query for
    the batch, not one a change); a household absent or out of scope is refused alike (404)
    and the refusal recorded, as access_household would."""
    wanted = {c.household_id for c in changes}
    found = {
        h.id: h
        for h in households_visible_to(officer)
        .select_related("beat", "post", "station", "building")
        .filter(id__in=wanted)
    }
    for missing in sorted(wanted - set(found)):
        deny(officer, "households.household", missing)
    return found


def _on_device(
    checkout: DeviceCheckout, change: Change, households: dict[int, Household]
) -> Household | dict[str, Any]:
    """The household a change names, on the beat the device carries; else its refusal."""
    household = households.get(change.household_id)
    if household is None:
        return _refused(change, "見つかりません", {"household_id": ["見つかりません"]})
    if household.beat_id != checkout.beat_id:
        return _refused(
            change,
            "この端末が持ち出した受持区の世帯ではありません",
            {"household_id": ["この端末が持ち出した受持区の世帯ではありません"]},
        )
    return household


def _apply_visit(
    checkout: DeviceCheckout,
    officer: Officer,
    change: Change,
    household: Household,
) -> dict[str, Any]:
    if change.visit is None:
        return _refused(
            change, "visit がありません", {"visit": ["必須の項目です。入力してください"]}
        )
    try:
        visit = visit_actions.do_record_visit(household, acting_officer=officer, **change.visit)
    except ValidationError as invalid:
        return _refused(change, "入力内容に誤りがあります", _errors_of(invalid))
    except PermissionDeniedError as denied:
        return _refused(change, str(denied))
    return {
        "client_id": change.client_id,
        "kind": change.kind,
        "status": ChangeStatus.APPLIED.value,
        "visit_id": visit.id,
        "household_id": household.id,
    }


def _apply_card(
    checkout: DeviceCheckout, officer: Officer, change: Change, household: Household
) -> tuple[dict[str, Any], household_actions.StaleCardError | None]:
    if change.card is None:
        return _refused(
            change, "card がありません", {"card": ["必須の項目です。入力してください"]}
        ), None
    try:
        card = household_actions.do_save_card(
            household,
            change.card,
            acting_officer=officer,
            expected_version=change.version,
            basis=change.basis,
            note=change.note,
        )
    except household_actions.StaleCardError as conflict:
        return {
            "client_id": change.client_id,
            "kind": change.kind,
            "status": ChangeStatus.CONFLICT.value,
            "household_id": household.id,
            "current_version": conflict.card.version,
            "submitted_version": change.version,
        }, conflict
    except cards.CardInvalid as invalid:
        return _refused(
            change, "入力内容に誤りがあります", {k: [v] for k, v in invalid.errors.items()}
        ), None
    except ValidationError as invalid:
        return _refused(change, "入力内容に誤りがあります", _errors_of(invalid)), None
    except PermissionDeniedError as denied:
        return _refused(change, str(denied)), None
    return {
        "client_id": change.client_id,
        "kind": change.kind,
        "status": ChangeStatus.APPLIED.value,
        "household_id": household.id,
        "card_version": card.version,
    }, None


@dataclass
class Applied:
    """A change applied (or refused) in this push; stored with the others at its end."""

    change: Change
    result: dict[str, Any]
    conflict: household_actions.StaleCardError | None = None
    household: Household | None = None


def _apply(
    checkout: DeviceCheckout,
    officer: Officer,
    change: Change,
    households: dict[int, Household],
) -> Applied:
    household = _on_device(checkout, change, households)
    if isinstance(household, dict):
        return Applied(change, household)
    if change.kind == ChangeKind.VISIT:
        return Applied(change, _apply_visit(checkout, officer, change, household))
    result, conflict = _apply_card(checkout, officer, change, household)
    return Applied(change, result, conflict, household)


def _store(checkout: DeviceCheckout, officer: Officer, applied: list[Applied]) -> None:
    """Each change's result kept by its client id (one INSERT for the push), and the
    device's version of a conflicting card kept beside the card's own revisions."""
    stored = SyncChange.objects.bulk_create(
        [
            SyncChange(
                checkout=checkout,
                client_id=a.change.client_id,
                kind=a.change.kind,
                status=a.result["status"],
                result=a.result,
            )
            for a in applied
        ]
    )
    conflicted = []
    for a, change in zip(applied, stored, strict=True):
        if a.conflict is None or a.household is None:
            continue
        kept = CardConflict.objects.create(
            checkout=checkout,
            change=change,
            household=a.household,
            card=a.conflict.card,
            expected_version=a.conflict.expected_version,
            current_version=a.conflict.card.version,
            submitted=dict(a.conflict.submitted),
            basis=str(a.change.basis),
            note=a.change.note[:200],
            submitted_by=officer,
        )
        a.result["conflict_id"] = kept.id
        change.result = a.result
        conflicted.append(change)
    if conflicted:
        SyncChange.objects.bulk_update(conflicted, ["result"])


@transaction.atomic
def do_push(
    checkout: DeviceCheckout,
    *,
    acting_officer: Officer,
    changes: Sequence[Change],
    read_log: Sequence[ReadEntry] = (),
) -> PushResult:
    """Apply the device's outbox in the order sent, each change once (by its client id: the
    same change sent again answers its first result and writes nothing), every rule checked
    again as if the officer were online; then merge the offline read log. Pushes of one
    checkout take turns (row lock), so a retry racing its original still applies once (and
    should two ever pass the lock, the unique client id refuses the second whole)."""
    checkout = (
        DeviceCheckout.objects.select_for_update()
        .select_related("entry", "entry__post", "device", "beat")
        .get(id=checkout.id)
    )
    require_syncable(checkout, acting_officer)
    ids = [c.client_id for c in changes]
    seen = {
        s.client_id: s.result
        for s in SyncChange.objects.filter(checkout=checkout, client_id__in=ids)
    }
    fresh = {c.client_id: c for c in changes if c.client_id not in seen}
    households = _households_on_device(checkout, acting_officer, list(fresh.values()))
    answers: list[tuple[dict[str, Any], bool]] = []  # (result, replayed)
    applied: list[Applied] = []
    for change in changes:
        earlier = seen.get(change.client_id)
        if earlier is not None:
            answers.append((earlier, True))
            continue
        done = _apply(checkout, acting_officer, change, households)
        seen[change.client_id] = done.result
        applied.append(done)
        answers.append((done.result, False))
    _store(checkout, acting_officer, applied)  # adds each conflict's id to its result
    results = [{**result, "replayed": replayed} for result, replayed in answers]
    merged = _merge_read_log(checkout, acting_officer, read_log)
    record(
        EventType.DEVICE_SYNC_PUSHED,
        actor=acting_officer,
        obj=checkout,
        station_id=checkout.entry.post.station_id,
        details={
            "changes": len(changes),
            "new": len(applied),
            "reads": merged.accepted,
            "read_log_flagged": bool(merged.flagged),
        },
    )
    return PushResult(results=results, read_log=merged)


def _merge_read_log(
    checkout: DeviceCheckout, officer: Officer, entries: Sequence[ReadEntry]
) -> ReadLogResult:
    """Each new entry becomes a READ_OFFLINE event on its household (its 閲覧記録), stating
    when it was read and why. The chain must continue from the head merged so far: a gap
    (entries missing), a link that does not hold or an entry sent before with other content
    is merged all the same (the read happened) and flagged for the manager."""
    out = ReadLogResult(head_seq=checkout.read_log_seq, head_hash=checkout.read_log_hash)
    if not entries:
        return out
    known = {
        r.seq: r
        for r in OfflineRead.objects.filter(checkout=checkout, seq__in=[e.seq for e in entries])
    }
    visible = set(
        Household.objects.filter(
            id__in={e.household_id for e in entries}, beat_id=checkout.beat_id
        ).values_list("id", "station_id")
    )
    station_of = dict(visible)
    for entry in sorted(entries, key=lambda e: e.seq):
        computed = readlog.entry_hash(
            entry.prev,
            seq=entry.seq,
            household_id=entry.household_id,
            read_at=entry.read_at_text,
            purpose=entry.purpose,
        )
        earlier = known.get(entry.seq)
        if earlier is not None:
            if earlier.entry_hash == entry.hash == computed:
                out.duplicates += 1
            else:
                out.flagged.append(f"第{entry.seq}件が前回の同期から変わっています")
            continue
        problems = []
        if entry.seq <= out.head_seq:
            problems.append(f"第{entry.seq}件は既に同期された番号です")
        elif entry.seq != out.head_seq + 1:
            problems.append(f"第{out.head_seq + 1}〜{entry.seq - 1}件が欠けています")
        if entry.prev != out.head_hash and entry.seq == out.head_seq + 1:
            problems.append(f"第{entry.seq}件の前の記録とのつながりが合いません")
        if computed != entry.hash:
            problems.append(f"第{entry.seq}件の内容がハッシュと合いません")
        if entry.household_id not in station_of:
            problems.append(f"第{entry.seq}件はこの端末の受持区の世帯ではありません")
        event_id = None
        if entry.household_id in station_of:
            event = record(
                EventType.READ_OFFLINE,
                actor=officer,
                object_type="households.household",
                object_id=entry.household_id,
                station_id=station_of[entry.household_id],
                purpose=str(ReadPurpose(entry.purpose).label),
                details={
                    "stated": entry.purpose,
                    "read_at": entry.read_at,
                    "seq": entry.seq,
                    "hash": entry.hash,
                    "checkout": checkout.id,
                    "device": checkout.device_id,
                    "intact": not problems,
                },
            )
            event_id = event.id
        if entry.seq > out.head_seq:
            OfflineRead.objects.create(
                checkout=checkout,
                seq=entry.seq,
                household_id=entry.household_id,
                read_at=entry.read_at,
                purpose=entry.purpose,
                entry_hash=entry.hash,
                intact=not problems,
                event_id=event_id,
            )
            # The chain goes on from what the device holds: one break is flagged once.
            out.head_seq, out.head_hash = entry.seq, entry.hash
        out.flagged.extend(problems)
        if event_id is not None:
            out.accepted += 1
    checkout.read_log_seq, checkout.read_log_hash = out.head_seq, out.head_hash
    checkout.save(update_fields=["read_log_seq", "read_log_hash"])
    if out.flagged:
        _flag_read_log(checkout, officer, entries, out.flagged)
    return out


def _flag_read_log(
    checkout: DeviceCheckout, officer: Officer, entries: Sequence[ReadEntry], problems: list[str]
) -> None:
    post = checkout.entry.post
    now = timezone.now()
    event = record(
        EventType.DEVICE_READ_LOG_BROKEN,
        actor=officer,
        obj=checkout,
        station_id=post.station_id,
        details={
            "device": checkout.device_id,
            "problems": problems[:20],
            "digest": hashlib.sha256("\n".join(problems).encode()).hexdigest(),
        },
    )
    do_raise_misuse_flag(
        station_id=post.station_id,
        post_id=post.id,
        officer_id=officer.id,
        kind=MisuseKind.READ_LOG,
        window_start=min((e.read_at for e in entries), default=now),
        window_end=max(max((e.read_at for e in entries), default=now), now),
        event_ids=[event.id],
        household_count=len({e.household_id for e in entries}),
    )


# --- conflicts kept from devices --------------------------------------------------------------


@transaction.atomic
def do_resolve_card_conflict(
    conflict: CardConflict, *, acting_officer: Officer, use_device: bool
) -> CardConflict:
    """The officer (or the custodian) chooses: the device's version saved over the card as it
    is now (a new revision: both stay in the history), or the card kept as it is. Field by
    field: edit the card from its latest version, then keep it."""
    conflict = (
        CardConflict.objects.select_for_update()
        .select_related("household", "card")
        .get(id=conflict.id)
    )
    if not can_write_post(acting_officer, conflict.household.post_id):
        raise PermissionDeniedError("この交番等の巡回連絡カードを変更する権限がありません")
    if conflict.resolved_at is not None:
        raise ValidationError({"conflict": "この競合は既に解決されています"})
    version = conflict.card.version
    if use_device:
        card = household_actions.do_save_card(
            conflict.household,
            conflict.submitted,
            acting_officer=acting_officer,
            expected_version=conflict.card.version,
            basis=conflict.basis,
            note=conflict.note,
        )
        version = card.version
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = acting_officer
    conflict.resolved_version = version
    conflict.save(update_fields=["resolved_at", "resolved_by", "resolved_version"])
    record(
        EventType.DEVICE_CONFLICT_RESOLVED,
        actor=acting_officer,
        obj=conflict.household,
        station_id=conflict.household.station_id,
        details={"conflict": conflict.id, "use_device": use_device, "version": version},
    )
    return conflict
