"""Disclosures of 巡回連絡個人情報 (要領 第5-4 (2)) and the signals of their misuse.

DataUse       利用確認簿 (第7号様式): another unit of this prefecture or another prefecture's
              police asks; identity is verified by calling back on the police phone; another
              prefecture needs the 管理責任者's approval; the release records exactly what was
              shown or given.
AgencyRequest 他の行政機関からの照会: the written request (file), the recipient, the purpose and
              the legal basis; the 管理責任者 decides.
MisuseFlag    a signal raised by `junkai misuse-scan` from the audit log, for the manager;
              MisuseFlagRead its audit events one row each (found by event or household),
              MisuseScanMark where the periodic scan stopped.

Changed only through junkai.disclosures.actions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, ClassVar, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from junkai.households.models import Household
from junkai.lib.dates import start_of_day
from junkai.lib.wareki import era_of, format_wareki
from junkai.org.models import Officer, Post, Station

User = Officer  # AUTH_USER_MODEL

E = TypeVar("E", bound="UnitScoped")


#: What a release may contain: the groups of the card (第1号様式) that were shown or given.
FIELD_GROUPS: dict[str, str] = {
    "names": "世帯員の氏名",
    "birth_dates": "生年月日",
    "phones": "電話番号",
    "address": "住所",
    "workplaces": "勤務先・学校",
    "emergency_contacts": "緊急連絡先",
    "vehicles": "車両",
    "remarks": "備考・要望",
    "support": "要援護の情報",
}


class ReleaseMethod(models.TextChoices):
    SHOWN = "SHOWN", "閲覧させた"
    GIVEN = "GIVEN", "写しを交付した"
    ORAL = "ORAL", "口頭で回答した"


class DataUseStatus(models.TextChoices):
    REQUESTED = "REQUESTED", "受付"
    VERIFIED = "VERIFIED", "本人確認済"
    APPROVED = "APPROVED", "承認済"
    RELEASED = "RELEASED", "提供済"
    REFUSED = "REFUSED", "不承認"


class DecisionStatus(models.TextChoices):
    PENDING = "PENDING", "判断待ち"
    APPROVED = "APPROVED", "提供可"
    REFUSED = "REFUSED", "提供不可"
    RELEASED = "RELEASED", "提供済"


def fiscal_year(moment: Any) -> int:
    """年度 (April–March) of a moment, in local time."""
    local = timezone.localtime(moment)
    return local.year if local.month >= 4 else local.year - 1


def filter_register(
    entries: QuerySet[E],
    *,
    station_id: int | None = None,
    unit: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[E]:
    """A register (利用確認簿 or 照会) narrowed to a station, a unit ("station" for the 地域課,
    or a post's id) and the local days since…until, both included: the page, the API and the
    printed 第7号様式 alike."""
    if station_id is not None:
        entries = entries.filter(station_id=station_id)
    if unit == "station":
        entries = entries.filter(post__isnull=True)
    elif unit and unit.isdigit():
        entries = entries.filter(post_id=int(unit))
    if since:
        entries = entries.filter(recorded_at__gte=start_of_day(since))
    if until:
        entries = entries.filter(recorded_at__lt=start_of_day(until + dt.timedelta(days=1)))
    return entries


class UnitScoped(models.Model):
    """A register entry kept by a station and by the unit that recorded it.

    `post` is the recording post (交番等); empty when the station's 地域課 recorded it.
    """

    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="+", verbose_name="警察署"
    )
    post = models.ForeignKey(
        Post,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="記録した交番等",
    )
    fiscal_year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveIntegerField("番号")
    recorded_at = models.DateTimeField("受付日時", default=timezone.now)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="受付者"
    )
    purpose = models.CharField("利用目的", max_length=200)
    # The release: which card data went out, per household: [{"household": id, "groups": [...]}].
    released_at = models.DateTimeField("提供日時", null=True, blank=True)
    released_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="提供者",
    )
    release_method = models.CharField(
        "提供の方法", max_length=8, choices=ReleaseMethod.choices, blank=True
    )
    released_items = models.JSONField("提供した内容", default=list, blank=True)
    release_note = models.CharField("提供の備考", max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def unit_label(self) -> str:
        return self.post.name if self.post is not None else f"{self.station.name}地域課"

    @property
    def fiscal_year_label(self) -> str:
        """令和8年度."""
        era, year = era_of(dt.date(self.fiscal_year, 4, 1))
        return f"{era}{'元' if year == 1 else year}年度"

    @property
    def label(self) -> str:
        return f"{self.fiscal_year_label} 第{self.number}号"

    def released_groups(self) -> list[tuple[int, list[str]]]:
        """(household id, [group labels]) of the release, for the pages."""
        return [
            (int(item["household"]), [FIELD_GROUPS.get(g, g) for g in item.get("groups", [])])
            for item in self.released_items
        ]


class DataUse(UnitScoped):
    """巡回連絡カード利用確認簿 (第7号様式): one request by another police unit."""

    detail_url_name: ClassVar[str] = "data_use_detail"

    requester_name = models.CharField("利用者の氏名", max_length=64)
    requester_unit = models.CharField("利用者の所属", max_length=100)
    requester_prefecture = models.CharField("都道府県警察", max_length=8)
    other_prefecture = models.BooleanField("他の都道府県警察", default=False)
    police_phone = models.CharField("警察電話番号", max_length=32)
    households = models.ManyToManyField(
        Household, related_name="data_uses", verbose_name="対象の世帯"
    )
    status = models.CharField(
        "状態", max_length=16, choices=DataUseStatus.choices, default=DataUseStatus.REQUESTED
    )
    # 第5-4(2)ア: the requester is a police officer — checked by calling back on the police phone.
    verified_at = models.DateTimeField("折り返し確認の日時", null=True, blank=True)
    verified_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="折り返し電話をかけた者",
    )
    callback_number = models.CharField("折り返した番号", max_length=32, blank=True)
    verification_note = models.CharField("確認の備考", max_length=200, blank=True)
    # Another prefecture: the 管理責任者 approves before release.
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)
    approved_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承認者（管理責任者）",
    )
    refused_at = models.DateTimeField("不承認の日時", null=True, blank=True)
    refused_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refusal_reason = models.CharField("不承認の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "巡回連絡カード利用確認簿"
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["station", "recorded_at"]),
            models.Index(fields=["post", "recorded_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "fiscal_year", "number"], name="data_use_number_unique"
            ),
            # Nothing leaves before the caller is known to be police (第5-4(2)ア).
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(verified_at__isnull=False),
                name="data_use_release_needs_verification",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True)
                | Q(other_prefecture=False)
                | Q(approved_at__isnull=False),
                name="data_use_other_prefecture_needs_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"利用確認簿 {self.label}"

    @property
    def needs_approval(self) -> bool:
        return self.other_prefecture and self.approved_at is None

    @property
    def is_closed(self) -> bool:
        return self.status in (DataUseStatus.RELEASED, DataUseStatus.REFUSED)


#: The written request: a PDF or a scanned image, recognised by its first bytes.
DOCUMENT_SUFFIXES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
}


DOCUMENT_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG画像",
    "image/jpeg": "JPEG画像",
    "image/tiff": "TIFF画像",
}


# Migration 0001 names it (the FileField that held documents before they moved to
# AgencyDocument); kept for it.
def _document_path(instance: Any, filename: str) -> str:
    """A path nobody can guess; the original name is not kept in it."""
    suffix = DOCUMENT_SUFFIXES.get(getattr(instance, "document_type", ""), ".bin")
    return f"disclosures/agency-requests/{secrets.token_hex(20)}{suffix}"


class AgencyRequest(UnitScoped):
    """他の行政機関からの照会 (第5-4(2)イ): decided by the 管理責任者 on the written request."""

    detail_url_name: ClassVar[str] = "agency_request_detail"

    agency_name = models.CharField("照会した行政機関", max_length=100)
    recipient_name = models.CharField("提供を受ける者の氏名", max_length=64)
    recipient_contact = models.CharField("提供を受ける者の連絡先", max_length=100)
    legal_basis = models.CharField("法令上の根拠", max_length=200)
    households = models.ManyToManyField(
        Household, related_name="agency_requests", verbose_name="対象の世帯"
    )
    # The written request's bytes are in AgencyDocument (its own table, so lists and VACUUM
    # never read them); these columns describe it for lists and the API.
    document_type = models.CharField("文書の種類", max_length=32, blank=True)
    document_size = models.PositiveIntegerField("文書の大きさ", null=True, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    document_attached_at = models.DateTimeField("文書の添付日時", null=True, blank=True)
    document_attached_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        "状態", max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.PENDING
    )
    decided_at = models.DateTimeField("判断日時", null=True, blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="判断者（管理責任者）",
    )
    decision_reason = models.CharField("判断の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "他の行政機関からの照会"
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["station", "recorded_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "fiscal_year", "number"], name="agency_request_number_unique"
            ),
            # No decision without the written request (第5-4(2)イ).
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | ~Q(document_sha256=""),
                name="agency_request_decision_needs_document",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(decided_at__isnull=False),
                name="agency_request_release_needs_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"照会 {self.label}"

    @property
    def has_document(self) -> bool:
        return bool(self.document_sha256)

    @property
    def document_label(self) -> str:
        return DOCUMENT_LABELS.get(self.document_type, self.document_type)


class AgencyDocument(models.Model):
    """The written request of an AgencyRequest, as bytes in the database (app servers keep
    nothing on disk). A table of its own, stored as it came (PDFs are compressed already)."""

    request = models.OneToOneField(
        AgencyRequest, on_delete=models.CASCADE, related_name="document_file"
    )
    content = models.BinaryField("内容")
    content_type = models.CharField("文書の種類", max_length=32)
    size = models.PositiveIntegerField("大きさ")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("添付日時")

    class Meta:
        verbose_name = verbose_name_plural = "照会文書"

    def __str__(self) -> str:
        return f"照会文書 {self.request_id}"


class MisuseKind(models.TextChoices):
    UNEXPLAINED = "UNEXPLAINED", "業務上の文脈がない閲覧"
    BULK = "BULK", "短時間の大量閲覧"
    OFF_HOURS = "OFF_HOURS", "勤務時間外の閲覧"
    READ_LOG = "READ_LOG", "端末の閲覧記録の欠落・改変"


class MisuseFlag(models.Model):
    """One signal for the manager, with the audit events behind it."""

    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="+", verbose_name="警察署"
    )
    # The officer's post when the flag was raised (scope of who may see it); empty at a station.
    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    officer = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="misuse_flags", verbose_name="職員"
    )
    kind = models.CharField("種別", max_length=16, choices=MisuseKind.choices)
    window_start = models.DateTimeField("期間の始め")
    window_end = models.DateTimeField("期間の終わり")
    event_ids = models.JSONField("監査記録", default=list)
    household_count = models.PositiveIntegerField("世帯数", default=0)
    raised_at = models.DateTimeField("検出日時", default=timezone.now)
    reviewed_at = models.DateTimeField("確認日時", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="確認者",
    )
    note = models.TextField("確認結果", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "不適正利用の兆候"
        ordering = ["reviewed_at", "-window_start", "-id"]
        indexes = [models.Index(fields=["station", "reviewed_at", "window_start"])]
        constraints = [
            # The same window is never flagged twice (the scan may run again over it).
            models.UniqueConstraint(
                fields=["officer", "kind", "window_start"], name="misuse_flag_window_unique"
            ),
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")),
                name="misuse_flag_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def window_text(self) -> str:
        """令和8年6月10日 03:00〜03:10 (the end left out when it is the same minute)."""
        start, end = timezone.localtime(self.window_start), timezone.localtime(self.window_end)
        text = f"{format_wareki(start)} {start:%H:%M}"
        if f"{end:%Y%m%d%H%M}" == f"{start:%Y%m%d%H%M}":
            return text
        if end.date() == start.date():
            return f"{text}〜{end:%H:%M}"
        return f"{text}〜{format_wareki(end)} {end:%H:%M}"


class MisuseFlagRead(models.Model):
    """One audit event behind a flag (a read, with its household and time), written with the
    flag: the scan finds which flag holds a read, or which open flags a new task on a
    household may explain, by index — never by walking the open flags."""

    flag = models.ForeignKey(MisuseFlag, on_delete=models.CASCADE, related_name="read_rows")
    event_id = models.BigIntegerField("監査記録ID")
    household_id = models.BigIntegerField("世帯ID", null=True, blank=True)
    read_at = models.DateTimeField("日時")

    class Meta:
        verbose_name = verbose_name_plural = "不適正利用の兆候の監査記録"
        constraints = [
            models.UniqueConstraint(fields=["flag", "event_id"], name="misuse_flag_read_once")
        ]
        indexes = [
            models.Index(fields=["event_id"]),
            models.Index(fields=["household_id", "read_at"]),
        ]

    def __str__(self) -> str:
        return f"兆候 {self.flag_id} 記録 {self.event_id}"


class MisuseScanMark(models.Model):
    """Where the periodic misuse scan stopped (one row): the audit events below `line` had
    all committed at the last run (PostgreSQL: the oldest transaction then open, as the audit
    sealer's line; SQLite: the next event id), and reads up to `judged_until` were judged."""

    line = models.BigIntegerField("検査済みの位置")
    judged_until = models.DateTimeField("判定済みの閲覧の日時")
    scanned_at = models.DateTimeField("検査日時")
    # The first run's start: what was recorded before it is not the periodic run's.
    since = models.DateTimeField("検査の起点")

    class Meta:
        verbose_name = verbose_name_plural = "不適正利用の検査の位置"

    def __str__(self) -> str:
        return f"検査の位置 {self.line}"
