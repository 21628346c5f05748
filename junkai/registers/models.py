"""Custody of the cards (要領 第5-3 (3)(4)): cabinets and their keys, binders (簿冊), the checkout
register (巡回連絡カード持出確認簿, 第6号様式) with its monthly review, and inspections (巡視・点検).

Changed only through junkai.registers.actions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from junkai.households.models import CardRevision, CardStatus, ContactCard, Household
from junkai.org.models import Officer, Post

User = Officer  # AUTH_USER_MODEL


class Cabinet(models.Model):
    """保管庫: the locked cabinet in which a post keeps its cards (第5-3(4))."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="cabinets", verbose_name="交番等"
    )
    name = models.CharField("名称", max_length=64)
    location = models.CharField("設置場所", max_length=100, blank=True)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "保管庫"
        ordering = ["post", "name"]
        constraints = [
            models.UniqueConstraint(fields=["post", "name"], name="cabinet_name_unique_per_post"),
        ]

    def __str__(self) -> str:
        return f"{self.post} {self.name}"


def number_key(number: str) -> tuple[int, str]:
    """簿冊番号 in shelf order: 2 before 10 (numbers are text, so a plain sort puts 10 first)."""
    return len(number), number


class Binder(models.Model):
    """簿冊: a binder of cards. It holds the post's active cards whose 簿冊番号 is its number."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="binders", verbose_name="交番等"
    )
    cabinet = models.ForeignKey(
        Cabinet, on_delete=models.PROTECT, related_name="binders", verbose_name="保管庫"
    )
    # Same width as ContactCard.binder_number: the two are matched as written.
    number = models.CharField("簿冊番号", max_length=20)
    title = models.CharField("表題", max_length=100, blank=True)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "簿冊"
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "number"], name="binder_number_unique_per_post"
            ),
        ]

    def __str__(self) -> str:
        return f"簿冊 {self.number}"

    def cards(self) -> models.QuerySet[ContactCard]:
        return ContactCard.objects.filter(
            post_id=self.post_id, binder_number=self.number, status=CardStatus.ACTIVE
        )


class CheckoutStatus(models.TextChoices):
    DECLARED = "DECLARED", "持出確認待ち"
    OUT = "OUT", "持出中"
    RETURNED = "RETURNED", "返却確認待ち"
    CLOSED = "CLOSED", "返却確認済"
    LOST = "LOST", "亡失により終了"
    REVOKED = "REVOKED", "使用停止により終了"


class BinderCheckout(models.Model):
    """One entry of the 持出確認簿 (第6号様式): one declaration lists the binder numbers taken.

    持出日時・簿冊番号・持出警察官・目的 are written at the declaration (申告, to the 管理責任者);
    the 持出確認者 and 返却確認者 are someone other than the borrower, except at a single-officer
    駐在所 where the officer confirms himself and the entry says so (第5-3(3)ウ).
    """

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="checkouts", verbose_name="交番等"
    )
    binders: models.ManyToManyField[Binder, Any] = models.ManyToManyField(
        Binder, through="CheckoutBinder", related_name="checkouts", verbose_name="簿冊"
    )
    borrower = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="持出警察官"
    )
    purpose = models.CharField("目的", max_length=200)
    declared_at = models.DateTimeField("持出日時（申告）")
    declared_to = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="申告先（管理責任者）",
    )
    due_at = models.DateTimeField("返却期限")
    out_confirmed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    out_confirmed_at = models.DateTimeField("持出確認日時", null=True, blank=True)
    returned_at = models.DateTimeField("返却日時", null=True, blank=True)
    return_confirmed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_confirmed_at = models.DateTimeField("返却確認日時", null=True, blank=True)
    self_confirmed = models.BooleanField("本人確認（一人勤務の駐在所）", default=False)
    overdue_alerted_at = models.DateTimeField("未返却の警告日時", null=True, blank=True)
    # Every binder of the entry was reported lost or stolen while out: nothing is left to
    # return, and the entry is closed by the loss report rather than by a return.
    lost_at = models.DateTimeField("亡失により終了した日時", null=True, blank=True)
    # A device's entry whose device was taken out of use (junkai.devices do_revoke_device)
    # without a loss report: not a return (nothing came back to be confirmed) and no longer
    # chased as overdue; the device wipes itself at its next contact.
    revoked_at = models.DateTimeField("使用停止により終了した日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "持出確認簿"
        ordering = ["declared_at", "id"]
        indexes = [
            models.Index(fields=["post", "declared_at"]),
            models.Index(fields=["return_confirmed_at", "due_at"]),
        ]
        constraints = [
            # Each step follows the one before it.
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(out_confirmed_at__isnull=False),
                name="checkout_return_after_out",
            ),
            models.CheckConstraint(
                condition=Q(return_confirmed_at__isnull=True) | Q(returned_at__isnull=False),
                name="checkout_confirm_after_return",
            ),
        ]

    def __str__(self) -> str:
        return f"持出確認簿 #{self.pk}"

    @property
    def status(self) -> CheckoutStatus:
        if self.lost_at is not None:
            return CheckoutStatus.LOST
        if self.revoked_at is not None:
            return CheckoutStatus.REVOKED
        if self.return_confirmed_at is not None:
            return CheckoutStatus.CLOSED
        if self.returned_at is not None:
            return CheckoutStatus.RETURNED
        if self.out_confirmed_at is not None:
            return CheckoutStatus.OUT
        return CheckoutStatus.DECLARED

    @property
    def is_open(self) -> bool:
        return self.return_confirmed_at is None and self.lost_at is None and self.revoked_at is None

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.is_open and self.due_at < (now or timezone.now())


#: Entries still open: neither confirmed back nor closed by a loss or the device's revocation.
OPEN_CHECKOUT = Q(return_confirmed_at__isnull=True, lost_at__isnull=True, revoked_at__isnull=True)


class CheckoutBinder(models.Model):
    """A binder listed on an entry; `open` until its return is confirmed.

    At most one open line per binder: a binder that is out cannot be taken out again, and the
    database holds to it even if two declarations race.
    """

    checkout = models.ForeignKey(BinderCheckout, on_delete=models.PROTECT, related_name="lines")
    binder = models.ForeignKey(Binder, on_delete=models.PROTECT, related_name="checkout_lines")
    open = models.BooleanField(default=True)
    # Set when the binder was reported lost or stolen while out on this entry.
    loss_report = models.ForeignKey(
        "LossReport", on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )

    class Meta:
        verbose_name = verbose_name_plural = "持出簿冊"
        ordering = ["checkout", "binder__number"]
        constraints = [
            models.UniqueConstraint(fields=["checkout", "binder"], name="checkout_binder_once"),
            models.UniqueConstraint(
                fields=["binder"], condition=Q(open=True), name="binder_out_once"
            ),
        ]

    def __str__(self) -> str:
        return f"持出簿冊 #{self.pk}"


class CheckoutMonthReview(models.Model):
    """第5-3(3)エ: the 管理責任者 checks each post's register once a month."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="checkout_reviews", verbose_name="交番等"
    )
    month = models.DateField("対象月", help_text="月の初日")
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="確認者（管理責任者）"
    )
    reviewed_at = models.DateTimeField("確認日時")
    entry_count = models.PositiveIntegerField("確認した記載の数", default=0)
    open_count = models.PositiveIntegerField("確認時に返却未確認の記載", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "持出確認簿の月次確認"
        ordering = ["post_id", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["post", "month"], name="checkout_review_once"),
            models.CheckConstraint(condition=Q(month__day=1), name="checkout_review_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.post} {self.month:%Y-%m} 月次確認"


class KeyCustody(models.Model):
    """A handover of a cabinet's key (第5-3(4)): held by the 取扱責任者, or while he is away by
    the officer the 管理責任者 designated (KeyDeputy). The newest row names the holder."""

    cabinet = models.ForeignKey(
        Cabinet, on_delete=models.PROTECT, related_name="key_custody", verbose_name="保管庫"
    )
    from_officer = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="引き渡した者",
    )
    to_officer = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="受け取った者"
    )
    handed_at = models.DateTimeField("引継日時")
    reason = models.CharField("理由", max_length=200)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "保管庫の鍵の引継ぎ"
        ordering = ["cabinet", "-handed_at", "-id"]
        indexes = [models.Index(fields=["cabinet", "handed_at"])]

    def __str__(self) -> str:
        return f"鍵の引継ぎ #{self.pk}"


class InspectionStatus(models.TextChoices):
    OPEN = "OPEN", "措置中"
    CLOSED = "CLOSED", "完了"


#: The checklist of an inspection: field name → what the inspector looked at.
CHECKLIST = {
    "cards_created": "巡回連絡カードの作成（第5-1）",
    "cards_corrected": "異動事項の補正（第5-3(2)）",
    "cabinet_locked": "保管庫の施錠・鍵の保管（第5-3(4)）",
    "register_complete": "持出確認簿の記載（第5-3(3)ア〜ウ）",
    "monthly_review_signed": "持出確認簿の月次確認（第5-3(3)エ）",
}


class Inspection(models.Model):
    """巡視・点検 of a post by an inspector (地域課長代理・交番所長) or the 管理責任者."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="inspections", verbose_name="交番等"
    )
    inspector = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="点検者"
    )
    inspected_on = models.DateField("点検日")
    cards_created = models.BooleanField(CHECKLIST["cards_created"], default=False)
    cards_corrected = models.BooleanField(CHECKLIST["cards_corrected"], default=False)
    cabinet_locked = models.BooleanField(CHECKLIST["cabinet_locked"], default=False)
    register_complete = models.BooleanField(CHECKLIST["register_complete"], default=False)
    monthly_review_signed = models.BooleanField(CHECKLIST["monthly_review_signed"], default=False)
    findings = models.TextField("指摘事項", blank=True)
    guidance = models.TextField("指導事項", blank=True)
    status = models.CharField(
        "状態", max_length=8, choices=InspectionStatus.choices, default=InspectionStatus.OPEN
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField("完了日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "巡視・点検"
        ordering = ["-inspected_on", "-id"]
        indexes = [models.Index(fields=["post", "inspected_on"])]

    def __str__(self) -> str:
        return f"巡視・点検 #{self.pk}"

    def checklist(self) -> list[tuple[str, str, bool]]:
        return [(name, label, bool(getattr(self, name))) for name, label in CHECKLIST.items()]


class FollowUpStatus(models.TextChoices):
    OPEN = "OPEN", "未措置"
    DONE = "DONE", "措置済"


class InspectionFollowUp(models.Model):
    """A follow-up item of an inspection, open until the post reports what it did."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="follow_ups")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField("措置すべき事項", max_length=200)
    status = models.CharField(
        "状態", max_length=8, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    action_taken = models.TextField("措置の内容", blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField("措置日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "点検の措置事項"
        ordering = ["inspection", "position", "id"]

    def __str__(self) -> str:
        return f"措置事項 #{self.pk}"


# --- 亡失・盗難 (a binder, later a device, lost or stolen) ------------------------------------


class LossKind(models.TextChoices):
    LOST = "LOST", "亡失（紛失）"
    STOLEN = "STOLEN", "盗難"


class LossReportStatus(models.TextChoices):
    OPEN = "OPEN", "対応中"
    CLOSED = "CLOSED", "完了"


class InformMethod(models.TextChoices):
    IN_PERSON = "IN_PERSON", "面接"
    PHONE = "PHONE", "電話"
    LETTER = "LETTER", "文書"
    OTHER = "OTHER", "その他"


class LossReport(models.Model):
    """亡失・盗難の報告: what was lost (a binder, or a device that carried a beat: exactly one of
    the two), when, where and how, what was done, and the households whose cards it held at that
    moment (LossReportHousehold, a snapshot kept as it was: a binder's cards then; for a device,
    the households it pulled under the checkouts still out on it, junkai.devices.actions).

    Open until the 地域課長 closes it, which he may only once every household is done.
    """

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="loss_reports", verbose_name="交番等"
    )
    binder = models.ForeignKey(
        Binder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loss_reports",
        verbose_name="簿冊",
    )
    # junkai.devices stands on this app: named, not imported (as the 持出確認簿's device rows).
    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loss_reports",
        verbose_name="端末",
    )
    checkout = models.ForeignKey(
        BinderCheckout,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loss_reports",
        verbose_name="持出確認簿の記載（持出中の亡失）",
    )
    kind = models.CharField("区分", max_length=8, choices=LossKind.choices)
    occurred_at = models.DateTimeField("発生日時（判明した日時）")
    place = models.CharField("発生場所", max_length=200)
    circumstances = models.TextField("状況")
    measures = models.TextField("措置（遺失届・被害届の届出先、捜索の状況）")
    reported_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="報告者"
    )
    reported_at = models.DateTimeField("報告日時")
    found_at = models.DateTimeField("発見日時", null=True, blank=True)
    found_place = models.CharField("発見場所", max_length=200, blank=True)
    found_note = models.TextField("発見時の状況", blank=True)
    found_recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        "状態", max_length=8, choices=LossReportStatus.choices, default=LossReportStatus.OPEN
    )
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField("完了日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "亡失・盗難の報告"
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["post", "status"])]
        constraints = [
            # What was lost: a binder or a device, never both.
            models.CheckConstraint(
                condition=Q(binder__isnull=False, device__isnull=True)
                | Q(binder__isnull=True, device__isnull=False),
                name="loss_report_names_what",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(status="CLOSED"),
                name="loss_report_closed_status",
            ),
        ]

    def __str__(self) -> str:
        return f"亡失・盗難の報告 #{self.pk}"

    @property
    def subject(self) -> str:
        if self.binder_id is not None:
            return str(self.binder)
        return str(self.device) if self.device_id is not None else "―"

    @property
    def held_by(self) -> str:
        """Where the households' cards were: the binder's pages or the device's storage."""
        return "端末に同期されていた" if self.device_id is not None else "簿冊に綴られていた"

    @property
    def found(self) -> bool:
        return self.found_at is not None


class LossReportHousehold(models.Model):
    """A household whose card the lost binder (or device) held when it was lost, and its
    follow-up: the resident informed (when, how), the card re-created (when; the revision if
    there is one). Done when informed and re-created — or, once it is found, when informed."""

    report = models.ForeignKey(LossReport, on_delete=models.PROTECT, related_name="entries")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    # The card as it was in the binder (its version then; it may be corrected or disposed since).
    card = models.ForeignKey(ContactCard, on_delete=models.PROTECT, related_name="+")
    card_version = models.PositiveIntegerField("カードの版（亡失時）")
    index_number = models.PositiveIntegerField("索引番号（亡失時）", null=True, blank=True)
    informed_at = models.DateTimeField("住民等への連絡日時", null=True, blank=True)
    informed_method = models.CharField(
        "連絡の方法", max_length=16, choices=InformMethod.choices, blank=True
    )
    informed_note = models.CharField("連絡の内容・相手方", max_length=200, blank=True)
    informed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    card_recreated_at = models.DateTimeField("カード再作成日時", null=True, blank=True)
    card_revision = models.ForeignKey(
        CardRevision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="再作成した補正",
    )
    card_recreated_note = models.CharField("再作成の備考", max_length=200, blank=True)
    card_recreated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "亡失・盗難の対象世帯"
        ordering = ["report", "index_number", "household_id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "household"], name="loss_household_once"),
        ]

    def __str__(self) -> str:
        return f"亡失・盗難の対象世帯 #{self.pk}"

    def is_done(self, report: LossReport) -> bool:
        return self.informed_at is not None and (
            self.card_recreated_at is not None or report.found_at is not None
        )
