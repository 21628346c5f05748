"""The 503 page (the database out of reach) at the three sizes: nothing scrolls sideways, the
retry link is a 44 px target. Once, on PostgreSQL, as the other browser tests; the page itself is
made without the database (junkai/serving/unavailable.py)."""

from __future__ import annotations

import shutil
from unittest import skipIf, skipUnless

from django.db import connection
from django.test import RequestFactory, SimpleTestCase
from playwright.sync_api import sync_playwright

from junkai.serving import unavailable
from junkai.web.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

SIZES = [(390, 844), (810, 1080), (1080, 810)]


@skipIf(shutil.which(CHROMIUM) is None, "chromium is not installed")
@skipUnless(connection.vendor == "postgresql", "the browser tests run once, on PostgreSQL")
class UnavailablePageTests(SimpleTestCase):
    def test_the_page_fits_a_phone_and_an_ipad(self) -> None:
        factory = RequestFactory()
        pages = {
            "read": unavailable.page(factory.get("/worklist/")),
            "write": unavailable.page(factory.post("/households/1/visit/")),
        }
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for name, response in pages.items():
                    for width, height in SIZES:
                        with self.subTest(page=name, width=width):
                            page = browser.new_page(
                                viewport={"width": width, "height": height}, locale="ja-JP"
                            )
                            page.set_content(response.content.decode())
                            overflow = page.evaluate(
                                "document.documentElement.scrollWidth - window.innerWidth"
                            )
                            self.assertLessEqual(overflow, 0)
                            link = page.get_by_role("link", name="ホームへ戻る").bounding_box()
                            assert link is not None
                            self.assertGreaterEqual(link["height"], 44)
                            page.screenshot(
                                path=str(SCREENSHOTS / f"unavailable-{name}-{width}.png"),
                                full_page=True,
                            )
                            page.close()
            finally:
                browser.close()
