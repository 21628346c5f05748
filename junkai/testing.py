"""Named personas for tests (as Healthchecks' hc/test.py).

The demo station gives the personas of DESIGN.md: a chief, a manager (kacho), an inspector
(dairi), a koban head (kobancho1), two beat officers of one post (officer1a, officer1b), one
officer of another post (officer2a), the single-officer 駐在所 (chuzai1), HQ and another unit
(staff). A second station ("other") holds data nobody at the demo station may see.
"""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar

import psycopg
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client, TestCase, TransactionTestCase

from junkai.accounts.middleware import LOGIN_AT
from junkai.demo.organisation import DEMO_PASSWORD, build_demo
from junkai.households import actions as household_actions
from junkai.households.models import Household
from junkai.org import actions
from junkai.org.models import Beat, Officer, Post, PostKind, Rank, Role, Station

PERSONAS = (
    "chief",
    "kacho",
    "dairi",
    "kobancho1",
    "officer1a",
    "officer1b",
    "officer2a",
    "chuzai1",
    "hq",
    "staff",
)

#: Strings that appear only in the other station's records: no persona may ever see them.
OTHER_MARKERS = (
    "OTHER-9001",
    "OTHER-9002",
    "内線 99-9001",
    "内線 99-9002",
    "北辺交番",
    "北辺一区",
    "遠野 花子",
    "とおの はなこ",
    "099-111-2222",
    "北辺町",
)

#: The demo households every persona test starts with (in 駅前一区 and 本町一区).
SAMPLE_CARD = {
    "source": "RESIDENT",
    "accepted_on": "2025-05-10",
    "binder_number": "1",
    "residents": [
        {
            "name": "青木 一郎",
            "kana": "あおき いちろう",
            "relation": "世帯主",
            "birth_date": "1970-03-01",
            "sex": "M",
            "phone": "090-1111-2222",
        },
        {"name": "青木 花", "kana": "あおき はな", "relation": "妻", "birth_date": "1972-07-07"},
    ],
    "contacts": [{"name": "青木 次郎", "relation": "弟", "phone": "03-3333-4444"}],
}


def build_other_station() -> dict[str, Any]:
    station = actions.do_create_station(acting_officer=None, code="OTHER", name="北辺警察署")
    post = actions.do_create_post(
        station, acting_officer=None, code="N1", name="北辺交番", kind=PostKind.KOBAN
    )
    beat = actions.do_create_beat(post, acting_officer=None, code="N1-1", name="北辺一区")
    password_hash = make_password(DEMO_PASSWORD)
    chief = actions.do_create_officer(
        acting_officer=None,
        username="other_chief",
        full_name="遠野 一",
        rank=Rank.KEISHI,
        staff_number="OTHER-9001",
        police_phone="内線 99-9001",
        password_hash=password_hash,
    )
    officer = actions.do_create_officer(
        acting_officer=None,
        username="other_officer",
        full_name="遠野 二",
        rank=Rank.JUNSA,
        staff_number="OTHER-9002",
        police_phone="内線 99-9002",
        password_hash=password_hash,
    )
    chief_assignment = actions.do_assign(
        chief, acting_officer=None, role=Role.STATION_CHIEF, station=station, end_current=False
    )
    officer_assignment = actions.do_assign(
        officer,
        acting_officer=None,
        role=Role.BEAT_OFFICER,
        post=post,
        beats=[beat],
        end_current=False,
    )
    household = household_actions.do_create_household(
        beat,
        acting_officer=None,
        kind="RESIDENCE",
        name="遠野",
        town="北辺町",
        chome="1",
        banchi="1",
    )
    household_actions.do_save_card(
        household,
        {"residents": [{"name": "遠野 花子", "kana": "とおの はなこ", "phone": "099-111-2222"}]},
        acting_officer=officer,
        expected_version=None,
    )
    return {
        "station": station,
        "post": post,
        "beat": beat,
        "household": household,
        "chief": chief,
        "officer": officer,
        "assignment": officer_assignment,
        "chief_assignment": chief_assignment,
    }


def build_sample_households(station: Station) -> dict[str, Household]:
    """Two households in 駅前一区 (one with a card), one with a card in 本町一区."""
    k1 = Beat.objects.get(post__station=station, code="K1-1")
    k2 = Beat.objects.get(post__station=station, code="K2-1")
    aoki = household_actions.do_create_household(
        k1, acting_officer=None, kind="RESIDENCE", name="青木", town="駅前町",
        chome="1", banchi="2", go="3", block_group="1組", map_number=1,
    )  # fmt: skip
    household_actions.do_save_card(
        aoki,
        SAMPLE_CARD,
        acting_officer=Officer.objects.get(username="officer1a"),
        expected_version=None,
    )
    no_card = household_actions.do_create_household(
        k1, acting_officer=None, kind="RESIDENCE", name="", town="駅前町",
        chome="1", banchi="2", go="4", block_group="1組", map_number=2,
    )  # fmt: skip
    honmachi = household_actions.do_create_household(
        k2, acting_officer=None, kind="BUSINESS", name="本町商店", town="本町",
        chome="2", banchi="5", block_group="3班", map_number=1,
    )  # fmt: skip
    household_actions.do_save_card(
        honmachi,
        {"residents": [], "remarks": "営業時間 9-18時"},
        acting_officer=Officer.objects.get(username="officer2a"),
        expected_version=None,
    )
    return {"aoki": aoki, "no_card": no_card, "honmachi": honmachi}


class PersonaMixin:
    """Personas as attributes: self.chief, self.kacho, … and self.other (a dict)."""

    station: ClassVar[Station]
    other: ClassVar[dict[str, Any]]
    aoki: ClassVar[Household]
    no_card: ClassVar[Household]
    honmachi: ClassVar[Household]

    @classmethod
    def build_personas(cls) -> None:
        cls.station = build_demo()
        cls.other = build_other_station()
        cls.build_sample_households()

    @classmethod
    def build_sample_households(cls) -> None:
        samples = build_sample_households(cls.station)
        cls.aoki, cls.no_card, cls.honmachi = (
            samples["aoki"],
            samples["no_card"],
            samples["honmachi"],
        )

    def officer(self, username: str) -> Officer:
        return Officer.objects.get(username=username)

    def post(self, code: str) -> Post:
        return Post.objects.get(station=self.station, code=code)

    def beat(self, code: str) -> Beat:
        return Beat.objects.get(post__station=self.station, code=code)

    def state_read_purpose(
        self, client: Client, household: Household, purpose: str = "SUPERVISION"
    ) -> None:
        """State why a household outside one's own beats is read (remembered for its beat)."""
        response = client.post(f"/households/{household.id}/", {"purpose": purpose})
        assert response.status_code == 302, response.content[:500]

    def client_for(self, username: str, **client_options: Any) -> Client:
        client = Client(**client_options)
        client.force_login(self.officer(username))
        # force_login skips the sign-in view, which stamps the session's start.
        session = client.session
        session[LOGIN_AT] = time.time()
        session.save()
        return client


class PersonaTestCase(PersonaMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.build_personas()


#: Every app but the audit log: a TransactionTestCase flushes its tables with TRUNCATE, which
#: the append-only trigger refuses on PostgreSQL (as it should).
FLUSHABLE_APPS = [app for app in settings.INSTALLED_APPS if app != "junkai.audit"]


class JunkaiTransactionTestCase(TransactionTestCase):
    available_apps = FLUSHABLE_APPS


def allow_sync_db_in_browser_tests() -> None:
    # Playwright's sync API runs an event loop in this thread; Django's DB calls in the live
    # server thread are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def other_connection(*, autocommit: bool = False) -> psycopg.Connection[Any]:
    """Another session on the test database (PostgreSQL), as another request's would be: for
    the tests of locks, seals and lost connections."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=autocommit,
    )
