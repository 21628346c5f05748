"""Browser tests in Debian's chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from unittest import skipIf, skipUnless

from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db import connection
from playwright.sync_api import Browser, Page, sync_playwright

from junkai.demo.organisation import DEMO_PASSWORD, build_demo
from junkai.testing import FLUSHABLE_APPS, allow_sync_db_in_browser_tests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


def landing(live_server_url: str) -> re.Pattern[str]:
    """Where sign-in lands: a beat officer's 巡回予定 (work list), anyone else's home."""
    return re.compile(rf"^{re.escape(live_server_url)}/(worklist/)?$")


@skipIf(shutil.which(CHROMIUM) is None and not settings.PRODUCTION, "chromium is not installed")
# Once, on PostgreSQL (DESIGN.md, "Testing what this machine lacks"): the pages are the same
# on both backends, and SQLite's shared in-memory test database serialises the live server's
# threads badly (the navigation's count fetched beside a page locked tables).
@skipUnless(connection.vendor == "postgresql", "the browser tests run once, on PostgreSQL")
class BrowserTestCase(StaticLiveServerTestCase):
    available_apps = FLUSHABLE_APPS
    browser: Browser
    _playwright: Any

    @classmethod
    def setUpClass(cls) -> None:
        allow_sync_db_in_browser_tests()
        super().setUpClass()
        cls._playwright = sync_playwright().start()
        cls.browser = cls._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.close()
        cls._playwright.stop()
        super().tearDownClass()

    def setUp(self) -> None:
        build_demo()
        self.page: Page = self.browser.new_page(
            viewport={"width": 1024, "height": 768}, locale="ja-JP"
        )

    def tearDown(self) -> None:
        self.page.close()

    def open_menu(self, page: Page | None = None) -> None:
        """The menu behind the compact header's (or the bottom bar's) メニュー."""
        page = page or self.page
        page.locator("[data-menu-toggle]:visible").first.click()
        page.wait_for_selector("#site-nav a", state="visible")

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.page.goto(f"{self.live_server_url}/login/")
        self.page.get_by_label("ログインID").fill(username)
        self.page.get_by_label("パスワード").fill(password)
        self.page.get_by_role("button", name="サインイン").click()


class SignInBrowserTests(BrowserTestCase):
    def test_sign_in_home_and_sign_out(self) -> None:
        page = self.page
        page.goto(f"{self.live_server_url}/")
        self.assertIn("/login/", page.url)
        page.screenshot(path=str(SCREENSHOTS / "sign-in.png"), full_page=True)
        self.sign_in("officer1a", "wrong-password")
        self.assertIn("ログインIDまたはパスワードが正しくありません", page.content())
        self.sign_in("officer1a")
        # A beat officer lands on his work list (巡回予定); home is in the menu.
        page.wait_for_url(f"{self.live_server_url}/worklist/")
        self.open_menu()
        page.get_by_role("link", name="ホーム").click()
        page.wait_for_url(f"{self.live_server_url}/")
        self.assertIn("佐野 翔太 さん", page.content())
        self.assertIn("駅前一区", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "home-officer.png"), full_page=True)
        self.open_menu()
        page.get_by_role("button", name="サインアウト").click()
        page.wait_for_url(f"{self.live_server_url}/login/")
        self.assertIn("サインアウトしました", page.content())

    def test_manager_transfers_an_officer(self) -> None:
        page = self.page
        self.sign_in("kacho")
        page.wait_for_url(f"{self.live_server_url}/")
        self.open_menu()
        page.get_by_role("link", name="組織・配置").click()
        page.get_by_role("link", name="配置・異動を登録").click()
        page.get_by_label("職員番号").fill("D00010")  # officer2a
        page.get_by_label("役割").select_option("BEAT_OFFICER")
        page.get_by_label("交番等").select_option(label="港町交番")
        page.get_by_label("港町一区").check()
        page.screenshot(path=str(SCREENSHOTS / "assignment-form.png"), full_page=True)
        page.get_by_role("button", name="登録する").click()
        self.assertIn("港町交番に配置しました", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "org-station.png"), full_page=True)
