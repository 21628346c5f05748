"""The demo station: fictional places and people only, built through the actions.

Fixed logins (password `junkai-demo`) are listed in DEMO_LOGINS; README and run.sh print them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from junkai.org import actions
from junkai.org.models import Beat, Officer, Post, PostKind, Rank, Role, Station, today

DEMO_PASSWORD = "junkai-demo"  # noqa: S105  (published demo password, demo data only)
DEMO_STATION_CODE = "DEMO01"

#: login → what it is, for README and run.sh.
DEMO_LOGINS: dict[str, str] = {
    "chief": "署長（統括管理責任者）",
    "kacho": "地域課長（管理責任者）",
    "dairi": "地域課長代理",
    "kobancho1": "駅前交番 所長（取扱責任者）",
    "officer1a": "駅前交番 受持警察官",
    "officer1b": "駅前交番 受持警察官",
    "officer2a": "本町交番 受持警察官",
    "chuzai1": "山里駐在所（一人勤務）",
    "hq": "本部地域課",
    "staff": "刑事課（他部門）",
}


@dataclass(frozen=True)
class PostSpec:
    code: str
    name: str
    kind: PostKind
    beats: tuple[str, ...]
    single_officer: bool = False


POSTS = (
    PostSpec("K1", "駅前交番", PostKind.KOBAN, ("駅前一区", "駅前二区", "駅前三区")),
    PostSpec("K2", "本町交番", PostKind.KOBAN, ("本町一区", "本町二区")),
    PostSpec("K3", "港町交番", PostKind.KOBAN, ("港町一区", "港町二区")),
    PostSpec("KB", "中央幹部交番", PostKind.KANBU_KOBAN, ("中央一区", "中央二区")),
    PostSpec("C1", "山里駐在所", PostKind.CHUZAISHO, ("山里区",), single_officer=True),
    PostSpec("C2", "川辺駐在所", PostKind.CHUZAISHO, ("川辺区",)),
    PostSpec("P1", "地域警ら隊", PostKind.PATROL, ()),
)


@dataclass(frozen=True)
class OfficerSpec:
    username: str
    name: str
    kana: str
    rank: Rank
    role: Role
    post: str | None = None  # post code; None: the station
    beats: tuple[int, ...] = ()  # indexes into the post's beats
    unit_name: str = ""


OFFICERS = (
    OfficerSpec("chief", "大森 正道", "おおもり まさみち", Rank.KEISHI, Role.STATION_CHIEF),
    OfficerSpec(
        "kacho", "高瀬 恭一", "たかせ きょういち", Rank.KEIBU, Role.MANAGER, unit_name="地域課"
    ),
    OfficerSpec(
        "dairi", "石黒 由紀", "いしぐろ ゆき", Rank.KEIBUHO, Role.INSPECTOR, unit_name="地域課"
    ),
    OfficerSpec("kobancho1", "村瀬 健司", "むらせ けんじ", Rank.KEIBUHO, Role.INSPECTOR, "K1"),
    OfficerSpec(
        "officer1a", "佐野 翔太", "さの しょうた", Rank.JUNSA, Role.BEAT_OFFICER, "K1", (0,)
    ),
    OfficerSpec(
        "officer1b", "北川 美咲", "きたがわ みさき", Rank.JUNSA_CHO, Role.BEAT_OFFICER, "K1", (1,)
    ),
    OfficerSpec(
        "officer1c",
        "松永 大輔",
        "まつなが だいすけ",
        Rank.JUNSA_BUCHO,
        Role.BEAT_OFFICER,
        "K1",
        (2,),
    ),
    OfficerSpec(
        "officer1d", "平田 彩花", "ひらた あやか", Rank.JUNSA, Role.BEAT_OFFICER, "K1", (0, 1)
    ),
    OfficerSpec("kobancho2", "野口 隆", "のぐち たかし", Rank.KEIBUHO, Role.INSPECTOR, "K2"),
    OfficerSpec(
        "officer2a", "今井 拓海", "いまい たくみ", Rank.JUNSA, Role.BEAT_OFFICER, "K2", (0,)
    ),
    OfficerSpec(
        "officer2b", "川口 里奈", "かわぐち りな", Rank.JUNSA_CHO, Role.BEAT_OFFICER, "K2", (1,)
    ),
    OfficerSpec("kobancho3", "須藤 誠", "すどう まこと", Rank.KEIBUHO, Role.INSPECTOR, "K3"),
    OfficerSpec(
        "officer3a",
        "森本 陽介",
        "もりもと ようすけ",
        Rank.JUNSA_BUCHO,
        Role.BEAT_OFFICER,
        "K3",
        (0,),
    ),
    OfficerSpec("officer3b", "小池 真由", "こいけ まゆ", Rank.JUNSA, Role.BEAT_OFFICER, "K3", (1,)),
    OfficerSpec("kanbucho", "藤原 敏之", "ふじわら としゆき", Rank.KEIBU, Role.MANAGER, "KB"),
    OfficerSpec("kanbu_a", "岡田 亮", "おかだ りょう", Rank.KEIBUHO, Role.BEAT_OFFICER, "KB", (0,)),
    OfficerSpec(
        "kanbu_b", "中島 恵", "なかじま めぐみ", Rank.JUNSA_BUCHO, Role.BEAT_OFFICER, "KB", (1,)
    ),
    OfficerSpec(
        "kanbu_c", "宮崎 勇気", "みやざき ゆうき", Rank.JUNSA, Role.BEAT_OFFICER, "KB", (0, 1)
    ),
    OfficerSpec(
        "chuzai1", "山下 浩二", "やました こうじ", Rank.JUNSA_BUCHO, Role.BEAT_OFFICER, "C1", (0,)
    ),
    OfficerSpec(
        "chuzai2a", "上田 正樹", "うえだ まさき", Rank.JUNSA_BUCHO, Role.BEAT_OFFICER, "C2", (0,)
    ),
    OfficerSpec(
        "chuzai2b", "上田 直美", "うえだ なおみ", Rank.JUNSA_CHO, Role.BEAT_OFFICER, "C2", (0,)
    ),
    OfficerSpec("patrol1", "坂本 剛", "さかもと つよし", Rank.KEIBUHO, Role.BEAT_OFFICER, "P1"),
    OfficerSpec("patrol2", "吉村 悠", "よしむら はるか", Rank.JUNSA, Role.BEAT_OFFICER, "P1"),
    OfficerSpec("patrol3", "西田 航", "にしだ わたる", Rank.JUNSA, Role.BEAT_OFFICER, "P1"),
    OfficerSpec("hq", "長谷川 修", "はせがわ おさむ", Rank.KEISHI, Role.HQ, unit_name="本部地域課"),
    OfficerSpec(
        "staff", "片山 徹", "かたやま とおる", Rank.KEIBUHO, Role.STAFF, unit_name="刑事課"
    ),
)

#: Custodians designated by the chief (第5-2(3)ア); 交番 custodians are their 所長.
CUSTODIANS = {
    "K1": "kobancho1",
    "K2": "kobancho2",
    "K3": "kobancho3",
    "KB": "kanbu_a",
    "C1": "chuzai1",
    "C2": "chuzai2a",
    "P1": "patrol1",
}


def demo_exists() -> bool:
    return Station.objects.filter(code=DEMO_STATION_CODE).exists()


@transaction.atomic
def build_demo(*, start: dt.date | None = None) -> Station:
    """Create the demo station through the actions (so its audit trail is real)."""
    start = start or today().replace(month=4, day=1)
    if start > today():
        start = start.replace(year=start.year - 1)
    station = actions.do_create_station(
        acting_officer=None, code=DEMO_STATION_CODE, name="みなと中央警察署"
    )
    posts: dict[str, Post] = {}
    beats: dict[str, list[Beat]] = {}
    for post_spec in POSTS:
        post = actions.do_create_post(
            station,
            acting_officer=None,
            code=post_spec.code,
            name=post_spec.name,
            kind=post_spec.kind,
            single_officer=post_spec.single_officer,
        )
        posts[post_spec.code] = post
        beats[post_spec.code] = [
            actions.do_create_beat(
                post, acting_officer=None, code=f"{post_spec.code}-{i + 1}", name=n
            )
            for i, n in enumerate(post_spec.beats)
        ]

    # One hash for all: Argon2 is deliberately slow, and every demo login shares a password.
    password_hash = make_password(DEMO_PASSWORD)
    officers: dict[str, Officer] = {}
    for number, spec in enumerate(OFFICERS, start=1):
        officer = actions.do_create_officer(
            acting_officer=None,
            username=spec.username,
            full_name=spec.name,
            full_name_kana=spec.kana,
            rank=spec.rank,
            staff_number=f"D{number:05d}",
            police_phone=f"内線 7{number:03d}",
            password_hash=password_hash,
        )
        officers[spec.username] = officer
        unit = posts[spec.post] if spec.post else None
        actions.do_assign(
            officer,
            acting_officer=None,
            role=spec.role,
            station=None if spec.role in (Role.HQ,) else station,
            post=unit,
            beats=[beats[spec.post][i] for i in spec.beats] if spec.post else [],
            unit_name=spec.unit_name,
            valid_from=start,
            end_current=False,
        )
    chief = officers["chief"]
    for code, username in CUSTODIANS.items():
        actions.do_designate_custodian(
            posts[code], officers[username], acting_officer=chief, valid_from=start
        )
    return station
