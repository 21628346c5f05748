"""Every change to the registers of 第5-3: cabinets and binders, the checkout register
(持出確認簿, 第6号様式) and its monthly review, the cabinet key, inspections (巡視・点検).

One function per change: validates the rule, saves, and writes its audit event in the same
transaction. Who-may-not is a PermissionDeniedError (403); bad input a ValidationError naming
the field (422). `at=` backdates a record for the demo and imports; pages and the API never
pass it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from junkai.access.roles import (
    can_write_post,
    custodians_of,
    hq_officers,
    is_custodian,
    is_post_manager,
    is_section_chief,
    keeps_post,
    managers_of,
    may_confirm_checkout,
    may_hold_key,
    may_inspect,
    section_chiefs_of,
    serves_at_post,
    station_chiefs_of,
)
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households.models import CardRevision, ContactCard
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.months import current_month, due_for, month_bounds, month_label
from junkai.org.models import Officer, Post, today
from junkai.registers.models import (
    CHECKLIST,
    OPEN_CHECKOUT,
    Binder,
    BinderCheckout,
    Cabinet,
    CheckoutBinder,
    CheckoutMonthReview,
    CheckoutStatus,
    FollowUpStatus,
    InformMethod,
    Inspection,
    InspectionFollowUp,
    InspectionStatus,
    KeyCustody,
    LossKind,
    LossReport,
    LossReportHousehold,
    LossReportStatus,
    number_key,
)

#: Clocks of tablets drift: a moment a little ahead of the server is not "the future".
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_PURPOSE = 200
MAX_FOLLOW_UPS = 20


def _system(acting_officer: Officer | None) -> bool:
    """The command line (no officer) and a superuser stand outside the station hierarchy."""
    return acting_officer is None or acting_officer.is_superuser


def _moment(at: dt.datetime | None, field: str) -> dt.datetime:
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        raise ValidationError({field: "日時は時差付きで指定してください"})
    if moment > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: "日時が未来になっています"})
    return moment


def _locked(checkout: BinderCheckout) -> BinderCheckout:
    """The entry re-read under a row lock: two confirmers pressing at once confirm once."""
    fresh = BinderCheckout.objects.select_for_update().get(id=checkout.id)
    fresh.post = checkout.post
    if fresh.lost_at is not None:
        raise ValidationError(
            {"status": "この記載の簿冊はすべて亡失・盗難が報告されています（亡失により終了）"}
        )
    if fresh.revoked_at is not None:
        raise ValidationError(
            {"status": "この記載の端末は使用停止されています（使用停止により終了）"}
        )
    return fresh


# --- cabinets and binders -------------------------------------------------------------------


def _require_keeper(acting_officer: Officer | None, post: Post, what: str) -> None:
    if not _system(acting_officer) and not keeps_post(acting_officer, post):  # type: ignore[arg-type]
        raise PermissionDeniedError(f"{what}は取扱責任者、交番所長または管理責任者が行います")


@transaction.atomic
def do_create_cabinet(
    post: Post, *, acting_officer: Officer | None, name: str, location: str = ""
) -> Cabinet:
    """保管庫の登録 (施錠設備のある保管庫, 第5-3(4))."""
    _require_keeper(acting_officer, post, "保管庫の登録")
    name, location = name.strip(), location.strip()
    if not name:
        raise ValidationError({"name": "保管庫の名称を入力してください"})
    if len(name) > 64:
        raise ValidationError({"name": "保管庫の名称は64文字以内で入力してください"})
    if len(location) > 100:
        raise ValidationError({"location": "設置場所は100文字以内で入力してください"})
    if Cabinet.objects.filter(post=post, name=name).exists():
        raise ValidationError({"name": f"保管庫「{name}」はこの交番等で既に登録されています"})
    cabinet = Cabinet.objects.create(post=post, name=name, location=location)
    record(
        EventType.CABINET_CREATED,
        actor=acting_officer,
        obj=cabinet,
        station_id=post.station_id,
        details={"post": post.id},
    )
    return cabinet


@transaction.atomic
def do_create_binder(
    post: Post,
    *,
    acting_officer: Officer | None,
    number: str,
    cabinet: Cabinet,
    title: str = "",
) -> Binder:
    """簿冊の登録. It holds the post's cards whose 簿冊番号 is `number`."""
    _require_keeper(acting_officer, post, "簿冊の登録")
    number, title = number.strip(), title.strip()
    errors = {}
    if not number:
        errors["number"] = "簿冊番号を入力してください"
    elif len(number) > 20:
        errors["number"] = "簿冊番号は20文字以内で入力してください"
    elif Binder.objects.filter(post=post, number=number).exists():
        errors["number"] = f"簿冊番号 {number} はこの交番等で既に登録されています"
    if len(title) > 100:
        errors["title"] = "表題は100文字以内で入力してください"
    if cabinet.post_id != post.id:
        errors["cabinet"] = "保管庫はこの交番等のものを選んでください"
    if errors:
        raise ValidationError(errors)
    binder = Binder.objects.create(post=post, cabinet=cabinet, number=number, title=title)
    record(
        EventType.BINDER_CREATED,
        actor=acting_officer,
        obj=binder,
        station_id=post.station_id,
        details={"post": post.id, "number": number, "cabinet": cabinet.id},
    )
    return binder


@transaction.atomic
def do_update_binder(
    binder: Binder, *, acting_officer: Officer | None, title: str, cabinet: Cabinet
) -> Binder:
    """簿冊の表題・保管庫の変更 (its number is what the cards name, so it stays)."""
    post = binder.post
    _require_keeper(acting_officer, post, "簿冊の変更")
    title = title.strip()
    errors = {}
    if len(title) > 100:
        errors["title"] = "表題は100文字以内で入力してください"
    if cabinet.post_id != post.id:
        errors["cabinet"] = "保管庫はこの交番等のものを選んでください"
    if errors:
        raise ValidationError(errors)
    before = {"title": binder.title, "cabinet": binder.cabinet_id}
    binder.title, binder.cabinet = title, cabinet
    binder.save(update_fields=["title", "cabinet"])
    record(
        EventType.BINDER_UPDATED,
        actor=acting_officer,
        obj=binder,
        station_id=post.station_id,
        details={"before": {"cabinet": before["cabinet"]}, "cabinet": cabinet.id},
    )
    return binder


# --- the checkout register (第6号様式) -----------------------------------------------------


def _numbers(binders: Sequence[Binder]) -> str:
    return "、".join(b.number for b in binders)


def entry_purpose(post: Post, *, acting_officer: Officer, purpose: str, what: str = "簿冊") -> str:
    """Who may take something out of a post and why (第5-3(3)ア), for binders and devices (a
    device that carries cards is a binder): an officer of the post, with a stated purpose."""
    if not can_write_post(acting_officer, post.id):
        raise PermissionDeniedError(
            f"{post}の{what}を持ち出す権限がありません（持ち出せるのはこの交番等の警察官です）"
        )
    purpose = purpose.strip()
    if not purpose:
        raise ValidationError({"purpose": "持出しの目的を入力してください"})
    if len(purpose) > MAX_PURPOSE:
        raise ValidationError({"purpose": f"目的は{MAX_PURPOSE}文字以内で入力してください"})
    return purpose


def open_entry(
    post: Post, *, acting_officer: Officer, purpose: str, at: dt.datetime | None = None
) -> BinderCheckout:
    """A new entry of the 持出確認簿, declared to the post's 管理責任者 and due back by the
    day's cut-off: the binders' lines or a device's checkout hang on it (call within the
    caller's transaction, after `entry_purpose`)."""
    moment = _moment(at, "declared_at")
    return BinderCheckout.objects.create(
        post=post,
        borrower=acting_officer,
        purpose=purpose,
        declared_at=moment,
        declared_to=managers_of(post).order_by("id").first(),
        due_at=due_for(moment),
    )


@transaction.atomic
def end_entry_by_revocation(checkout: BinderCheckout, *, at: dt.datetime) -> BinderCheckout | None:
    """A device's entry ended by taking the device out of use without a loss report
    (junkai.devices, which records the event): revocation is not a return — nothing came back
    for a second officer to confirm — so the entry ends as 「使用停止により終了」 and is no longer
    chased as overdue. Only an entry still declared or out; one already returned keeps waiting
    for its return to be confirmed (the device is back at the post). The ended entry, or None."""
    entry = _locked(checkout)
    if entry.status not in (CheckoutStatus.DECLARED, CheckoutStatus.OUT):
        return None
    entry.revoked_at = at
    entry.save(update_fields=["revoked_at"])
    return entry


@transaction.atomic
def do_declare_checkout(
    binders: Sequence[Binder],
    *,
    acting_officer: Officer,
    purpose: str,
    at: dt.datetime | None = None,
) -> BinderCheckout:
    """持出しの申告 (第5-3(3)ア): the borrower declares to the 管理責任者 and writes the binder
    numbers and the purpose in the register; a binder still out cannot be taken again."""
    unique = {b.id: b for b in binders}
    chosen = sorted(unique.values(), key=lambda b: number_key(b.number))
    if not chosen:
        raise ValidationError({"binder_ids": "持ち出す簿冊を選んでください"})
    if len({b.post_id for b in chosen}) > 1:
        raise ValidationError(
            {
                "binder_ids": "1回の申告で持ち出せるのは同じ交番等の簿冊です。交番等ごとに申告してください"
            }
        )
    post = chosen[0].post
    purpose = entry_purpose(post, acting_officer=acting_officer, purpose=purpose)
    moment = _moment(at, "declared_at")
    ids = [b.id for b in chosen]
    # Lock the binders: a second declaration of the same binder waits, then sees it out.
    list(Binder.objects.select_for_update().filter(id__in=ids).values_list("id", flat=True))
    out = sorted(
        CheckoutBinder.objects.filter(binder_id__in=ids, open=True).values_list(
            "binder__number", flat=True
        )
    )
    if out:
        raise ValidationError(
            {"binder_ids": f"簿冊 {'、'.join(out)} は持出中です（返却の確認が済んでいません）"}
        )
    lost = sorted(
        LossReport.objects.filter(binder_id__in=ids, found_at__isnull=True).values_list(
            "binder__number", flat=True
        ),
        key=lambda n: number_key(n),
    )
    if lost:
        raise ValidationError(
            {
                "binder_ids": f"簿冊 {'、'.join(lost)} は亡失・盗難の報告があり、使用を停止しています"
                "（発見の記録があるまで持ち出せません）"
            }
        )
    checkout = open_entry(post, acting_officer=acting_officer, purpose=purpose, at=moment)
    manager = checkout.declared_to
    try:
        with transaction.atomic():
            CheckoutBinder.objects.bulk_create(
                [CheckoutBinder(checkout=checkout, binder=b) for b in chosen]
            )
    except IntegrityError as exc:  # a concurrent declaration won the race
        raise ValidationError({"binder_ids": f"簿冊 {_numbers(chosen)} は持出中です"}) from exc
    record(
        EventType.CHECKOUT_DECLARED,
        actor=acting_officer,
        obj=checkout,
        station_id=post.station_id,
        details={
            "post": post.id,
            "binders": ids,
            "numbers": [b.number for b in chosen],
            "declared_to": manager.id if manager else None,
            "due_at": checkout.due_at,
        },
    )
    return checkout


def confirmation_refusal(
    officer: Officer, *, post: Post, borrower_id: int | None, step: str = "確認"
) -> str | None:
    """Why `officer` may not confirm a step of a checkout by `borrower_id` at `post`; None when
    he may. 持出確認者・返却確認者 are others than the borrower (第5-3(3)ウ): an officer of the
    post, its custodian or manager; the borrower himself only at a single-officer 駐在所
    (ただし書). The page asks this to offer its buttons; the actions enforce it."""
    if officer.id == borrower_id:
        if post.single_officer and serves_at_post(officer, post.id):
            return None
        return (
            f"{step}は持出警察官以外の者が行います（第5-3(3)ウ）。"
            "本人が確認できるのは一人勤務の駐在所に限られます"
        )
    if not may_confirm_checkout(officer, post):
        return f"{step}はこの交番等の警察官、取扱責任者または管理責任者が行います"
    return None


def _confirmer(checkout: BinderCheckout, officer: Officer, step: str) -> bool:
    """Enforce `confirmation_refusal`; True when the borrower confirms himself (a
    single-officer 駐在所), which marks the entry self-confirmed."""
    refusal = confirmation_refusal(
        officer, post=checkout.post, borrower_id=checkout.borrower_id, step=step
    )
    if refusal is not None:
        raise PermissionDeniedError(refusal)
    return officer.id == checkout.borrower_id


@transaction.atomic
def do_confirm_checkout_out(
    checkout: BinderCheckout, *, acting_officer: Officer, at: dt.datetime | None = None
) -> BinderCheckout:
    """持出確認者の確認."""
    checkout = _locked(checkout)
    if checkout.status != CheckoutStatus.DECLARED:
        raise ValidationError({"status": "この記載は既に持出しの確認が済んでいます"})
    # A device's checkout revoked before it went out (junkai.devices, named not imported): the
    # same refusal whichever page or endpoint the confirmer uses.
    if BinderCheckout.objects.filter(
        id=checkout.id, device_checkout__revoked_at__isnull=False
    ).exists():
        raise ValidationError({"status": "この持出しは取り消されています"})
    self_confirmed = _confirmer(checkout, acting_officer, "持出しの確認")
    moment = _moment(at, "out_confirmed_at")
    if moment < checkout.declared_at:
        raise ValidationError({"out_confirmed_at": "持出しの確認は申告の後に行ってください"})
    checkout.out_confirmed_by = acting_officer
    checkout.out_confirmed_at = moment
    checkout.self_confirmed = checkout.self_confirmed or self_confirmed
    checkout.save(update_fields=["out_confirmed_by", "out_confirmed_at", "self_confirmed"])
    record(
        EventType.CHECKOUT_CONFIRMED_OUT,
        actor=acting_officer,
        obj=checkout,
        station_id=checkout.post.station_id,
        details={"self_confirmed": self_confirmed},
    )
    return checkout


@transaction.atomic
def do_record_return(
    checkout: BinderCheckout, *, acting_officer: Officer, at: dt.datetime | None = None
) -> BinderCheckout:
    """返却の申告 (第5-3(3)イ): the borrower records that he has brought the binders back."""
    checkout = _locked(checkout)
    if acting_officer.id != checkout.borrower_id:
        raise PermissionDeniedError("返却は持出警察官本人が記録します（第5-3(3)イ）")
    status = checkout.status
    if status == CheckoutStatus.DECLARED:
        raise ValidationError(
            {"status": "持出しの確認が済んでいません。先に持出確認者の確認を受けてください"}
        )
    if status != CheckoutStatus.OUT:
        raise ValidationError({"status": "この記載は既に返却が記録されています"})
    moment = _moment(at, "returned_at")
    assert checkout.out_confirmed_at is not None
    if moment < checkout.out_confirmed_at:
        raise ValidationError({"returned_at": "返却日時が持出しの確認より前になっています"})
    checkout.returned_at = moment
    checkout.save(update_fields=["returned_at"])
    record(
        EventType.CHECKOUT_RETURNED,
        actor=acting_officer,
        obj=checkout,
        station_id=checkout.post.station_id,
        details={"declared_to": checkout.declared_to_id},
    )
    return checkout


@transaction.atomic
def do_confirm_return(
    checkout: BinderCheckout, *, acting_officer: Officer, at: dt.datetime | None = None
) -> BinderCheckout:
    """返却確認者の確認: the binders are back in the cabinet and may be taken out again."""
    checkout = _locked(checkout)
    status = checkout.status
    if status == CheckoutStatus.CLOSED:
        raise ValidationError({"status": "この記載は既に返却の確認が済んでいます"})
    if status != CheckoutStatus.RETURNED:
        raise ValidationError({"status": "持出警察官がまだ返却を記録していません"})
    self_confirmed = _confirmer(checkout, acting_officer, "返却の確認")
    moment = _moment(at, "return_confirmed_at")
    assert checkout.returned_at is not None
    if moment < checkout.returned_at:
        raise ValidationError({"return_confirmed_at": "返却の確認は返却の後に行ってください"})
    checkout.return_confirmed_by = acting_officer
    checkout.return_confirmed_at = moment
    checkout.self_confirmed = checkout.self_confirmed or self_confirmed
    checkout.save(update_fields=["return_confirmed_by", "return_confirmed_at", "self_confirmed"])
    CheckoutBinder.objects.filter(checkout=checkout, open=True).update(open=False)
    record(
        EventType.CHECKOUT_CONFIRMED_RETURN,
        actor=acting_officer,
        obj=checkout,
        station_id=checkout.post.station_id,
        details={"self_confirmed": self_confirmed},
    )
    return checkout


@transaction.atomic
def do_alert_overdue_checkouts(*, now: dt.datetime | None = None) -> list[BinderCheckout]:
    """未返却の警告: once per entry whose binders are not confirmed back by its deadline, to the
    post's 取扱責任者 and 管理責任者 (named in the event; the alerts page lists the entries)."""
    now = now or timezone.now()
    overdue = list(
        BinderCheckout.objects.select_for_update()
        .filter(OPEN_CHECKOUT, due_at__lt=now, overdue_alerted_at__isnull=True)
        .prefetch_related("lines")
        .order_by("due_at", "id")
    )
    posts = {p.id: p for p in Post.objects.filter(id__in={c.post_id for c in overdue})}
    # Who is told, once per post rather than once per entry.
    recipients = {
        post.id: {
            "custodians": list(custodians_of(post).values_list("id", flat=True)),
            "managers": list(managers_of(post).values_list("id", flat=True)),
        }
        for post in posts.values()
    }
    for checkout in overdue:
        post = posts[checkout.post_id]
        checkout.overdue_alerted_at = now
        checkout.save(update_fields=["overdue_alerted_at"])
        record(
            EventType.CHECKOUT_OVERDUE_ALERT,
            obj=checkout,
            station_id=post.station_id,
            details={
                "post": post.id,
                "binders": [line.binder_id for line in checkout.lines.all()],
                "borrower": checkout.borrower_id,
                "due_at": checkout.due_at,
                "status": checkout.status.value,
                **recipients[post.id],
            },
        )
    return overdue


@transaction.atomic
def do_sign_checkout_month(
    post: Post, month: dt.date, *, acting_officer: Officer
) -> CheckoutMonthReview:
    """持出確認簿の月次確認 (第5-3(3)エ): the 管理責任者 checks and signs a post's month."""
    if not (acting_officer.is_superuser or is_post_manager(acting_officer, post.id)):
        raise PermissionDeniedError("持出確認簿の月次確認は管理責任者が行います（第5-3(3)エ）")
    month = month.replace(day=1)
    if month > current_month():
        raise ValidationError({"month": "まだ始まっていない月は確認できません"})
    if CheckoutMonthReview.objects.filter(post=post, month=month).exists():
        raise ValidationError({"month": f"{post}の{month_label(month)}分は既に確認済みです"})
    start, end = month_bounds(month)
    entries = BinderCheckout.objects.filter(post=post, declared_at__gte=start, declared_at__lt=end)
    try:
        with transaction.atomic():
            review = CheckoutMonthReview.objects.create(
                post=post,
                month=month,
                reviewed_by=acting_officer,
                reviewed_at=timezone.now(),
                entry_count=entries.count(),
                open_count=entries.filter(OPEN_CHECKOUT).count(),
            )
    except IntegrityError as exc:
        raise ValidationError({"month": f"{month_label(month)}分は既に確認済みです"}) from exc
    record(
        EventType.CHECKOUT_MONTH_REVIEWED,
        actor=acting_officer,
        obj=review,
        station_id=post.station_id,
        details={
            "post": post.id,
            "month": f"{month:%Y-%m}",
            "entries": review.entry_count,
            "open": review.open_count,
        },
    )
    return review


# --- the cabinet key (第5-3(4)) ------------------------------------------------------------


def current_key_custody(cabinet: Cabinet) -> KeyCustody | None:
    return cabinet.key_custody.select_related("to_officer").order_by("-handed_at", "-id").first()


@transaction.atomic
def do_hand_over_key(
    cabinet: Cabinet,
    to_officer: Officer,
    *,
    acting_officer: Officer | None,
    reason: str,
    at: dt.datetime | None = None,
) -> KeyCustody:
    """保管庫の鍵の引継ぎ: the key passes only to the 取扱責任者 or the deputy the 管理責任者
    designated for that day; every handover is on the record."""
    post = cabinet.post
    # Serialise handovers of one cabinet: the "from" is whoever holds it now.
    Cabinet.objects.select_for_update().filter(id=cabinet.id).first()
    last = current_key_custody(cabinet)
    holder_id = last.to_officer_id if last else None
    if not _system(acting_officer):
        assert acting_officer is not None
        if acting_officer.id not in (holder_id, to_officer.id) and not (
            is_custodian(acting_officer, post.id) or is_post_manager(acting_officer, post.id)
        ):
            raise PermissionDeniedError(
                "鍵の引継ぎを記録できるのは、鍵を引き渡す者・受け取る者、取扱責任者または"
                "管理責任者です"
            )
    reason = reason.strip()
    moment = _moment(at, "handed_at")
    errors = {}
    if not reason:
        errors["reason"] = "引継ぎの理由を入力してください"
    elif len(reason) > 200:
        errors["reason"] = "理由は200文字以内で入力してください"
    if holder_id == to_officer.id:
        errors["to_officer"] = f"{to_officer}は既に鍵を保管しています"
    elif not may_hold_key(to_officer, post, timezone.localtime(moment).date()):
        errors["to_officer"] = (
            "鍵を保管できるのは取扱責任者、または管理責任者が指定した代理保管者です（第5-3(4)）"
        )
    if last is not None and moment < last.handed_at:
        errors["handed_at"] = "直前の引継ぎより前の日時は記録できません"
    if errors:
        raise ValidationError(errors)
    custody = KeyCustody.objects.create(
        cabinet=cabinet,
        from_officer_id=holder_id,
        to_officer=to_officer,
        handed_at=moment,
        reason=reason,
        recorded_by=acting_officer,
    )
    record(
        EventType.KEY_HANDED_OVER,
        actor=acting_officer,
        obj=custody,
        station_id=post.station_id,
        details={"cabinet": cabinet.id, "from": holder_id, "to": to_officer.id},
    )
    return custody


# --- inspections (巡視・点検) --------------------------------------------------------------


@transaction.atomic
def do_record_inspection(
    post: Post,
    *,
    acting_officer: Officer,
    inspected_on: dt.date,
    checklist: Mapping[str, bool],
    findings: str = "",
    guidance: str = "",
    follow_ups: Sequence[str] = (),
) -> Inspection:
    """巡視・点検の記録. With follow-up items it stays open until each is dealt with and it
    is closed; without any it is complete as recorded."""
    if not (acting_officer.is_superuser or may_inspect(acting_officer, post)):
        raise PermissionDeniedError(
            "巡視・点検の記録は地域課長代理・交番所長（巡視する者）または管理責任者が行います"
        )
    findings, guidance = findings.strip(), guidance.strip()
    items = [t.strip() for t in follow_ups if t.strip()]
    errors: dict[str, str] = {}
    unknown = set(checklist) - set(CHECKLIST)
    if unknown:
        errors["checklist"] = f"点検項目 {', '.join(sorted(unknown))} はありません"
    if inspected_on > today():
        errors["inspected_on"] = "点検日が未来になっています"
    if not all(checklist.get(name, False) for name in CHECKLIST) and not findings:
        errors["findings"] = "適正でない点検項目があります。指摘事項を記入してください"
    if len(items) > MAX_FOLLOW_UPS:
        errors["follow_ups"] = f"措置事項は{MAX_FOLLOW_UPS}件までです"
    for i, text in enumerate(items):
        if len(text) > 200:
            errors[f"follow_ups.{i}"] = f"措置事項{i + 1}は200文字以内で入力してください"
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    inspection = Inspection.objects.create(
        post=post,
        inspector=acting_officer,
        inspected_on=inspected_on,
        findings=findings,
        guidance=guidance,
        status=InspectionStatus.OPEN if items else InspectionStatus.CLOSED,
        closed_by=None if items else acting_officer,
        closed_at=None if items else now,
        **{name: bool(checklist.get(name, False)) for name in CHECKLIST},
    )
    InspectionFollowUp.objects.bulk_create(
        [
            InspectionFollowUp(inspection=inspection, position=i, text=text)
            for i, text in enumerate(items)
        ]
    )
    record(
        EventType.INSPECTION_RECORDED,
        actor=acting_officer,
        obj=inspection,
        station_id=post.station_id,
        details={
            "post": post.id,
            "inspected_on": inspected_on,
            "checklist": {name: bool(checklist.get(name, False)) for name in CHECKLIST},
            "follow_ups": len(items),
        },
    )
    return inspection


@transaction.atomic
def do_follow_up(
    item: InspectionFollowUp, *, acting_officer: Officer, action_taken: str
) -> InspectionFollowUp:
    """措置の報告: an officer of the post (or the inspector) says what was done."""
    inspection = Inspection.objects.select_for_update().get(id=item.inspection_id)
    post = Post.objects.get(id=inspection.post_id)
    if not (can_write_post(acting_officer, post.id) or may_inspect(acting_officer, post)):
        raise PermissionDeniedError("措置の報告はこの交番等の警察官または点検者が行います")
    item = InspectionFollowUp.objects.get(id=item.id)
    action_taken = action_taken.strip()
    if inspection.status == InspectionStatus.CLOSED:
        raise ValidationError({"item": "この点検は完了しています"})
    if item.status == FollowUpStatus.DONE:
        raise ValidationError({"item": "この事項は既に措置済みです"})
    if not action_taken:
        raise ValidationError({"action_taken": "措置の内容を入力してください"})
    if len(action_taken) > 2000:
        raise ValidationError({"action_taken": "措置の内容は2000文字以内で入力してください"})
    item.status = FollowUpStatus.DONE
    item.action_taken = action_taken
    item.done_by = acting_officer
    item.done_at = timezone.now()
    item.save(update_fields=["status", "action_taken", "done_by", "done_at"])
    record(
        EventType.INSPECTION_FOLLOWED_UP,
        actor=acting_officer,
        obj=inspection,
        station_id=post.station_id,
        # The post, as the inspection's own event names it: the misuse scan counts a follow-up
        # as work on that post's households (disclosures.misuse.POST_TASKS).
        details={"item": item.id, "post": post.id},
    )
    return item


@transaction.atomic
def do_close_inspection(inspection: Inspection, *, acting_officer: Officer) -> Inspection:
    """点検の完了: by the inspector or another who may inspect the post, once every item is
    dealt with."""
    inspection = Inspection.objects.select_for_update().get(id=inspection.id)
    post = Post.objects.get(id=inspection.post_id)
    if not (
        acting_officer.id == inspection.inspector_id
        or acting_officer.is_superuser
        or may_inspect(acting_officer, post)
    ):
        raise PermissionDeniedError("点検の完了は点検者または管理責任者が行います")
    if inspection.status == InspectionStatus.CLOSED:
        raise ValidationError({"status": "この点検は既に完了しています"})
    pending = inspection.follow_ups.filter(status=FollowUpStatus.OPEN).count()
    if pending:
        raise ValidationError(
            {
                "follow_ups": f"未措置の事項が{pending}件あります。すべて措置してから完了にしてください"
            }
        )
    inspection.status = InspectionStatus.CLOSED
    inspection.closed_by = acting_officer
    inspection.closed_at = timezone.now()
    inspection.save(update_fields=["status", "closed_by", "closed_at"])
    record(
        EventType.INSPECTION_CLOSED,
        actor=acting_officer,
        obj=inspection,
        station_id=post.station_id,
    )
    return inspection


# --- 亡失・盗難 (a binder lost or stolen) ----------------------------------------------------

MAX_PLACE = 200
MAX_TEXT = 2000
MAX_NOTE = 200


def lost_binder_report(binder: Binder) -> LossReport | None:
    """The report that keeps a binder out of service: lost or stolen and not found since."""
    return LossReport.objects.filter(binder=binder, found_at__isnull=True).first()


def loss_reporter_refusal(officer: Officer, binder: Binder) -> str | None:
    """Why `officer` may not report `binder` lost; None when he may: the officer who has it out
    (an open line of the 持出確認簿), or the binder's keepers (取扱責任者, 交番所長, 管理責任者)."""
    if officer.is_superuser or keeps_post(officer, binder.post):
        return None
    if CheckoutBinder.objects.filter(binder=binder, open=True, checkout__borrower=officer).exists():
        return None
    return (
        "亡失・盗難の報告は、簿冊を持ち出している警察官または取扱責任者・交番所長・"
        "管理責任者が行います"
    )


def loss_recipients(post: Post) -> dict[str, list[int]]:
    """Who the report reaches at once: the station's 地域課長 and 署長, and HQ (本部地域課)."""
    station = post.station
    return {
        "section_chiefs": list(section_chiefs_of(station).values_list("id", flat=True)),
        "station_chiefs": list(station_chiefs_of(station).values_list("id", flat=True)),
        "hq": list(hq_officers().values_list("id", flat=True)),
    }


def _text(errors: dict[str, str], field: str, value: str, label: str, limit: int) -> str:
    value = value.strip()
    if not value:
        errors[field] = f"{label}を入力してください"
    elif len(value) > limit:
        errors[field] = f"{label}は{limit}文字以内で入力してください"
    return value


def file_loss_report(
    post: Post,
    *,
    acting_officer: Officer,
    kind: str,
    occurred_at: dt.datetime,
    place: str,
    circumstances: str,
    measures: str,
    cards: Sequence[ContactCard],
    checkout: BinderCheckout | None,
    binder: Binder | None = None,
    device_id: int | None = None,
    already: tuple[str, str] | None = None,
    details: Mapping[str, object] | None = None,
    at: dt.datetime | None = None,
) -> LossReport:
    """The report itself, for a binder (do_report_loss) or a device (junkai.devices.actions):
    the facts checked (each wrong field named), the households of `cards` kept as they are now
    (card, version, index number), and the event that reaches the 地域課長, the 署長 and HQ.
    `already`: (field, message) when the thing is reported lost and not found. Call within the
    caller's transaction, after its own checks of who may report."""
    errors: dict[str, str] = {}
    if kind not in LossKind.values:
        errors["kind"] = "区分は亡失（紛失）か盗難を選んでください"
    place = _text(errors, "place", place, "発生場所", MAX_PLACE)
    circumstances = _text(errors, "circumstances", circumstances, "状況", MAX_TEXT)
    measures = _text(errors, "measures", measures, "措置（届出・捜索）", MAX_TEXT)
    if timezone.is_naive(occurred_at):
        errors["occurred_at"] = "日時は時差付きで指定してください"
    elif occurred_at > timezone.now() + CLOCK_SKEW:
        errors["occurred_at"] = "発生日時が未来になっています"
    if already is not None:
        errors[already[0]] = already[1]
    if errors:
        raise ValidationError(errors)
    now = _moment(at, "reported_at")
    if now < occurred_at:
        raise ValidationError({"occurred_at": "発生日時が報告より後になっています"})
    if occurred_at < now - dt.timedelta(days=366):
        raise ValidationError(
            {"occurred_at": "発生日時が1年以上前になっています。日付を確かめてください"}
        )
    report = LossReport.objects.create(
        post=post,
        binder=binder,
        device_id=device_id,
        checkout=checkout,
        kind=kind,
        occurred_at=occurred_at,
        place=place,
        circumstances=circumstances,
        measures=measures,
        reported_by=acting_officer,
        reported_at=now,
    )
    LossReportHousehold.objects.bulk_create(
        [
            LossReportHousehold(
                report=report,
                household_id=card.household_id,
                card=card,
                card_version=card.version,
                index_number=card.index_number,
            )
            for card in cards
        ]
    )
    record(
        EventType.LOSS_REPORTED,
        actor=acting_officer,
        obj=report,
        station_id=post.station_id,
        details={
            "post": post.id,
            "kind": kind,
            "checkout": checkout.id if checkout else None,
            **(details or {}),
            **loss_recipients(post),
        },
        household_ids=[card.household_id for card in cards],
    )
    return report


@transaction.atomic
def do_report_loss(
    binder: Binder,
    *,
    acting_officer: Officer,
    kind: str,
    occurred_at: dt.datetime,
    place: str,
    circumstances: str,
    measures: str,
    at: dt.datetime | None = None,
) -> LossReport:
    """亡失・盗難の報告. The binder leaves service (it cannot be taken out until found); an open
    line of the 持出確認簿 is closed as lost (the entry itself once nothing of it is left out);
    the households whose cards the binder holds now are kept with the report as they are."""
    binder = Binder.objects.select_for_update().select_related("post__station").get(id=binder.id)
    post = binder.post
    refusal = loss_reporter_refusal(acting_officer, binder)
    if refusal is not None:
        raise PermissionDeniedError(refusal)
    earlier = lost_binder_report(binder)
    line = (
        CheckoutBinder.objects.select_for_update()
        .filter(binder=binder, open=True)
        .select_related("checkout")
        .first()
    )
    report = file_loss_report(
        post,
        acting_officer=acting_officer,
        kind=kind,
        occurred_at=occurred_at,
        place=place,
        circumstances=circumstances,
        measures=measures,
        # What the binder held at this moment: its cards now, kept as they were.
        cards=list(binder.cards().order_by("index_number", "household_id")),
        checkout=line.checkout if line else None,
        binder=binder,
        already=(
            "binder",
            f"簿冊 {binder.number} は既に亡失・盗難を報告済みです（報告 #{earlier.id}）",
        )
        if earlier is not None
        else None,
        details={"binder": binder.id, "number": binder.number},
        at=at,
    )
    if line is not None:
        line.open = False
        line.loss_report = report
        line.save(update_fields=["open", "loss_report"])
        checkout = BinderCheckout.objects.select_for_update().get(id=line.checkout_id)
        if not CheckoutBinder.objects.filter(checkout=checkout, open=True).exists():
            checkout.lost_at = report.reported_at
            checkout.save(update_fields=["lost_at"])
    return report


def _open_report(report: LossReport) -> LossReport:
    fresh = LossReport.objects.select_for_update().select_related("post__station").get(id=report.id)
    if fresh.status == LossReportStatus.CLOSED:
        raise ValidationError({"status": "この報告は既に完了しています"})
    return fresh


def _require_follow_up(officer: Officer, report: LossReport, what: str) -> None:
    if not (officer.is_superuser or can_write_post(officer, report.post_id)):
        raise PermissionDeniedError(f"{what}は{report.post}の警察官または地域課長が記録します")


def _entry(report: LossReport, household_id: int) -> LossReportHousehold:
    entry = (
        LossReportHousehold.objects.select_for_update()
        .filter(report=report, household_id=household_id)
        .first()
    )
    if entry is None:
        raise ValidationError({"household_id": "この世帯は報告の対象ではありません"})
    return entry


def _when(at: dt.datetime | None, field: str, report: LossReport) -> dt.datetime:
    moment = _moment(at, field)
    if moment < report.occurred_at:
        raise ValidationError({field: "日時が亡失・盗難の発生より前になっています"})
    return moment


@transaction.atomic
def do_record_household_informed(
    report: LossReport,
    household_id: int,
    *,
    acting_officer: Officer,
    method: str,
    note: str = "",
    at: dt.datetime | None = None,
) -> LossReportHousehold:
    """住民等への連絡: the resident was told that his card was in the lost binder (and how)."""
    report = _open_report(report)
    _require_follow_up(acting_officer, report, "住民等への連絡")
    entry = _entry(report, household_id)
    errors: dict[str, str] = {}
    if entry.informed_at is not None:
        errors["household_id"] = "この世帯への連絡は既に記録されています"
    if method not in InformMethod.values:
        errors["method"] = "連絡の方法は面接・電話・文書・その他から選んでください"
    note = note.strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"連絡の内容は{MAX_NOTE}文字以内で入力してください"
    elif method == InformMethod.OTHER and not note:
        errors["note"] = "その他の方法のときは、連絡の内容を入力してください"
    if errors:
        raise ValidationError(errors)
    entry.informed_at = _when(at, "informed_at", report)
    entry.informed_method = method
    entry.informed_note = note
    entry.informed_by = acting_officer
    entry.save(update_fields=["informed_at", "informed_method", "informed_note", "informed_by"])
    record(
        EventType.LOSS_HOUSEHOLD_INFORMED,
        actor=acting_officer,
        obj=report,
        station_id=report.post.station_id,
        details={"method": method},
        household_ids=[household_id],
    )
    return entry


@transaction.atomic
def do_record_card_recreated(
    report: LossReport,
    household_id: int,
    *,
    acting_officer: Officer,
    note: str = "",
    at: dt.datetime | None = None,
) -> LossReportHousehold:
    """カードの再作成: a new card in place of the lost one. Linked to the household's newest
    correction since the loss (the re-created card's 補正), when there is one."""
    report = _open_report(report)
    _require_follow_up(acting_officer, report, "カードの再作成")
    entry = _entry(report, household_id)
    errors: dict[str, str] = {}
    if entry.card_recreated_at is not None:
        errors["household_id"] = "この世帯のカードの再作成は既に記録されています"
    note = note.strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"備考は{MAX_NOTE}文字以内で入力してください"
    if errors:
        raise ValidationError(errors)
    moment = _when(at, "card_recreated_at", report)
    revision = (
        CardRevision.objects.filter(
            card__household_id=household_id,
            revised_at__gte=report.occurred_at,
            revised_at__lte=moment + CLOCK_SKEW,
        )
        .order_by("-revised_at", "-id")
        .first()
    )
    entry.card_recreated_at = moment
    entry.card_revision = revision
    entry.card_recreated_note = note
    entry.card_recreated_by = acting_officer
    entry.save(
        update_fields=[
            "card_recreated_at",
            "card_revision",
            "card_recreated_note",
            "card_recreated_by",
        ]
    )
    record(
        EventType.LOSS_CARD_RECREATED,
        actor=acting_officer,
        obj=report,
        station_id=report.post.station_id,
        details={"revision": revision.id if revision else None},
        household_ids=[household_id],
    )
    return entry


@transaction.atomic
def do_record_loss_found(
    report: LossReport,
    *,
    acting_officer: Officer,
    place: str,
    note: str = "",
    at: dt.datetime | None = None,
) -> LossReport:
    """発見の記録: the binder (or device) was found. It returns to service; the residents are
    still told (their cards were out of police hands), but no card need be re-created. A
    device's checkouts stay revoked: it carries a beat again only under a new checkout."""
    report = _open_report(report)
    _require_follow_up(acting_officer, report, "発見の記録")
    errors: dict[str, str] = {}
    if report.found_at is not None:
        errors["found_at"] = "発見は既に記録されています"
    place = _text(errors, "place", place, "発見場所", MAX_PLACE)
    note = note.strip()
    if len(note) > MAX_TEXT:
        errors["note"] = f"発見時の状況は{MAX_TEXT}文字以内で入力してください"
    if errors:
        raise ValidationError(errors)
    report.found_at = _when(at, "found_at", report)
    report.found_place = place
    report.found_note = note
    report.found_recorded_by = acting_officer
    report.save(update_fields=["found_at", "found_place", "found_note", "found_recorded_by"])
    record(
        EventType.LOSS_FOUND,
        actor=acting_officer,
        obj=report,
        station_id=report.post.station_id,
        details={
            "binder": report.binder_id,
            "device": report.device_id,
            **loss_recipients(report.post),
        },
    )
    return report


def loss_pending(report: LossReport) -> int:
    """Households not yet done (informed, and the card re-created unless the binder was found)."""
    pending = report.entries.filter(informed_at__isnull=True)
    if report.found_at is None:
        pending = report.entries.filter(
            Q(informed_at__isnull=True) | Q(card_recreated_at__isnull=True)
        )
    return pending.count()


@transaction.atomic
def do_close_loss_report(report: LossReport, *, acting_officer: Officer) -> LossReport:
    """報告の完了: by the 地域課長, once every household is done."""
    report = _open_report(report)
    if not (
        acting_officer.is_superuser or is_section_chief(acting_officer, report.post.station_id)
    ):
        raise PermissionDeniedError("亡失・盗難の報告を完了にできるのは地域課長（管理責任者）です")
    pending = loss_pending(report)
    if pending:
        need = "住民等への連絡" if report.found_at else "住民等への連絡とカードの再作成"
        raise ValidationError(
            {
                "households": f"{need}が済んでいない世帯が{pending}世帯あります。すべて済んでから完了にしてください"
            }
        )
    report.status = LossReportStatus.CLOSED
    report.closed_by = acting_officer
    report.closed_at = timezone.now()
    report.save(update_fields=["status", "closed_by", "closed_at"])
    record(
        EventType.LOSS_REPORT_CLOSED,
        actor=acting_officer,
        obj=report,
        station_id=report.post.station_id,
        details={"found": report.found_at is not None},
    )
    return report
