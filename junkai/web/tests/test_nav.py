"""The navigation shows a link exactly to those its page serves: it asks the same role
predicates (junkai.access.roles) as the pages, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from junkai.testing import PERSONAS, PersonaTestCase


def _inbox_serves(response: Any) -> bool:
    return response.status_code == 200 and not response.context.get("not_recipient")


def _dashboard_serves(response: Any) -> bool:
    # A reader is sent on to his own board; anyone else is told where figures would be.
    if response.status_code == 302:
        return True
    return response.status_code == 200 and bool(
        response.context.get("stations") or response.context.get("posts")
    )


def _todo_serves(response: Any) -> bool:
    return response.status_code == 200 and bool(response.context.get("reaches_any"))


def _page_serves(response: Any) -> bool:
    return bool(response.status_code == 200)


#: (link text, URL, whether the page's answer serves the officer)
LINKS: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
    ("報告・承認", "/inbox/", _inbox_serves),
    ("要対応", "/todo/", _todo_serves),
    ("進捗状況", "/dashboard/", _dashboard_serves),
    ("専従日", "/org/dedicated-days/", _page_serves),
)


class NavigationMatchesThePages(PersonaTestCase):
    def test_each_link_shows_exactly_where_its_page_serves(self) -> None:
        for username in (*PERSONAS, "kanbucho"):
            client = self.client_for(username)
            home = client.get("/").content.decode()
            for text, url, serves in LINKS:
                with self.subTest(username=username, link=text):
                    self.assertEqual(f'href="{url}"' in home, serves(client.get(url)), username)

    def test_the_kanbu_koban_head_has_his_inbox_link(self) -> None:
        # 幹部交番の所長 is its 管理責任者 and receives its reports (第4-5(4)); the navigation
        # once restated the recipients and left him out.
        client = self.client_for("kanbucho")
        self.assertContains(client.get("/"), 'href="/inbox/"')
        self.assertFalse(client.get("/inbox/").context.get("not_recipient"))
