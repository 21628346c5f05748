"""Words on the pages (issue 17 item 10): each role as its unit names it, the chief's unit the
station itself, no priority badge repeating the category, no command names in page text."""

from __future__ import annotations

import re

from junkai.testing import PersonaTestCase


class WordsTests(PersonaTestCase):
    def test_a_koban_head_is_the_koban_head_and_the_deputy_the_deputy(self) -> None:
        koban = self.client_for("kobancho1").get("/").content.decode()
        self.assertIn('<span class="badge role">交番所長</span> 駅前交番', koban)
        self.assertNotIn("地域課長代理", koban)
        dairi = self.client_for("dairi").get("/").content.decode()
        self.assertIn('<span class="badge role">地域課長代理</span> みなと中央警察署地域課', dairi)
        self.assertNotIn("交番所長", dairi)
        kacho = self.client_for("kacho").get("/").content.decode()
        self.assertIn("管理責任者（地域課長）", kacho)

    def test_the_chiefs_unit_is_the_station(self) -> None:
        home = self.client_for("chief").get("/").content.decode()
        self.assertIn("統括管理責任者（警察署長）</span> みなと中央警察署\n", home)
        self.assertNotIn("みなと中央警察署地域課", home)

    def test_no_priority_badge_beside_the_category(self) -> None:
        page = self.client_for("officer1a").get("/worklist/").content.decode()
        self.assertIn("未把握世帯", page)  # the household without a card is due
        self.assertIsNone(re.search(r'<span class="badge">[高中低]</span>', page))

    def test_no_command_names_in_page_text(self) -> None:
        client = self.client_for("kacho")
        for url in ("/misuse/", f"/dashboard/stations/{self.station.id}/"):
            with self.subTest(url=url):
                page = client.get(url).content.decode()
                self.assertNotIn("junkai misuse-scan", page)
                self.assertIsNone(re.search(r"junkai [a-z]+-[a-z]+", page))
