"""A small station whose figures are known exactly (frozen on 2026-06-15 12:00 JST).

駅北交番 (KOBAN) 北一区, walked by two officers (kita1, kita2):
  h1 家庭, met 2026-04-15 ................. covered
  h2 家庭, met 2025-05-01, absent 06-10 ... not covered, not overdue (retry on 06-24)
  h3 未把握 (no card), never visited ...... not covered, due today (not overdue)
  h4 事業所等, met 2024-10-15 ............. covered (24 months)
  h5 家庭 区長, met 2026-02-01 ............ not covered (leaders: 3 months), overdue
  h6 家庭, moved out ...................... not counted
  h7 家庭, met 2026-06-12 with two concerns (one resolved) ... covered
  → 6 households, 3 covered (50%), 5 with a card (83.3%), 1 overdue, 1 未把握
  expected/month = 3/12 + 1/24 + 1/3 + 1/3 = 0.958333…
  June: kita1 2 visits (1 met, 1 absent), 6 new cards, 1 correction, 1 concern resolved;
  plan 4 visits.
山辺駐在所 (CHUZAISHO) 山辺区, walked by yama1:
  g1 高齢者, met 2026-01-10, met again 06-05 ... covered
  g2 高齢者, met 2025-11-01 ................... not covered, overdue
  → 2 households, 1 covered, 2 with a card, 1 overdue; expected 2/6; June: 1 visit (met).
Station: 8 households, 4 covered (50%), 7 carded (87.5%), 2 overdue, 1 未把握.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password

from junkai.households import actions as household_actions
from junkai.households.models import Household
from junkai.org import actions as org_actions
from junkai.org.models import Officer, PostKind, Rank, Role
from junkai.visits import actions as visit_actions
from junkai.visits.models import Concern

JST = ZoneInfo("Asia/Tokyo")
FROZEN = dt.datetime(2026, 6, 15, 12, 0, tzinfo=JST)
PASSWORD = "dash-test-pw-1"


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=JST)


def build_known_station() -> dict[str, Any]:
    station = org_actions.do_create_station(acting_officer=None, code="DASH", name="駅北警察署")
    koban = org_actions.do_create_post(
        station, acting_officer=None, code="D1", name="駅北交番", kind=PostKind.KOBAN
    )
    chuzai = org_actions.do_create_post(
        station, acting_officer=None, code="D2", name="山辺駐在所", kind=PostKind.CHUZAISHO
    )
    kita = org_actions.do_create_beat(koban, acting_officer=None, code="D1-1", name="北一区")
    yama = org_actions.do_create_beat(chuzai, acting_officer=None, code="D2-1", name="山辺区")

    # One hash for all, as the demo does: these personas skip the first password change.
    password_hash = make_password(PASSWORD)

    def officer(username: str, name: str, role: Role, **unit: Any) -> Officer:
        o = org_actions.do_create_officer(
            acting_officer=None,
            username=username,
            full_name=name,
            rank=Rank.JUNSA,
            password_hash=password_hash,
        )
        org_actions.do_assign(o, acting_officer=None, role=role, end_current=False, **unit)
        return o

    people = {
        "d_chief": officer("d_chief", "北 署長", Role.STATION_CHIEF, station=station),
        "d_kacho": officer("d_kacho", "北 課長", Role.MANAGER, station=station),
        "d_dairi": officer("d_dairi", "北 代理", Role.INSPECTOR, station=station),
        "d_head": officer("d_head", "北 所長", Role.INSPECTOR, station=station, post=koban),
        "kita1": officer("kita1", "北 一郎", Role.BEAT_OFFICER, post=koban, beats=[kita]),
        "kita2": officer("kita2", "北 二郎", Role.BEAT_OFFICER, post=koban, beats=[kita]),
        "yama1": officer("yama1", "山辺 三郎", Role.BEAT_OFFICER, post=chuzai, beats=[yama]),
        "d_hq": officer("d_hq", "本部 花子", Role.HQ, unit_name="本部地域課"),
    }
    kita1, yama1 = people["kita1"], people["yama1"]

    def household(beat: Any, name: str, *, card: bool = True, **fields: Any) -> Household:
        h = household_actions.do_create_household(
            beat,
            acting_officer=None,
            kind=fields.pop("kind", "RESIDENCE"),
            name=name,
            town="駅北町" if beat == kita else "山辺",
            banchi=str(Household.objects.count() + 1),
            **fields,
        )
        if card:
            walker = kita1 if beat == kita else yama1
            household_actions.do_save_card(
                h,
                {"residents": [{"name": f"{name} 太郎", "kana": "てすと たろう"}]},
                acting_officer=walker,
                expected_version=None,
            )
        return h

    def met(h: Household, when: dt.datetime, who: Officer, **extra: Any) -> Any:
        h.refresh_from_db()
        return visit_actions.do_record_visit(
            h, acting_officer=who, started_at=when, outcome="MET", guidance_topics=[1], **extra
        )

    h1 = household(kita, "一ノ瀬")
    met(h1, at(2026, 4, 15), kita1)
    h2 = household(kita, "二宮")
    met(h2, at(2025, 5, 1), kita1)
    h2.refresh_from_db()
    visit_actions.do_record_visit(
        h2, acting_officer=kita1, started_at=at(2026, 6, 10), outcome="ABSENT"
    )
    household(kita, "三木", card=False)
    h4 = household(kita, "四谷商店", kind="BUSINESS")
    met(h4, at(2024, 10, 15), kita1)
    h5 = household(kita, "五味", leader_role="KUCHO")
    met(h5, at(2026, 2, 1), kita1)
    h6 = household(kita, "六本木")
    household_actions.do_move_out(h6, acting_officer=kita1)
    h7 = household(kita, "七海")
    visit = met(
        h7,
        at(2026, 6, 12),
        kita1,
        concerns=[{"kind": "TROUBLE", "text": "街灯が暗い"}, {"kind": "REQUEST", "text": "巡回"}],
    )
    first = Concern.objects.filter(visit=visit).order_by("id").first()
    assert first is not None
    visit_actions.do_update_concern(
        first, acting_officer=kita1, status="RESOLVED", resolution="市へ連絡した"
    )
    # One correction (補正) of h1's card.
    h1.refresh_from_db()
    household_actions.do_save_card(
        h1,
        {
            "residents": [
                {"name": "一ノ瀬 太郎", "kana": "いちのせ たろう", "phone": "090-0000-0001"}
            ]
        },
        acting_officer=kita1,
        expected_version=1,
    )
    visit_actions.do_save_monthly_plan(
        acting_officer=kita1, month=dt.date(2026, 6, 1), areas="駅北町", target_visits=4
    )

    g1 = household(yama, "山田", elderly_flag=True)
    met(g1, at(2026, 1, 10), yama1)
    met(g1, at(2026, 6, 5), yama1)
    g2 = household(yama, "川田", elderly_flag=True)
    met(g2, at(2025, 11, 1), yama1)
    return {
        "station": station,
        "koban": koban,
        "chuzai": chuzai,
        "kita": kita,
        "yama": yama,
        **people,
    }
