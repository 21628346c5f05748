"""Visits (巡回連絡の実施), the schedule policy, reports to superiors, plans and handover."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from junkai.households.models import CardRevision, Household, Outcome
from junkai.lib.wareki import format_wareki
from junkai.org.models import Beat, Officer, Post, Station

User = Officer  # AUTH_USER_MODEL


class Method(models.TextChoices):
    VISIT = "VISIT", "訪問"
    PHONE = "PHONE", "電話"


class GuidanceTopic(models.IntegerChoices):
    """第4-4 (1)–(6)."""

    TRENDS = 1, "犯罪・事故・災害の傾向と被害防止"
    LOCAL = 2, "身近な犯罪等の発生状況と被害防止"
    EMERGENCY = 3, "発生時の応急措置・緊急連絡"
    PROCEDURES = 4, "警察への諸届の手続"
    HEARING = 5, "困りごと・意見・要望の聴取"
    OTHER = 6, "その他安全で平穏な生活に必要な事項"


class NightApprovalStatus(models.TextChoices):
    PENDING = "PENDING", "承認待ち"
    APPROVED = "APPROVED", "承認済"
    REJECTED = "REJECTED", "不承認"


class NightVisitApproval(models.Model):
    """夜間実施の承認 (第4-3): 地域課長, and for 交番 staff also the 交番所長, approve in advance."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="night_approvals"
    )
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    planned_start = models.DateTimeField("予定開始")
    planned_end = models.DateTimeField("予定終了")
    reason = models.CharField("理由（住民等の都合）", max_length=200)
    needs_koban_head = models.BooleanField(default=False)
    manager_approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    manager_approved_at = models.DateTimeField(null=True, blank=True)
    koban_head_approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    koban_head_approved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=NightApprovalStatus.choices, default=NightApprovalStatus.PENDING
    )
    rejected_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "夜間実施の承認"
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")), name="night_approval_period"
            )
        ]

    def __str__(self) -> str:
        return f"夜間実施の承認 #{self.pk}"

    def covers(self, household_id: int, moment: dt.datetime) -> bool:
        return (
            self.status == NightApprovalStatus.APPROVED
            and self.household_id == household_id
            and self.planned_start <= moment <= self.planned_end
        )


class Visit(models.Model):
    """One 巡回連絡: a visit or a phone contact, with its outcome and the guidance given."""

    # household, post and officer lead the composite indexes below, which serve their lookups
    # too: a single-column index of each only doubled the writes (none was scanned under load).
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="+", db_index=False)
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    companions: models.ManyToManyField[Officer, Any] = models.ManyToManyField(
        Officer, blank=True, related_name="+"
    )
    started_at = models.DateTimeField("実施日時")
    method = models.CharField("方法", max_length=8, choices=Method.choices, default=Method.VISIT)
    outcome = models.CharField("結果", max_length=8, choices=Outcome.choices)
    guidance_topics = models.JSONField("指導連絡・情報提供事項", default=list)
    note = models.TextField("メモ", blank=True)
    refusal_explanation = models.TextField("拒否時の趣旨説明", blank=True)
    # No index: nothing looks visits up by their revision (no reverse accessor) and revisions
    # are never deleted; pg_stat_user_indexes showed it unread under load (issue 14).
    card_revision = models.ForeignKey(
        CardRevision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    night_approval = models.ForeignKey(
        NightVisitApproval, on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "巡回連絡"
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["household", "-started_at"]),
            models.Index(fields=["officer", "started_at"]),
            models.Index(fields=["post", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"巡回連絡 #{self.pk}"


class ConcernKind(models.TextChoices):
    TROUBLE = "TROUBLE", "困りごと"
    OPINION = "OPINION", "意見"
    REQUEST = "REQUEST", "要望"


class ConcernStatus(models.TextChoices):
    OPEN = "OPEN", "未対応"
    IN_PROGRESS = "IN_PROGRESS", "対応中"
    RESOLVED = "RESOLVED", "対応済"


class Concern(models.Model):
    """困りごと・意見・要望 heard on a visit, followed up by its owner."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="concerns")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="concerns")
    kind = models.CharField("種別", max_length=16, choices=ConcernKind.choices)
    text = models.TextField("内容")
    status = models.CharField(
        "対応状況", max_length=16, choices=ConcernStatus.choices, default=ConcernStatus.OPEN
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="concerns")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField("対応結果", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "困りごと・意見・要望"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["household", "status"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self) -> str:
        return f"困りごと等 #{self.pk}"


class InfoReport(models.Model):
    """見聞きした情報の報告 (第4-5(3)): at once to the manager's inbox."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="info_reports")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("内容")
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "見聞情報の報告"
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"見聞情報 #{self.pk}"


class RefusalReport(models.Model):
    """拒否の報告 (第4-5(4)): to the 地域課長, and for 交番 staff also the 交番所長."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="refusal_report")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="+")
    needs_koban_head = models.BooleanField(default=False)
    manager_ack_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    manager_ack_at = models.DateTimeField(null=True, blank=True)
    koban_head_ack_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    koban_head_ack_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "拒否の報告"
        ordering = ["-visit__started_at"]

    def __str__(self) -> str:
        return f"拒否の報告 #{self.pk}"

    @property
    def fully_acknowledged(self) -> bool:
        return self.manager_ack_at is not None and (
            not self.needs_koban_head or self.koban_head_ack_at is not None
        )


class DedicatedDay(models.Model):
    """専従日 (第3-2): a day an officer spends on 巡回連絡 only, set by the manager."""

    officer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="dedicated_days")
    day = models.DateField("専従日")
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "専従日"
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["officer", "day"], name="dedicated_day_unique")
        ]

    def __str__(self) -> str:
        return f"専従日 {format_wareki(self.day)}"


class MonthlyPlan(models.Model):
    """An officer's monthly plan (計画的に実施): areas and households to visit."""

    officer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="monthly_plans")
    month = models.DateField("月（1日）")
    areas = models.CharField("重点地区", max_length=200, blank=True)
    target_visits = models.PositiveIntegerField("予定件数", default=0)
    households = models.ManyToManyField(Household, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "月間計画"
        constraints = [
            models.UniqueConstraint(fields=["officer", "month"], name="monthly_plan_unique")
        ]

    def __str__(self) -> str:
        return f"月間計画 {self.month:%Y-%m}"


class HandoverNote(models.Model):
    """A note the predecessor leaves on a beat for the next officer (第4-6)."""

    beat = models.ForeignKey(Beat, on_delete=models.PROTECT, related_name="handover_notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("引継事項")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "引継事項"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"引継事項 #{self.pk}"
