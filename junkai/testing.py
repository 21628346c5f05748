"""Named personas for tests (as Healthchecks' hc/test.py).

The demo station gives the personas of DESIGN.md: a chief, a manager (kacho), an inspector
(dairi), a koban head (kobancho1), two beat officers of one post (officer1a, officer1b), one
officer of another post (officer2a), the single-officer 駐在所 (chuzai1), HQ and another unit
(staff). A second station ("other") holds data nobody at the demo station may see.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.test import Client, TestCase, TransactionTestCase

from junkai.org import actions
from junkai.org.demo import DEMO_PASSWORD, build_demo
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
OTHER_MARKERS = ("OTHER-9001", "OTHER-9002", "内線 99-9001", "内線 99-9002", "北辺交番", "北辺一区")


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
    return {
        "station": station,
        "post": post,
        "beat": beat,
        "chief": chief,
        "officer": officer,
        "assignment": officer_assignment,
        "chief_assignment": chief_assignment,
    }


class PersonaMixin:
    """Personas as attributes: self.chief, self.kacho, … and self.other (a dict)."""

    station: ClassVar[Station]
    other: ClassVar[dict[str, Any]]

    @classmethod
    def build_personas(cls) -> None:
        cls.station = build_demo()
        cls.other = build_other_station()

    def officer(self, username: str) -> Officer:
        return Officer.objects.get(username=username)

    def post(self, code: str) -> Post:
        return Post.objects.get(station=self.station, code=code)

    def beat(self, code: str) -> Beat:
        return Beat.objects.get(post__station=self.station, code=code)

    def client_for(self, username: str, **client_options: Any) -> Client:
        client = Client(**client_options)
        client.force_login(self.officer(username))
        # force_login skips the sign-in view, which stamps the session's start.
        import time

        from junkai.accounts.middleware import LOGIN_AT

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
