"""The navigation bar: its links follow the officer's assignments, and it costs no query."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from junkai.testing import PERSONAS, PersonaTestCase

NAV = "junkai.web.context_processors.junkai"


def templates_without_nav() -> list[dict[str, Any]]:
    templates: list[dict[str, Any]] = deepcopy(settings.TEMPLATES)
    for engine in templates:
        processors = engine["OPTIONS"]["context_processors"]
        engine["OPTIONS"]["context_processors"] = [p for p in processors if p != NAV]
    return templates


class NavTests(PersonaTestCase):
    def queries_of(self, client: Client, url: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        self.assertEqual(response.status_code, 200)
        return [q["sql"] for q in captured.captured_queries]

    def test_the_nav_adds_no_query_to_a_page(self) -> None:
        # The nav reads the officer's assignments, which the session check has already loaded
        # for the request: a page costs the same with the nav as without it.
        for username in PERSONAS:
            with self.subTest(username=username):
                client = self.client_for(username)
                client.get("/account/")  # warm the session
                with_nav = self.queries_of(client, "/account/")
                with override_settings(TEMPLATES=templates_without_nav()):
                    without_nav = self.queries_of(client, "/account/")
                self.assertEqual(len(with_nav), len(without_nav), "\n".join(with_nav))

    def test_the_org_link_shows_for_those_who_administer_a_station(self) -> None:
        for username, shown in (
            ("chief", True),
            ("kacho", True),
            ("dairi", False),
            ("kobancho1", False),
            ("officer1a", False),
            ("hq", False),
            ("staff", False),
        ):
            with self.subTest(username=username):
                page = self.client_for(username).get("/account/").content.decode()
                self.assertEqual('href="/org/"' in page, shown)
