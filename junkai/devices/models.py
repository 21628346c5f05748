"""Devices (端末) that carry a beat offline. A tablet that holds cards is what a binder is under
the 要領: it leaves the post only under the 持出確認簿 (第5-3(3)), so each device checkout hangs
on one entry of that register (`registers.BinderCheckout`) and follows its four steps there.

Changed only through junkai.devices.actions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from junkai.households.models import ContactCard, Household
from junkai.org.models import Beat, Officer, Post
from junkai.registers.models import BinderCheckout, CheckoutStatus

User = Officer  # AUTH_USER_MODEL


class Device(models.Model):
    """A tablet registered to a post by its 取扱責任者. Revoked (lost, retired) for good."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="devices", verbose_name="交番等"
    )
    label = models.CharField("端末名", max_length=64)
    registered_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登録者",
    )
    registered_at = models.DateTimeField("登録日時", default=timezone.now)
    revoked_at = models.DateTimeField("使用停止日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.CharField("使用停止の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "端末"
        ordering = ["post", "label"]
        constraints = [
            models.UniqueConstraint(fields=["post", "label"], name="device_label_unique_per_post"),
        ]

    def __str__(self) -> str:
        return f"端末 {self.label}"


class DeviceCheckout(models.Model):
    """A beat taken onto a device: one entry of the 持出確認簿 (declared, confirmed out by a
    second officer, returned, confirmed back, as for binders) and the checkout's data key.

    The data key (256 bits) encrypts what the device stores; it is kept here only wrapped
    (AES-GCM under a key derived from SECRET_KEY, junkai.devices.keys) and leaves the server only
    wrapped under a lease key of one shift. `revoked_at`: the device was reported lost or
    retired while out; sync answers 410 and the device is told to wipe itself."""

    entry = models.OneToOneField(
        BinderCheckout,
        on_delete=models.PROTECT,
        related_name="device_checkout",
        verbose_name="持出確認簿の記載",
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="checkouts", verbose_name="端末"
    )
    beat = models.ForeignKey(
        Beat, on_delete=models.PROTECT, related_name="+", verbose_name="受持区"
    )
    data_key_wrapped = models.BinaryField("データ鍵（暗号化済）")
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The head of the device's offline read log as merged so far (seq 0: none yet).
    read_log_seq = models.PositiveBigIntegerField(default=0)
    read_log_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "端末の持出し"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"端末の持出し #{self.pk}"

    @property
    def status(self) -> CheckoutStatus:
        return self.entry.status

    @property
    def syncable(self) -> bool:
        """Out (confirmed by the second officer), not yet returned, not revoked."""
        return (
            self.revoked_at is None
            and self.device.revoked_at is None
            and self.entry.status == CheckoutStatus.OUT
        )


class DeviceLease(models.Model):
    """A lease of one shift (≤ 12 h): a fresh random key the data key travels wrapped under.
    The server keeps only its digest (which lease a device used, when it ends)."""

    checkout = models.ForeignKey(DeviceCheckout, on_delete=models.PROTECT, related_name="leases")
    officer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    key_sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "端末の鍵の貸与"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")), name="lease_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"鍵の貸与 #{self.pk}"


class DevicePull(models.Model):
    """A pull of the beat onto the device: its audit event names the households sent (the
    (event, household) rows), so "what this device held" is the union over its pulls."""

    checkout = models.ForeignKey(DeviceCheckout, on_delete=models.PROTECT, related_name="pulls")
    event_id = models.BigIntegerField()
    pulled_at = models.DateTimeField(default=timezone.now)
    household_count = models.PositiveIntegerField(default=0)
    full = models.BooleanField(default=True)

    class Meta:
        verbose_name = verbose_name_plural = "端末への同期"
        ordering = ["checkout", "id"]

    def __str__(self) -> str:
        return f"端末への同期 #{self.pk}"


class ChangeKind(models.TextChoices):
    VISIT = "visit", "巡回連絡の記録"
    CARD = "card", "カードの補正"


class ChangeStatus(models.TextChoices):
    APPLIED = "applied", "反映"
    CONFLICT = "conflict", "競合（両方の版を保存）"
    REFUSED = "refused", "不受理"


class SyncChange(models.Model):
    """One change of a device's outbox, by its client id: applied once, its result kept, so
    the same change sent again gets the same answer and makes no second record."""

    checkout = models.ForeignKey(DeviceCheckout, on_delete=models.PROTECT, related_name="changes")
    client_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=ChangeKind.choices)
    status = models.CharField(max_length=8, choices=ChangeStatus.choices)
    result = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "端末からの変更"
        ordering = ["checkout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checkout", "client_id"], name="sync_change_once"),
        ]

    def __str__(self) -> str:
        return f"端末からの変更 #{self.pk}"


class CardConflict(models.Model):
    """A card corrected on the device while it was also corrected at the post: the device's
    version is kept here beside the card's own revisions until someone chooses (the existing
    conflict page shows both side by side); nothing of either is lost."""

    checkout = models.ForeignKey(DeviceCheckout, on_delete=models.PROTECT, related_name="conflicts")
    change = models.OneToOneField(SyncChange, on_delete=models.PROTECT, related_name="conflict")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey(ContactCard, on_delete=models.PROTECT, related_name="+")
    expected_version = models.PositiveIntegerField("端末で読んだ版")
    current_version = models.PositiveIntegerField("同期時の版")
    submitted = models.JSONField("端末の内容")
    basis = models.CharField(max_length=16)
    note = models.CharField(max_length=200, blank=True)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "端末の補正の競合"
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"端末の補正の競合 #{self.pk}"


class OfflineRead(models.Model):
    """An entry of the device's offline read log (hash-chained on the device), as merged;
    `event_id` is its READ_OFFLINE audit event (in the household's 閲覧記録)."""

    checkout = models.ForeignKey(
        DeviceCheckout, on_delete=models.PROTECT, related_name="offline_reads"
    )
    seq = models.PositiveBigIntegerField()
    household_id = models.BigIntegerField()
    read_at = models.DateTimeField()
    purpose = models.CharField(max_length=16)
    entry_hash = models.CharField(max_length=64)
    intact = models.BooleanField(default=True)
    event_id = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = verbose_name_plural = "端末での閲覧"
        ordering = ["checkout", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["checkout", "seq"], name="offline_read_seq_once"),
        ]

    def __str__(self) -> str:
        return f"端末での閲覧 #{self.pk}"
