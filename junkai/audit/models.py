"""The audit log: one append-only, hash-chained table of every write and every read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventType(models.IntegerChoices):
    """Numbered in blocks per area (as Zulip's RealmAuditLog): never renumber, only append."""

    # 100 sign-in and sessions
    SIGN_IN = 101, "サインイン"
    SIGN_IN_FAILED = 102, "サインイン失敗"
    SIGN_OUT = 103, "サインアウト"
    LOCKED_OUT = 104, "アカウントロック"
    OTP_ENROLLED = 110, "二要素認証の登録"
    OTP_VERIFIED = 111, "二要素認証の確認"
    OTP_FAILED = 112, "二要素認証の失敗"
    OTP_REMOVED = 113, "二要素認証の削除"
    API_TOKEN_ISSUED = 120, "APIトークン発行"
    API_TOKEN_REVOKED = 121, "APIトークン失効"
    PASSWORD_CHANGED = 130, "パスワード変更"
    # 200 access control
    ACCESS_DENIED = 201, "アクセス拒否"
    # 300 organisation
    ASSIGNMENT_CREATED = 301, "配置"
    ASSIGNMENT_ENDED = 302, "配置終了"
    CUSTODIAN_DESIGNATED = 303, "取扱責任者の指定"
    KEY_DEPUTY_DESIGNATED = 304, "保管庫鍵の代理保管者の指定"
    KEY_DEPUTY_ENDED = 305, "保管庫鍵の代理保管者の指定終了"
    OFFICER_CREATED = 310, "職員登録"
    OFFICER_UPDATED = 311, "職員情報変更"
    SESSIONS_ENDED = 312, "セッション終了"
    STATION_CREATED = 320, "警察署の登録"
    POST_CREATED = 321, "交番等の登録"
    BEAT_CREATED = 322, "受持区の登録"
    BEAT_OUTLINE_SAVED = 323, "受持区の区域の設定"
    POST_LOCATION_SET = 324, "交番等の位置の設定"
    # 400 households, buildings and contact cards
    BUILDING_CREATED = 401, "アパート等の登録"
    BUILDING_UPDATED = 402, "アパート等の変更"
    HOUSEHOLD_CREATED = 410, "世帯の登録"
    HOUSEHOLD_UPDATED = 411, "世帯情報の変更"
    HOUSEHOLD_MOVED_OUT = 412, "転出"
    HOUSEHOLDS_IMPORTED = 413, "世帯の一括取込"
    CATEGORIES_REFRESHED = 414, "区分の再計算"
    CARD_CREATED = 420, "巡回連絡カードの作成"
    CARD_CORRECTED = 421, "巡回連絡カードの補正"
    CARD_CONFLICT = 422, "巡回連絡カードの更新競合"
    CARD_DISPOSED = 423, "巡回連絡カードの廃棄"
    # 500 visits, reports, schedule and plans
    VISIT_RECORDED = 501, "巡回連絡の記録"
    CONCERN_UPDATED = 502, "困りごと等の対応状況の更新"
    INFO_REPORT_ACKNOWLEDGED = 503, "見聞情報の確認"
    REFUSAL_ACKNOWLEDGED = 504, "拒否の報告の確認"
    NIGHT_APPROVAL_REQUESTED = 510, "夜間実施の承認申請"
    NIGHT_APPROVAL_APPROVED = 511, "夜間実施の承認"
    NIGHT_APPROVAL_REJECTED = 512, "夜間実施の不承認"
    POLICY_CHANGED = 520, "実施頻度の基準の変更"
    DEDICATED_DAY_SET = 521, "専従日の指定"
    DEDICATED_DAY_REMOVED = 522, "専従日の取消"
    MONTHLY_PLAN_SAVED = 523, "月間計画の保存"
    HANDOVER_NOTE_ADDED = 524, "引継事項の登録"
    MONTH_SNAPSHOT_TAKEN = 530, "月末集計（推移）の作成"
    # 600 binders, the checkout register, cabinet keys, inspections (第5-3)
    BINDER_CREATED = 601, "簿冊の登録"
    BINDER_UPDATED = 602, "簿冊の変更"
    CABINET_CREATED = 603, "保管庫の登録"
    CHECKOUT_DECLARED = 610, "持出しの申告"
    CHECKOUT_CONFIRMED_OUT = 611, "持出しの確認"
    CHECKOUT_RETURNED = 612, "返却の申告"
    CHECKOUT_CONFIRMED_RETURN = 613, "返却の確認"
    CHECKOUT_OVERDUE_ALERT = 614, "未返却の警告"
    CHECKOUT_MONTH_REVIEWED = 615, "持出確認簿の月次確認"
    KEY_HANDED_OVER = 620, "保管庫の鍵の引継ぎ"
    INSPECTION_RECORDED = 630, "巡視・点検の記録"
    INSPECTION_FOLLOWED_UP = 631, "点検指摘事項の措置"
    INSPECTION_CLOSED = 632, "点検の完了"
    LOSS_REPORTED = 640, "亡失・盗難の報告"
    LOSS_HOUSEHOLD_INFORMED = 641, "亡失・盗難の住民等への連絡"
    LOSS_CARD_RECREATED = 642, "亡失・盗難によるカードの再作成"
    LOSS_FOUND = 643, "亡失・盗難の簿冊等の発見"
    LOSS_REPORT_CLOSED = 644, "亡失・盗難の報告の完了"
    # 660 devices: a tablet that carries a beat is a binder (junkai.devices)
    DEVICE_REGISTERED = 660, "端末の登録"
    DEVICE_REVOKED = 661, "端末の使用停止"
    DEVICE_CHECKOUT_DECLARED = 662, "端末への受持区の持出しの申告"
    DEVICE_CHECKOUT_REVOKED = 663, "端末の持出しの取消"
    DEVICE_LEASE_ISSUED = 664, "端末の鍵の貸与"
    DEVICE_SYNC_PUSHED = 665, "端末からの同期"
    DEVICE_READ_LOG_BROKEN = 666, "端末の閲覧記録の欠落・改変"
    DEVICE_CONFLICT_RESOLVED = 667, "端末の補正の競合の解決"
    # 700 disclosures (第5-4): the 利用確認簿 and requests from other agencies
    DATA_USE_REQUESTED = 701, "利用の申出"
    DATA_USE_IDENTITY_VERIFIED = 702, "警察職員であることの確認（折り返し電話）"
    DATA_USE_APPROVED = 703, "他都道府県警察への提供の承認"
    DATA_USE_RELEASED = 704, "巡回連絡個人情報の提供"
    DATA_USE_REFUSED = 705, "利用の申出の不承認"
    AGENCY_REQUEST_RECEIVED = 710, "他の行政機関からの照会の受付"
    AGENCY_REQUEST_DOCUMENT_ATTACHED = 711, "照会文書の添付"
    AGENCY_REQUEST_DECIDED = 712, "照会に対する提供の可否の判断"
    AGENCY_REQUEST_RELEASED = 713, "照会に対する提供"
    # 800 misuse signals
    MISUSE_FLAGGED = 801, "不適正利用の兆候"
    MISUSE_REVIEWED = 802, "不適正利用の兆候の確認"
    # 1000 reads of personal data (閲覧記録)
    READ_OFFICER = 1001, "職員情報の閲覧"
    READ_AUDIT_LOG = 1002, "監査記録の閲覧"
    READ_HOUSEHOLD = 1003, "世帯・カードの閲覧"
    LIST_HOUSEHOLDS = 1004, "世帯一覧の閲覧"
    SEARCH_HOUSEHOLDS = 1005, "世帯の検索"
    EXPORT_CARDS = 1006, "巡回連絡カードの出力"
    READ_ACCESS_LOG = 1007, "閲覧記録の閲覧"
    READ_WORKLIST = 1008, "作業リストの閲覧"
    READ_HANDOVER = 1009, "引継ぎ資料の閲覧"
    READ_REGISTER = 1010, "簿冊・確認簿の閲覧"
    READ_DISCLOSURE = 1011, "利用確認簿・照会の閲覧"
    PRINT_FORM = 1012, "様式の印刷"
    READ_BEAT_MAP = 1013, "受持区地図の閲覧"
    ROUTE_PLANNED = 1014, "巡回経路の作成"
    READ_DASHBOARD = 1015, "進捗状況の閲覧"
    EXPORT_MONTHLY_REPORT = 1016, "月次報告の出力"
    READ_OFFLINE = 1031, "端末での閲覧（オフライン）"


class AuditEvent(models.Model):
    """One event. Rows are only ever inserted (junkai.audit.chain.record), never changed.

    Events written before the seals (「seal 0」) carry their place in the chain on the row:
    `seq` runs 1, 2, 3… without gaps and `row_hash` = HMAC over the row's canonical content and
    the previous row's hash. Events written since carry none of that (`seq` is null): the
    sealer gives each an `AuditSeal` that continues the same chain, so that writers never wait
    for one another (junkai.audit.seal). `xid` is the PostgreSQL transaction that wrote the
    row, set by a trigger: the sealer seals in (xid, id) order and only below the oldest open
    transaction, so an event committed late is sealed late, never skipped. Values of personal
    fields are never copied in: only ids, kinds and the stated purpose.
    """

    seq = models.BigIntegerField("連番", unique=True, null=True, blank=True)
    created_at = models.DateTimeField("日時", db_index=True)
    # No database FK: the log must outlive and never cascade with the rows it names.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="実行者",
    )
    event_type = models.PositiveIntegerField("種別", choices=EventType.choices)
    object_type = models.CharField("対象の種類", max_length=64, blank=True)
    object_id = models.CharField("対象ID", max_length=64, blank=True)
    station_id = models.BigIntegerField("警察署ID", null=True, blank=True)
    purpose = models.CharField("目的", max_length=200, blank=True)
    details = models.JSONField("詳細", default=dict, blank=True)
    # Null, not "", for events of the seals: "no hash on this row" must not look like a value.
    prev_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    row_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    xid = models.BigIntegerField("トランザクションID", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "監査記録"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"]),
            models.Index(fields=["actor", "id"]),
            models.Index(fields=["station_id", "id"]),
            # The sealer's range scan: pending events lie after the last sealed (xid, id).
            models.Index(fields=["xid", "id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.get_event_type_display()}"

    @property
    def chain_seq(self) -> int | None:
        """The event's place in the hash chain: its own `seq` (seal 0) or its seal's; None
        while it waits for its seal. (Use select_related("seal") on lists.)"""
        if self.seq is not None:
            return self.seq
        try:
            return self.seal.seal_seq
        except AuditSeal.DoesNotExist:
            return None


class AuditSeal(models.Model):
    """An event's place in the hash chain, written by the sealer after the event committed.

    One seal per event: `row_hash` = HMAC over the event's canonical content with its id,
    `seal_seq` and `prev_hash` (the hash of seal_seq − 1, or of the last event of seal 0), so a
    changed, deleted, inserted or reordered event or seal breaks the chain. One row per event
    rather than one per batch keeps verification a plain walk and lets a page show an event's
    number with a join; the sealer writes them in bulk, off the request path.
    """

    seal_seq = models.BigIntegerField("連番", primary_key=True)
    event = models.OneToOneField(
        AuditEvent,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="seal",
        verbose_name="監査記録",
    )
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "監査記録の封印"

    def __str__(self) -> str:
        return f"封印 #{self.seal_seq} (記録 {self.event_id})"


class AuditEventHousehold(models.Model):
    """Which households one audit event showed (a print, a list, an export): insert-only.

    The event itself holds the count and a SHA-256 of the sorted ids (`details["households"]`),
    so it stays one row however many doors a page showed, and its seal covers the digest;
    these rows let a household's 閲覧記録, the misuse checks and disclosure accounting find the
    event by household. A plain id, no foreign key: the audit log sits below households and
    must outlive them.
    """

    event = models.ForeignKey(
        AuditEvent,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="household_rows",
        verbose_name="監査記録",
    )
    household_id = models.BigIntegerField("世帯ID")

    class Meta:
        verbose_name = verbose_name_plural = "監査記録の対象世帯"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "household_id"], name="audit_event_household_once"
            )
        ]
        indexes = [models.Index(fields=["household_id", "event"])]

    def __str__(self) -> str:
        return f"記録 {self.event_id} 世帯 {self.household_id}"


class AuditNote(models.Model):
    """Free text that explains an audited act (the note of a read's その他 purpose): kept apart
    from the append-only events, which carry only its id and SHA-256 — so a name or a birth
    date typed into a note does not stay in the audit log for good, while the chain still
    proves the note was not changed."""

    text = models.TextField("記述")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "監査記録の記述"

    def __str__(self) -> str:
        return f"記述 {self.id}"
