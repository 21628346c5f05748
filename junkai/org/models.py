"""Organisation: stations, posts (交番等), beats (受持区), officers and their assignments."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


def today() -> dt.date:
    """Today in Asia/Tokyo: assignments are dated in local days."""
    return timezone.localdate()


class Station(models.Model):
    """警察署."""

    code = models.CharField("署コード", max_length=16, unique=True)
    name = models.CharField("警察署名", max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "警察署"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PostKind(models.TextChoices):
    KOBAN = "KOBAN", "交番"
    KANBU_KOBAN = "KANBU_KOBAN", "幹部交番"
    CHUZAISHO = "CHUZAISHO", "駐在所"
    PATROL = "PATROL", "地域警ら"


class Post(models.Model):
    """交番等: 交番・幹部交番・駐在所・地域警ら."""

    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="posts", verbose_name="警察署"
    )
    code = models.CharField("コード", max_length=16)
    name = models.CharField("名称", max_length=64)
    kind = models.CharField("種別", max_length=16, choices=PostKind.choices)
    single_officer = models.BooleanField(
        "一人勤務", default=False, help_text="複数の警察官が配置されていない駐在所"
    )
    # Where the post stands: the beat map shows it, routes start and end there.
    latitude = models.DecimalField("緯度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("経度", max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "交番等"
        ordering = ["station", "code"]
        constraints = [
            models.UniqueConstraint(fields=["station", "code"], name="post_code_unique"),
            # 第5-3(3)ウ: only a 駐在所 can be single-officer (self-confirmation of checkouts).
            models.CheckConstraint(
                condition=Q(single_officer=False) | Q(kind=PostKind.CHUZAISHO),
                name="post_single_officer_only_chuzaisho",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def custodian_designated_by_chief(self) -> bool:
        """第5-2(3)ア: at a 交番 the 所長 is custodian by office; elsewhere the chief designates."""
        return self.kind != PostKind.KOBAN


class Beat(models.Model):
    """受持区."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="beats", verbose_name="交番等"
    )
    code = models.CharField("コード", max_length=16)
    name = models.CharField("受持区名", max_length=64)
    # 受持区の区域: a GeoJSON Polygon/MultiPolygon as junkai.lib.geometry.parse_outline
    # normalises it; set only through org.actions.do_save_beat_outline.
    outline = models.JSONField("区域（GeoJSON）", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "受持区"
        ordering = ["post", "code"]
        constraints = [
            models.UniqueConstraint(fields=["post", "code"], name="beat_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Rank(models.TextChoices):
    KEISHI_SEI = "KEISHI_SEI", "警視正"
    KEISHI = "KEISHI", "警視"
    KEIBU = "KEIBU", "警部"
    KEIBUHO = "KEIBUHO", "警部補"
    JUNSA_BUCHO = "JUNSA_BUCHO", "巡査部長"
    JUNSA_CHO = "JUNSA_CHO", "巡査長"
    JUNSA = "JUNSA", "巡査"
    CIVILIAN = "CIVILIAN", "一般職員"


class OfficerManager(BaseUserManager["Officer"]):
    def create_user(self, username: str, password: str | None = None, **fields: object) -> Officer:
        officer = self.model(username=username, **fields)
        officer.set_password(password)
        officer.save()
        return officer

    def create_superuser(
        self, username: str, password: str | None = None, **fields: object
    ) -> Officer:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(username, password, **fields)


class Officer(AbstractBaseUser, PermissionsMixin):
    """地域警察官 / 受持警察官等, and every other user of Junkai."""

    username = models.CharField("ログインID", max_length=64, unique=True)
    full_name = models.CharField("氏名", max_length=64)
    full_name_kana = models.CharField("ふりがな", max_length=64, blank=True)
    rank = models.CharField("階級", max_length=16, choices=Rank.choices, blank=True)
    staff_number = models.CharField("職員番号", max_length=16, unique=True, null=True, blank=True)
    police_phone = models.CharField("警察電話番号", max_length=32, blank=True)
    is_active = models.BooleanField("有効", default=True)
    # Only superusers reach the Django admin.
    is_staff = models.BooleanField("管理サイト", default=False)
    date_joined = models.DateTimeField("登録日時", default=timezone.now)
    # Raised to end every session and API token of the officer at once.
    session_generation = models.PositiveIntegerField(default=0, editable=False)
    # A password issued by someone else (the manager, at registration) is known to two people:
    # the officer changes it at his first sign-in, before he enrolls his second factor.
    password_change_required = models.BooleanField(
        "初回パスワード変更が必要", default=False, editable=False
    )

    objects = OfficerManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = verbose_name_plural = "職員"
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.get_rank_display()} {self.full_name}".strip()

    def current_assignments(self) -> list[Assignment]:
        """Assignments valid today, cached on the instance for the request."""
        cached: list[Assignment] | None = getattr(self, "_current_assignments", None)
        if cached is None:
            cached = _assignments_with_beats(
                Assignment.objects.current()
                .filter(officer=self)
                .select_related("station", "post", "post__station")
            )
            self._current_assignments = cached
        return cached

    def get_session_auth_hash(self) -> str:
        """Django checks this on every request; a session signed under another value ends.

        Besides the password it covers the session generation and the set of assignments
        valid today, so a transfer (or the day an April transfer takes effect) ends every
        session the officer had, without a sweep job.
        """
        ids = ",".join(str(a.id) for a in self.current_assignments())
        message = f"{self.password}|{self.session_generation}|{ids}"
        key = hashlib.sha256(f"junkai.session|{settings.SECRET_KEY}".encode()).digest()
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def load_officer(
    where: dict[str, object], values: dict[str, str] | None = None
) -> tuple[Officer, dict[str, object]] | None:
    """The officer matching `where` (lookups from Officer: {"pk": 5}, or through his API
    tokens), his assignments valid today already loaded (`current_assignments()` asks nothing
    more), and `values` (name → path from Officer) of the row that matched; None if none.

    Every request needs both — the session or token check covers today's assignments, and so
    does the scope — so they come in one query: the current assignments with their officer,
    units and beats, filtered on the officer. An officer with no assignment valid today has no
    such row and is read on his own (a second query; he sees nothing anyway).
    """
    values = values or {}
    rows = _assignments_with_beats(
        Assignment.objects.current()
        .filter(**{f"officer__{k}": v for k, v in where.items()})
        .annotate(**{f"_v_{k}": models.F(f"officer__{p}") for k, p in values.items()})
        .select_related("officer", "station", "post", "post__station")
    )
    if rows:
        officer = rows[0].officer
        for assignment in rows:
            assignment.officer = officer
        officer._current_assignments = rows
        return officer, {k: getattr(rows[0], f"_v_{k}") for k in values}
    found = (
        Officer.objects.filter(**where)
        .annotate(**{f"_v_{k}": models.F(p) for k, p in values.items()})
        .first()
    )
    if found is None:
        return None
    found._current_assignments = []
    return found, {k: getattr(found, f"_v_{k}") for k in values}


_BEAT_FIELDS = ("id", "post_id", "code", "name")


def _assignments_with_beats(assignments: models.QuerySet[Assignment]) -> list[Assignment]:
    """The assignments in id order, each with its beats as `prefetch_related("beats")` would
    leave them, in one query instead of two: every request asks (the session or token check
    and the scope), so the second round trip was paid on every request. One row per
    (assignment, beat), or one with no beat; a beat's outline is left to load if asked."""
    rows = assignments.annotate(
        **{f"_beat_{f}": models.F(f"beats__{f.removesuffix('_id')}") for f in _BEAT_FIELDS}
    ).order_by("id", "beats__post_id", "beats__code")
    found: dict[int, Assignment] = {}
    beats: dict[int, list[Beat]] = {}
    for row in rows:
        first = found.setdefault(row.id, row)
        mine = beats.setdefault(first.id, [])
        values = [getattr(row, f"_beat_{f}") for f in _BEAT_FIELDS]
        if values[0] is not None:
            mine.append(Beat.from_db(assignments.db, list(_BEAT_FIELDS), values))
    for assignment in found.values():
        related = assignment.beats.get_queryset()
        related._result_cache = beats[assignment.id]
        related._prefetch_done = True  # type: ignore[attr-defined]
        assignment._prefetched_objects_cache = {"beats": related}  # type: ignore[attr-defined]
    return list(found.values())


class Role(models.TextChoices):
    STATION_CHIEF = "STATION_CHIEF", "統括管理責任者（警察署長）"
    MANAGER = "MANAGER", "管理責任者"
    INSPECTOR = "INSPECTOR", "地域課長代理・交番所長"
    CUSTODIAN = "CUSTODIAN", "取扱責任者"
    BEAT_OFFICER = "BEAT_OFFICER", "受持警察官等"
    STAFF = "STAFF", "他部門職員"
    HQ = "HQ", "本部地域課"


class UnitKind(models.TextChoices):
    STATION = "station", "警察署"
    POST = "post", "交番等"
    OTHER = "other", "その他の所属"


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def valid_on(self, day: dt.date) -> AssignmentQuerySet:
        return self.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day, cancelled=False
        )

    def current(self) -> AssignmentQuerySet:
        return self.valid_on(today())


class Assignment(models.Model):
    """配置・指定: an officer in a role at a unit, for a dated period.

    The unit is a post (交番等), a station, or another unit named in `unit_name` (刑事課,
    本部地域課). Scope of personal data follows the assignments valid today (access.py).
    """

    officer = models.ForeignKey(
        Officer, on_delete=models.PROTECT, related_name="assignments", verbose_name="職員"
    )
    role = models.CharField("役割", max_length=16, choices=Role.choices)
    station = models.ForeignKey(
        Station,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name="警察署",
    )
    post = models.ForeignKey(
        Post,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name="交番等",
    )
    unit_name = models.CharField("所属名", max_length=64, blank=True)
    beats = models.ManyToManyField(
        Beat, blank=True, related_name="assignments", verbose_name="受持区"
    )
    valid_from = models.DateField("開始日")
    valid_to = models.DateField("終了日", null=True, blank=True)
    # Ended before it ever took effect (a same-day or future transfer superseded it): a date
    # range cannot say "never", so a flag does.
    cancelled = models.BooleanField("取消", default=False)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "配置・指定"
        ordering = ["officer", "valid_from"]
        indexes = [models.Index(fields=["officer", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="assignment_period_ordered",
            ),
            # A post-level role sits at a post; a station-level one at a station; other units
            # (HQ, other departments) hold no station-scoped role.
            models.CheckConstraint(
                condition=(
                    Q(role__in=["CUSTODIAN", "BEAT_OFFICER"], post__isnull=False)
                    | Q(role__in=["STATION_CHIEF"], post__isnull=True, station__isnull=False)
                    | Q(role__in=["MANAGER", "INSPECTOR"], station__isnull=False)
                    | Q(role__in=["STAFF", "HQ"], post__isnull=True)
                ),
                name="assignment_role_fits_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.officer} {self.role_label} {self.unit_label}"

    @property
    def unit_kind(self) -> str:
        if self.post_id is not None:
            return UnitKind.POST
        if self.station_id is not None:
            return UnitKind.STATION
        return UnitKind.OTHER

    @property
    def unit_label(self) -> str:
        if self.post is not None:
            return self.post.name
        if self.station is not None and self.role == Role.STATION_CHIEF:
            # The chief heads the station, not its 地域課.
            return self.station.name
        if self.station is not None:
            return f"{self.station.name}{self.unit_name or '地域課'}"
        return self.unit_name

    @property
    def role_label(self) -> str:
        """The role as the unit names it: an INSPECTOR at a post is its 交番所長, at the station
        the 地域課長代理; the station's MANAGER is the 地域課長, a 幹部交番's its 所長 (第5-2)."""
        if self.role == Role.INSPECTOR:
            return "交番所長" if self.post_id is not None else "地域課長代理"
        if self.role == Role.MANAGER:
            where = "幹部交番所長" if self.post_id is not None else "地域課長"
            return f"管理責任者（{where}）"
        return str(self.get_role_display())

    def is_valid_on(self, day: dt.date) -> bool:
        return (
            not self.cancelled
            and self.valid_from <= day
            and (self.valid_to is None or self.valid_to >= day)
        )


class KeyDeputy(models.Model):
    """第5-3(4): who holds the cabinet key of a post while its custodian is away.

    Designated by the manager (管理責任者); a designation is dated like an assignment.
    """

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="key_deputies", verbose_name="交番等"
    )
    officer = models.ForeignKey(
        Officer, on_delete=models.PROTECT, related_name="key_deputy_for", verbose_name="職員"
    )
    designated_by = models.ForeignKey(
        Officer, on_delete=models.PROTECT, related_name="+", verbose_name="指定者"
    )
    valid_from = models.DateField("開始日")
    valid_to = models.DateField("終了日", null=True, blank=True)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "保管庫鍵の代理保管者"
        ordering = ["post", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="key_deputy_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} 鍵の代理保管者 {self.officer}"
