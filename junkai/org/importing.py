"""The organisation and its officers from files (`junkai import-org`, `junkai import-officers`):
how a prefecture puts its stations, 交番等, beats and officers into Junkai at the start, from the
lists it already keeps. Format: docs/import-org.md.

Both are all or nothing: every row is checked first and every problem is named by row and
column (lib/tables.py); then everything is written in one transaction through the
organisation's actions, as the system (the command line), so each station, post, beat, officer
and assignment has its audit event. Neither import changes or removes what exists: a code
already registered with the same name is taken as it is (a file can be run again after rows
are added), a different name is an error. Later changes are made on the organisation pages.

Each new officer gets an issued password, returned once for the caller to hand over and to be
changed at his first sign-in (`password_change_required`), never written to a log.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from junkai.lib.dates import DateFormatError, parse_date
from junkai.lib.passwords import issued_password
from junkai.lib.tables import BulkLoadError, RowError, cell_text, read_header, read_table
from junkai.lib.text import text_problem
from junkai.org import actions
from junkai.org.models import Beat, Officer, Post, PostKind, Rank, Role, Station, today

# --- the organisation file: one row per beat (or per post without beats) ---------------------

STATION_CODE = "警察署コード"
STATION_NAME = "警察署名"
POST_CODE = "交番等コード"
POST_NAME = "交番等名"
POST_KIND = "種別"
SINGLE = "一人勤務"
BEAT_CODE = "受持区コード"
BEAT_NAME = "受持区名"
ORG_COLUMNS = (
    STATION_CODE,
    STATION_NAME,
    POST_CODE,
    POST_NAME,
    POST_KIND,
    SINGLE,
    BEAT_CODE,
    BEAT_NAME,
)

_KINDS = {label: value for value, label in PostKind.choices} | {
    "地域警ら隊": PostKind.PATROL.value,
    "警ら": PostKind.PATROL.value,
}
_YES = {"○", "〇", "◯", "1", "はい", "Y", "y"}

# --- the officers file: one row per officer -------------------------------------------------

STAFF_NUMBER = "職員番号"
USERNAME = "ログインID"
FULL_NAME = "氏名"
KANA = "ふりがな"
RANK = "階級"
ROLE = "役割"
UNIT_NAME = "所属名"
VALID_FROM = "発令日"
OFFICER_COLUMNS = (
    STAFF_NUMBER,
    USERNAME,
    FULL_NAME,
    KANA,
    RANK,
    ROLE,
    STATION_CODE,
    POST_CODE,
    BEAT_CODE,
    UNIT_NAME,
    VALID_FROM,
)
#: What a personnel list calls each role. 取扱責任者 is designated on the post's page, not here.
_ROLES = {
    "署長": Role.STATION_CHIEF,
    "統括管理責任者": Role.STATION_CHIEF,
    "地域課長": Role.MANAGER,
    "管理責任者": Role.MANAGER,
    "幹部交番所長": Role.MANAGER,
    "地域課長代理": Role.INSPECTOR,
    "交番所長": Role.INSPECTOR,
    "代理・所長": Role.INSPECTOR,
    "受持警察官": Role.BEAT_OFFICER,
    "受持警察官等": Role.BEAT_OFFICER,
    "本部地域課": Role.HQ,
    "本部": Role.HQ,
    "他部門": Role.STAFF,
    "他部門職員": Role.STAFF,
}
_RANKS = {label: value for value, label in Rank.choices}
_USERNAME = re.compile(r"[A-Za-z0-9._@+-]{1,64}")


@dataclass
class OrgResult:
    stations: int = 0
    posts: int = 0
    beats: int = 0


@dataclass
class IssuedPassword:
    staff_number: str
    username: str
    full_name: str
    password: str


@dataclass
class OfficersResult:
    officers: int = 0
    assignments: int = 0
    issued: list[IssuedPassword] = field(default_factory=list)


class _Rows:
    """The data rows of a file with their cells by column name, and the errors found."""

    def __init__(self, path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> None:
        table = read_table(path)
        _, index = read_header(table, columns, required)
        self.errors: list[RowError] = []
        self.rows: list[tuple[int, dict[str, str]]] = []
        for number, cells in table:
            values = {
                column: cell_text(cells[i]) if i < len(cells) else "" for column, i in index.items()
            }
            if not any(values.values()):
                continue
            for column, value in values.items():
                problem = text_problem(value)
                if problem:
                    self.error(number, column, problem)
            self.rows.append((number, values))

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def required(self, line: int, values: dict[str, str], column: str, max_length: int) -> str:
        value = values.get(column, "")
        if not value:
            self.error(line, column, "入力してください（必須の項目です）")
        elif len(value) > max_length:
            self.error(line, column, f"{max_length}文字以内で入力してください")
        return value


def _same(
    rows: _Rows, line: int, column: str, seen: dict[str, tuple[str, int]], key: str, name: str
) -> None:
    """One code, one name, throughout the file."""
    earlier = seen.setdefault(key, (name, line))
    if earlier[0] != name:
        rows.error(
            line, column, f"同じコードの{earlier[1]}行目と名前が異なります（「{earlier[0]}」）"
        )


def _registered(
    rows: _Rows, line: int, column: str, existing: Station | Post | Beat | None, name: str
) -> bool:
    """Whether the code is free or registered with this name (else an error, once)."""
    if existing is not None and existing.name != name:
        rows.error(
            line,
            column,
            f"このコードは既に「{existing.name}」として登録されています（変更は組織の画面で行います）",
        )
        return False
    return True


def import_org(path: Path, *, check_only: bool = False) -> OrgResult:
    """Stations, their posts and beats from an organisation file. Raises ImportFileError
    (unreadable file) or BulkLoadError (every problem, nothing written)."""
    rows = _Rows(path, ORG_COLUMNS, (STATION_CODE, STATION_NAME))
    stations: dict[str, tuple[str, int]] = {}
    posts: dict[str, tuple[str, int]] = {}
    beats: dict[str, tuple[str, int]] = {}
    plan: list[tuple[int, dict[str, str]]] = []
    for line, v in rows.rows:
        code = rows.required(line, v, STATION_CODE, 16)
        name = rows.required(line, v, STATION_NAME, 64)
        if code and name:
            existing = Station.objects.filter(code=code).first()
            if _registered(rows, line, STATION_NAME, existing, name):
                _same(rows, line, STATION_NAME, stations, code, name)
        if v.get(POST_CODE) or v.get(POST_NAME) or v.get(BEAT_CODE) or v.get(BEAT_NAME):
            post_code = rows.required(line, v, POST_CODE, 16)
            post_name = rows.required(line, v, POST_NAME, 64)
            kind = _KINDS.get(unicodedata.normalize("NFKC", v.get(POST_KIND, "")))
            if kind is None:
                rows.error(
                    line,
                    POST_KIND,
                    "交番・幹部交番・駐在所・地域警ら隊のいずれかを入力してください",
                )
            single = v.get(SINGLE, "")
            if single and single not in _YES:
                rows.error(line, SINGLE, "一人勤務の駐在所は「○」、それ以外は空欄にしてください")
            elif single and kind != PostKind.CHUZAISHO:
                rows.error(line, SINGLE, "一人勤務は駐在所にのみ設定できます")
            if post_code and post_name:
                existing_post = Post.objects.filter(station__code=code, code=post_code).first()
                if _registered(rows, line, POST_NAME, existing_post, post_name):
                    _same(rows, line, POST_NAME, posts, f"{code}/{post_code}", post_name)
            if v.get(BEAT_CODE) or v.get(BEAT_NAME):
                beat_code = rows.required(line, v, BEAT_CODE, 16)
                beat_name = rows.required(line, v, BEAT_NAME, 64)
                if beat_code and beat_name:
                    key = f"{code}/{post_code}/{beat_code}"
                    if key in beats:
                        rows.error(line, BEAT_CODE, f"{beats[key][1]}行目と同じ受持区です")
                    beats[key] = (beat_name, line)
                    existing_beat = Beat.objects.filter(
                        post__station__code=code, post__code=post_code, code=beat_code
                    ).first()
                    _registered(rows, line, BEAT_NAME, existing_beat, beat_name)
        plan.append((line, v))
    if rows.errors:
        raise BulkLoadError(rows.errors)

    result = OrgResult()
    with transaction.atomic():
        for line, v in plan:
            _write_org_row(line, v, result)
        if check_only:
            transaction.set_rollback(True)
    return result


def _write_org_row(line: int, v: dict[str, str], result: OrgResult) -> None:
    station = Station.objects.filter(code=v[STATION_CODE]).first()
    if station is None:
        with _row(line):
            station = actions.do_create_station(
                acting_officer=None, code=v[STATION_CODE], name=v[STATION_NAME]
            )
        result.stations += 1
    if not v.get(POST_CODE):
        return
    post = Post.objects.filter(station=station, code=v[POST_CODE]).first()
    if post is None:
        with _row(line):
            post = actions.do_create_post(
                station, acting_officer=None, code=v[POST_CODE], name=v[POST_NAME],
                kind=_KINDS[unicodedata.normalize("NFKC", v[POST_KIND])],
                single_officer=bool(v.get(SINGLE)),
            )  # fmt: skip
        result.posts += 1
    if v.get(BEAT_CODE) and not Beat.objects.filter(post=post, code=v[BEAT_CODE]).exists():
        with _row(line):
            actions.do_create_beat(post, acting_officer=None, code=v[BEAT_CODE], name=v[BEAT_NAME])
        result.beats += 1


@contextmanager
def _row(line: int) -> Iterator[None]:
    """An organisation action for a row: its refusal names the row (and undoes the import)."""
    try:
        yield
    except ValidationError as error:
        messages = (
            [m for ms in error.message_dict.values() for m in ms]
            if hasattr(error, "error_dict")
            else error.messages
        )
        raise BulkLoadError([RowError(line, "", m) for m in messages]) from error


def import_officers(path: Path, *, check_only: bool = False) -> OfficersResult:
    """Officers and their assignments from a personnel file, each with an issued password.
    Raises ImportFileError or BulkLoadError (every problem, nothing written)."""
    rows = _Rows(path, OFFICER_COLUMNS, (STAFF_NUMBER, USERNAME, FULL_NAME, ROLE))
    numbers: dict[str, int] = {}
    usernames: dict[str, int] = {}
    plan: list[tuple[int, dict[str, Any]]] = []
    for line, v in rows.rows:
        number = rows.required(line, v, STAFF_NUMBER, 16)
        username = rows.required(line, v, USERNAME, 64)
        full_name = rows.required(line, v, FULL_NAME, 64)
        if len(v.get(KANA, "")) > 64:
            rows.error(line, KANA, "64文字以内で入力してください")
        if number:
            if number in numbers:
                rows.error(line, STAFF_NUMBER, f"{numbers[number]}行目と同じ職員番号です")
            numbers.setdefault(number, line)
            if Officer.objects.filter(staff_number=number).exists():
                rows.error(
                    line,
                    STAFF_NUMBER,
                    "この職員番号の職員は既に登録されています（異動は組織の画面で行います）",
                )
        if username:
            if not _USERNAME.fullmatch(username):
                rows.error(line, USERNAME, "半角英数字と . _ @ + - で入力してください")
            if username in usernames:
                rows.error(line, USERNAME, f"{usernames[username]}行目と同じログインIDです")
            usernames.setdefault(username, line)
            if Officer.objects.filter(username=username).exists():
                rows.error(line, USERNAME, "このログインIDは既に使われています")
        rank = _RANKS.get(v.get(RANK, ""), "") if v.get(RANK) else ""
        if v.get(RANK) and not rank:
            rows.error(line, RANK, f"階級は{'・'.join(_RANKS)}のいずれかを入力してください")
        role = _ROLES.get(rows.required(line, v, ROLE, 16))
        if role is None and v.get(ROLE):
            rows.error(line, ROLE, f"役割は{'・'.join(_ROLES)}のいずれかを入力してください")
        station, post, beats = _unit(rows, line, v, role)
        valid_from = today()
        if v.get(VALID_FROM):
            try:
                valid_from = parse_date(v[VALID_FROM])
            except DateFormatError as error:
                rows.error(line, VALID_FROM, str(error))
        if len(v.get(UNIT_NAME, "")) > 64:
            rows.error(line, UNIT_NAME, "64文字以内で入力してください")
        plan.append((line, {
            "staff_number": number, "username": username, "full_name": full_name,
            "full_name_kana": v.get(KANA, ""), "rank": rank, "role": role, "station": station,
            "post": post, "beats": beats, "unit_name": v.get(UNIT_NAME, ""),
            "valid_from": valid_from,
        }))  # fmt: skip
    if rows.errors:
        raise BulkLoadError(rows.errors)

    result = OfficersResult()
    with transaction.atomic():
        for line, o in plan:
            password = issued_password()
            with _row(line):
                officer = actions.do_create_officer(
                    acting_officer=None, username=o["username"], full_name=o["full_name"],
                    full_name_kana=o["full_name_kana"], rank=o["rank"],
                    staff_number=o["staff_number"], password=password,
                )  # fmt: skip
                actions.do_assign(
                    officer, acting_officer=None, role=o["role"], station=o["station"],
                    post=o["post"], beats=o["beats"], unit_name=o["unit_name"],
                    valid_from=o["valid_from"], end_current=False,
                )  # fmt: skip
            result.officers += 1
            result.assignments += 1
            result.issued.append(
                IssuedPassword(o["staff_number"], o["username"], o["full_name"], password)
            )
        if check_only:
            transaction.set_rollback(True)
            result.issued = []
    return result


def _unit(
    rows: _Rows, line: int, v: dict[str, str], role: Role | None
) -> tuple[Station | None, Post | None, list[Beat]]:
    """The station, post and beats a row names, each looked up by code."""
    station = post = None
    beats: list[Beat] = []
    if v.get(STATION_CODE):
        station = Station.objects.filter(code=v[STATION_CODE]).first()
        if station is None:
            rows.error(
                line,
                STATION_CODE,
                "この警察署コードは登録されていません（先に import-org で登録します）",
            )
    elif role not in (None, Role.HQ, Role.STAFF):
        rows.error(line, STATION_CODE, "入力してください（本部・他部門以外は必須です）")
    if v.get(POST_CODE) and station is not None:
        post = Post.objects.filter(station=station, code=v[POST_CODE]).first()
        if post is None:
            rows.error(line, POST_CODE, f"{station.name}にこの交番等コードはありません")
    codes = [c for c in re.split(r"[\s、,・/]+", v.get(BEAT_CODE, "")) if c]
    if codes and post is None and station is not None and not v.get(POST_CODE):
        rows.error(line, BEAT_CODE, "受持区は交番等コードとともに入力してください")
    if codes and post is not None:
        found = {b.code: b for b in Beat.objects.filter(post=post, code__in=codes)}
        for code in codes:
            if code not in found:
                rows.error(line, BEAT_CODE, f"{post.name}に受持区「{code}」はありません")
        beats = [found[c] for c in codes if c in found]
    return station, post, beats


def issued_password_rows(result: OfficersResult) -> list[list[str]]:
    """The issued passwords as a table (header first), to hand over and then destroy."""
    return [["職員番号", "ログインID", "氏名", "初期パスワード（初回サインイン時に変更）"]] + [
        [i.staff_number, i.username, i.full_name, i.password] for i in result.issued
    ]
