"""Buildings (アパート等), households (各戸), contact cards (巡回連絡カード) and their corrections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from junkai.org.models import Beat, Post, Station

ELDERLY_AGE = 65


def sixty_fifth_birthday(birth: dt.date) -> dt.date:
    try:
        return birth.replace(year=birth.year + ELDERLY_AGE)
    except ValueError:  # 29 February
        return dt.date(birth.year + ELDERLY_AGE, 3, 1)


def all_elderly_from(births: Sequence[dt.date | None]) -> dt.date | None:
    """The day from which every resident is 65 or over (高齢者世帯, 別表): the youngest one's
    65th birthday. None without residents or with a birth date unknown (then it is not known
    that all are elderly). The card actions and the bulk loader both store this."""
    if not births or not all(births):
        return None
    return max(sixty_fifth_birthday(b) for b in births if b)


class Category(models.TextChoices):
    """別表: derived from the records, never typed."""

    UNKNOWN = "UNKNOWN", "未把握世帯"
    ELDERLY = "ELDERLY", "高齢者世帯"
    HOME = "HOME", "家庭"
    BUSINESS = "BUSINESS", "事業所等"


class Priority(models.IntegerChoices):
    """別表 基準（実施の必要性）. Lower sorts first."""

    HIGH = 1, "高"
    MEDIUM = 2, "中"
    LOW = 3, "低"


PRIORITY_OF = {
    Category.UNKNOWN: Priority.HIGH,
    Category.ELDERLY: Priority.HIGH,
    Category.HOME: Priority.MEDIUM,
    Category.BUSINESS: Priority.LOW,
}


class HouseholdKind(models.TextChoices):
    RESIDENCE = "RESIDENCE", "居住"
    BUSINESS = "BUSINESS", "事業所等（非居住）"


# Plain strings: the bulk load decides the category of every one of 500,000 rows, and an
# enum member's .value costs a descriptor call each time.
_UNKNOWN, _ELDERLY, _HOME, _BUSINESS = (
    Category.UNKNOWN.value,
    Category.ELDERLY.value,
    Category.HOME.value,
    Category.BUSINESS.value,
)
_BUSINESS_KIND = HouseholdKind.BUSINESS.value


def category_of(
    *, has_card: bool, kind: str, elderly_flag: bool, all_elderly_from: dt.date | None, day: dt.date
) -> str:
    """別表, from the values alone (Household.derive_category, and the bulk load without
    instances). A business where people live is 居住 (kind), so it is HOME or ELDERLY."""
    if not has_card:
        return _UNKNOWN
    if kind == _BUSINESS_KIND:
        return _BUSINESS
    if elderly_flag or (all_elderly_from is not None and all_elderly_from <= day):
        return _ELDERLY
    return _HOME


class HouseholdStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "居住・営業中"
    VACANT = "VACANT", "空き家・空室"
    MOVED_OUT = "MOVED_OUT", "転出"


class LeaderRole(models.TextChoices):
    NONE = "", "なし"
    JICHI_IIN = "JICHI_IIN", "自治委員"
    KUCHO = "KUCHO", "区長"
    HANCHO = "HANCHO", "班長"
    KUMICHO = "KUMICHO", "組長"


class Building(models.Model):
    """アパート等 (第3号・第4号様式)."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="buildings")
    beat = models.ForeignKey(Beat, on_delete=models.PROTECT, related_name="buildings")
    name = models.CharField("名称", max_length=100)
    town = models.CharField("町名", max_length=50)
    chome = models.CharField("丁目", max_length=10, blank=True)
    banchi = models.CharField("番地", max_length=20, blank=True)
    go = models.CharField("号", max_length=20, blank=True)
    floors = models.PositiveSmallIntegerField("階数", default=1)
    rooms_per_floor = models.PositiveSmallIntegerField("各階の部屋数", default=1)
    manager_contact = models.CharField("管理人・所有者の連絡先", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "アパート等"
        ordering = ["town", "chome", "banchi", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return format_address(self.town, self.chome, self.banchi, self.go)


def format_address(town: str, chome: str, banchi: str, go: str) -> str:
    text = town
    if chome:
        text += f"{chome}丁目"
    if banchi:
        text += f"{banchi}番地" if not go else f"{banchi}番"
    if go:
        text += f"{go}号"
    return text


def format_full_address(
    town: str, chome: str, banchi: str, go: str, building: str, room: str
) -> str:
    """A door's address as the forms write it: 駅前町1丁目2番3号 コーポ駅前 201号室."""
    text = format_address(town, chome, banchi, go)
    if building:
        text += f" {building}"
    if room:
        text += f" {room}号室"
    return text


class Household(models.Model):
    """One door (各戸): a home or a business of a beat."""

    # No index of their own on beat, post and station: the composite indexes below lead with
    # each, and every index costs each of the 500,000 rows of a prefecture's import.
    beat = models.ForeignKey(
        Beat, on_delete=models.PROTECT, related_name="households", db_index=False
    )
    # Copies of beat.post / beat.post.station: the scope filter is then one indexed column.
    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="households", db_index=False
    )
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="households", db_index=False
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="households"
    )
    kind = models.CharField("種別", max_length=16, choices=HouseholdKind.choices)
    name = models.CharField("世帯主・事業所名", max_length=100, blank=True)
    town = models.CharField("町名", max_length=50)
    chome = models.CharField("丁目", max_length=10, blank=True)
    banchi = models.CharField("番地", max_length=20, blank=True)
    go = models.CharField("号", max_length=20, blank=True)
    room = models.CharField("部屋番号", max_length=20, blank=True)
    block_group = models.CharField("組・班", max_length=20, blank=True)
    map_number = models.PositiveIntegerField("整理番号", null=True, blank=True)
    latitude = models.DecimalField("緯度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("経度", max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(
        "状態", max_length=16, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE
    )
    elderly_flag = models.BooleanField("高齢者世帯（広報・防犯指導が必要）", default=False)
    leader_role = models.CharField(
        "地域の役職", max_length=16, choices=LeaderRole.choices, blank=True, default=""
    )
    # Derived (別表), kept current by the actions that change what they depend on.
    category = models.CharField(
        "区分", max_length=16, choices=Category.choices, default=Category.UNKNOWN
    )
    priority = models.PositiveSmallIntegerField(
        "実施の必要性", choices=Priority.choices, default=Priority.HIGH
    )
    # The day the youngest resident turns 65: from then on an all-elderly household.
    all_elderly_from = models.DateField(null=True, blank=True, editable=False)
    address_key = models.CharField(max_length=200, editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Schedule (junkai.households.schedule), kept current by the actions that change it: a work
    # list then reads one indexed date instead of deriving it from the visits.
    last_met_at = models.DateTimeField("最終面接", null=True, blank=True, editable=False)
    last_visit_at = models.DateTimeField("最終実施", null=True, blank=True, editable=False)
    last_outcome = models.CharField(
        "最終結果", max_length=8, blank=True, default="", editable=False
    )
    next_due = models.DateField("次回予定日", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "世帯・事業所等"
        ordering = ["town", "chome", "block_group", "map_number", "id"]
        indexes = [
            models.Index(fields=["beat", "town", "block_group", "map_number"]),
            # Search by address or name reads this index alone (PostgreSQL: id included).
            models.Index(
                fields=["post", "address_key", "name"],
                include=["id"],
                name="household_address_search",
            ),
            models.Index(fields=["station", "category"]),
            models.Index(fields=["all_elderly_from"]),
            models.Index(fields=["beat", "priority", "next_due"]),
        ]

    def __str__(self) -> str:
        return f"世帯 #{self.pk}"

    @property
    def address(self) -> str:
        building = self.building.name if self.building_id is not None and self.building else ""
        return format_full_address(self.town, self.chome, self.banchi, self.go, building, self.room)

    @property
    def is_leader(self) -> bool:
        return bool(self.leader_role)

    def derive_category(self, card: ContactCard | None, today: dt.date) -> Category:
        """別表 (category_of)."""
        return Category(
            category_of(
                has_card=card is not None,
                kind=self.kind,
                elderly_flag=self.elderly_flag,
                all_elderly_from=self.all_elderly_from,
                day=today,
            )
        )


class CardSource(models.TextChoices):
    RESIDENT = "RESIDENT", "住民等が記入"
    OFFICER = "OFFICER", "聴取して警察官が作成"


class CardStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "作成済"
    DISPOSED = "DISPOSED", "廃棄"


class ContactCard(models.Model):
    """巡回連絡カード (第1号様式). Changed only by a correction (CardRevision), version by version."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cards")
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="cards")
    status = models.CharField(max_length=16, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    source = models.CharField("記入者", max_length=16, choices=CardSource.choices)
    accepted_on = models.DateField("受理日")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    binder_number = models.CharField("簿冊番号", max_length=20, blank=True)
    index_number = models.PositiveIntegerField("索引番号", null=True, blank=True)
    preferred_days = models.CharField("訪問希望の曜日", max_length=50, blank=True)
    preferred_times = models.CharField("訪問希望の時間帯", max_length=50, blank=True)
    needs_support = models.BooleanField("要援護（災害時に支援が必要）", default=False)
    support_consent = models.BooleanField("要援護の登録に本人が同意", default=False)
    remarks = models.TextField("備考", blank=True)
    requests = models.TextField("警察への要望", blank=True)
    version = models.PositiveIntegerField("版", default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    disposed_at = models.DateTimeField(null=True, blank=True)
    # Never searched by (the disposal shows on its card); an index would cost every new card.
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    disposal_witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    disposal_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "巡回連絡カード"
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status="ACTIVE"),
                name="one_active_card_per_household",
            ),
            models.UniqueConstraint(
                fields=["post", "index_number"],
                condition=Q(status="ACTIVE", index_number__isnull=False),
                name="card_index_number_unique_per_post",
            ),
            models.CheckConstraint(
                condition=Q(needs_support=False) | Q(support_consent=True),
                name="card_support_needs_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"巡回連絡カード #{self.pk}"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"
    OTHER = "", "―"


class Resident(models.Model):
    """世帯員."""

    card = models.ForeignKey(ContactCard, on_delete=models.CASCADE, related_name="residents")
    # Copy of card.household.post: search filters residents by scope without a join (through
    # resident_search_keys, which leads with it: no index of its own).
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="+", db_index=False)
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField("氏名", max_length=60)
    kana = models.CharField("ふりがな", max_length=80, blank=True)
    relation = models.CharField("続柄", max_length=20, blank=True)
    birth_date = models.DateField("生年月日", null=True, blank=True)
    sex = models.CharField("性別", max_length=1, choices=Sex.choices, blank=True)
    workplace = models.CharField("勤務先・学校", max_length=100, blank=True)
    phone = models.CharField("電話", max_length=30, blank=True)
    name_key = models.CharField(max_length=80, editable=False, default="")
    kana_key = models.CharField(max_length=80, editable=False, default="")
    phone_key = models.CharField(max_length=20, editable=False, default="")

    class Meta:
        verbose_name = verbose_name_plural = "世帯員"
        ordering = ["card", "position"]
        indexes = [
            # Search is a substring match (LIKE '%…%') over the residents of the caller's
            # posts: no b-tree on a key helps, and trigrams miss the common two-character
            # names. This index holds every column the search reads, so both engines scan
            # it alone (PostgreSQL: an index-only scan per post) instead of a table page per
            # resident: a station chief's search went from ~90 ms to ~20–40 ms at 500,000
            # households. Plain key columns rather than INCLUDE, which SQLite lacks.
            models.Index(
                fields=["post", "card", "name_key", "kana_key", "phone_key", "name"],
                name="resident_search_keys",
            ),
        ]

    def __str__(self) -> str:
        return f"世帯員 #{self.pk}"


class EmergencyContact(models.Model):
    card = models.ForeignKey(ContactCard, on_delete=models.CASCADE, related_name="contacts")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField("氏名", max_length=60)
    relation = models.CharField("続柄", max_length=20, blank=True)
    phone = models.CharField("連絡先", max_length=60)

    class Meta:
        verbose_name = verbose_name_plural = "緊急連絡先"
        ordering = ["card", "position"]

    def __str__(self) -> str:
        return f"緊急連絡先 #{self.pk}"


class Vehicle(models.Model):
    card = models.ForeignKey(ContactCard, on_delete=models.CASCADE, related_name="vehicles")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField("車種・色", max_length=60, blank=True)
    plate = models.CharField("登録番号", max_length=30, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "車両"
        ordering = ["card", "position"]

    def __str__(self) -> str:
        return f"車両 #{self.pk}"


class RevisionBasis(models.TextChoices):
    """What a correction rests on."""

    NEW = "NEW", "新規作成"
    RESIDENT = "RESIDENT", "住民等の申告"
    VISIT = "VISIT", "巡回連絡時の確認"
    DOCUMENT = "DOCUMENT", "書類による確認"


class CardRevision(models.Model):
    """補正: who changed a card, when, on what basis, and each field old → new."""

    # Indexed by card_revision_version_unique (card, version).
    card = models.ForeignKey(
        ContactCard, on_delete=models.PROTECT, related_name="revisions", db_index=False
    )
    version = models.PositiveIntegerField("版")
    revised_at = models.DateTimeField("補正日時", default=timezone.now)
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    basis = models.CharField("補正の根拠", max_length=16, choices=RevisionBasis.choices)
    note = models.CharField("メモ", max_length=200, blank=True)
    changes = models.JSONField("変更内容", default=list)

    class Meta:
        verbose_name = verbose_name_plural = "補正履歴"
        ordering = ["card", "-version"]
        # The dashboards count new cards and corrections by month (and per officer).
        indexes = [models.Index(fields=["revised_at"], name="card_revision_revised_at")]
        constraints = [
            models.UniqueConstraint(fields=["card", "version"], name="card_revision_version_unique")
        ]

    def __str__(self) -> str:
        return f"補正 #{self.pk}"


class Outcome(models.TextChoices):
    MET = "MET", "面接"
    ABSENT = "ABSENT", "不在"
    REFUSED = "REFUSED", "拒否"


class SchedulePolicy(models.Model):
    """別表 intervals and the night window; one row (the prefecture's), edited by HQ."""

    unknown_months = models.PositiveSmallIntegerField("未把握世帯（月）", default=3)
    elderly_months = models.PositiveSmallIntegerField("高齢者世帯（月）", default=6)
    home_months = models.PositiveSmallIntegerField("家庭（月）", default=12)
    business_months = models.PositiveSmallIntegerField("事業所等（月）", default=24)
    leader_months = models.PositiveSmallIntegerField("自治委員・区長・班長・組長（月）", default=3)
    absent_retry_days = models.PositiveSmallIntegerField("不在時の再訪（日後）", default=14)
    night_start = models.TimeField("夜間の開始", default=dt.time(19, 0))
    night_end = models.TimeField("夜間の終了", default=dt.time(7, 0))
    horizon_days = models.PositiveSmallIntegerField("作業リストの期間（日）", default=30)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        # Kept where it was first created: the visits app held it before the due date moved
        # down to the household (households never read the visits).
        db_table = "visits_schedulepolicy"
        verbose_name = verbose_name_plural = "実施頻度の基準"

    def __str__(self) -> str:
        return "実施頻度の基準"

    def months_for(self, category: str, *, leader: bool) -> int:
        months = {
            "UNKNOWN": self.unknown_months,
            "ELDERLY": self.elderly_months,
            "HOME": self.home_months,
            "BUSINESS": self.business_months,
        }[category]
        # 第4-2: community leaders as often as possible.
        return min(months, self.leader_months) if leader else months

    def is_night(self, moment: dt.datetime) -> bool:
        local = timezone.localtime(moment).time()
        if self.night_start > self.night_end:  # spans midnight (19:00–07:00)
            return local >= self.night_start or local < self.night_end
        return self.night_start <= local < self.night_end
