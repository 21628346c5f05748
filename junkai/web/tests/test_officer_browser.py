"""The officer in the field in a browser, on a phone (390×844) and an iPad (810×1080, 1080×810):
taps from sign-in to a recorded visit, 記録 from every place a household appears, the compact
header with its menu and the bottom bar, and no page that scrolls sideways."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import Locator, Page

from junkai.demo.households import build_demo_households
from junkai.demo.organisation import DEMO_PASSWORD, DEMO_STATION_CODE
from junkai.demo.outlines import build_demo_outlines
from junkai.households.models import Household, HouseholdStatus
from junkai.org.models import Beat, Officer, Station
from junkai.planning.actions import do_plan_route
from junkai.planning.models import KeptRoute
from junkai.planning.routing_plan import clean_input
from junkai.planning.tests.test_map_browser import open_household_popup
from junkai.visits.models import Visit
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase

MORNING = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
SIZES = {"phone": (390, 844), "ipad-portrait": (810, 1080), "ipad-landscape": (1080, 810)}


class OfficerBrowserTestCase(BrowserTestCase):
    def setUp(self) -> None:
        # A weekday morning on the server (no night approval involved); the browser keeps its own.
        clock = time_machine.travel(MORNING, tick=True)
        clock.start()
        self.addCleanup(clock.stop)
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=400, seed=3)
        build_demo_outlines(station)
        self.beat = Beat.objects.get(post__station=station, code="K1-1")
        self.taps = 0

    def at(self, size: str) -> Page:
        width, height = SIZES[size]
        self.page.close()
        self.page = self.browser.new_page(
            viewport={"width": width, "height": height}, locale="ja-JP"
        )
        return self.page

    def sign_in_as(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.live_server_url}/login/")
        page.get_by_label("ログインID").fill(username)
        page.get_by_label("パスワード").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_load_state()
        self.taps = 0  # counted from the first page after sign-in (DESIGN.md ruling)

    def tap(self, target: Locator) -> None:
        self.taps += 1
        target.click()
        self.page.wait_for_load_state()

    def assert_no_sideways_scroll(self, what: str) -> None:
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        self.assertLessEqual(overflow, 0, f"{what} scrolls sideways by {overflow}px")

    def shot(self, name: str, *, full: bool = False) -> None:
        self.page.screenshot(path=str(SCREENSHOTS / f"officer-{name}.png"), full_page=full)

    def record_here(self, name: str) -> None:
        """On the visit form: 記録する (面接 is chosen), then back where 記録 was pressed."""
        page = self.page
        self.assert_no_sideways_scroll(f"visit form from {name}")
        self.shot(f"{name}-visit-form")
        before = Visit.objects.count()
        self.tap(page.get_by_role("button", name="記録する").first)
        self.assertIn("巡回連絡を記録しました", page.inner_text("main"))
        self.assertEqual(Visit.objects.count(), before + 1)
        self.assert_no_sideways_scroll(f"{name} after the record")


class TapsFromSignInTests(OfficerBrowserTestCase):
    def test_first_household_of_the_list_recorded_in_at_most_four_taps(self) -> None:
        for size, (_width, height) in SIZES.items():
            with self.subTest(size=size):
                page = self.at(size)
                self.sign_in_as("officer1a")
                # Sign-in lands on 巡回予定 (the work list), grouped by 町名・組 with counts.
                self.assertEqual(page.url, f"{self.live_server_url}/worklist/")
                self.assertRegex(page.inner_text("main"), r"\d+世帯・\d+組")
                self.assert_no_sideways_scroll("the work list")
                self.shot(f"worklist-{size}")
                # The header stays small: at most 8 % of the height (47–58 % on a phone before).
                header = page.locator("header.top").bounding_box()
                assert header is not None
                self.assertLessEqual(header["height"] / height, 0.08, size)
                first = page.locator(".card.work").first
                address = first.locator(".addr").inner_text()
                self.tap(first.get_by_role("link", name="記録"))
                # 記録する above the fold, clear of the bottom bar.
                button = page.get_by_role("button", name="記録する").first.bounding_box()
                bar = page.locator(".bottom-bar").bounding_box()
                assert button is not None and bar is not None
                self.assertLessEqual(button["y"] + button["height"], bar["y"], size)
                self.assert_no_sideways_scroll("the visit form")
                self.shot(f"visit-form-{size}")
                self.tap(page.get_by_role("button", name="記録する").first)
                self.assertIn(f"{address} の巡回連絡を記録しました", page.inner_text("main"))
                self.assertRegex(page.url, r"/worklist/\?next_household=\d+#h-\d+$")
                self.assertLessEqual(self.taps, 4)
                self.assertEqual(self.taps, 2)
                # Back at the same place: the next household marked, in view.
                marked = page.locator(".card.work.is-next")
                self.assertIn("次の世帯", marked.inner_text())
                self.assertTrue(marked.is_visible())
                self.shot(f"worklist-next-{size}")
                page.context.clear_cookies()


class RecordFromEveryPlaceBrowserTests(OfficerBrowserTestCase):
    def test_record_from_each_place_a_household_appears(self) -> None:
        page = self.at("phone")
        live = self.live_server_url
        self.sign_in_as("officer1a")
        active = Household.objects.filter(beat=self.beat, status=HouseholdStatus.ACTIVE)

        # The household page: 直近の巡回 and 記録.
        household = active.filter(building__isnull=True).order_by("id").first()
        assert household is not None
        page.goto(f"{live}/households/{household.id}/")
        self.assertIn("直近の巡回", page.inner_text("main"))
        self.assertIn("次回予定日", page.inner_text("main"))
        self.shot("household")
        self.tap(page.locator(".recent-visits").get_by_role("link", name="記録"))
        self.record_here("household")
        self.assertEqual(page.url, f"{live}/households/{household.id}/")
        self.assertIn("面接", page.inner_text(".recent-visits"))
        self.assertIn("佐野 翔太", page.inner_text(".recent-visits"))

        # Search (the bottom bar's 検索), by the household's address.
        self.tap(page.locator(".bottom-bar").get_by_role("link", name="検索"))
        page.get_by_label("氏名（漢字・かな）、住所、電話番号").fill(household.address)
        self.tap(page.get_by_role("button", name="検索"))
        self.assert_no_sideways_scroll("search results")
        self.shot("search")
        self.tap(page.locator("td.record-cell").get_by_role("link", name="記録").first)
        self.record_here("search")
        # Back at the same results (the query kept in the session, not in the URL).
        self.assertRegex(page.url, rf"^{live}/search/\?results=1(&next_household=\d+#h-\d+)?$")
        self.assertIn("検索結果", page.inner_text("main"))
        self.assertGreater(page.locator("td.record-cell a").count(), 0)
        self.shot("search-after-record")

        # The beat list, filtered by a town: back to the same filter, the next one marked.
        town = household.town
        page.goto(f"{live}/beats/{self.beat.id}/households/?town={town}")
        self.assert_no_sideways_scroll("the beat list")
        self.shot("beat-list")
        if not page.locator("details.list-group").first.evaluate("d => d.open"):
            page.locator("details.list-group summary").first.click()  # a long list is folded
        self.tap(page.locator("tr[id^=h-] td.record-cell").get_by_role("link", name="記録").first)
        self.record_here("beat-list")
        self.assertRegex(
            page.url, rf"/beats/{self.beat.id}/households/\?town=.+next_household=\d+#h-\d+$"
        )
        self.assertTrue(page.locator("tr.is-next").is_visible())
        self.shot("beat-list-next")

        # The map (the bottom bar's 地図): a dot's popup has 記録.
        self.tap(page.locator(".bottom-bar").get_by_role("link", name="地図"))
        page.wait_for_selector("#beat-map[data-ready]")
        page.locator("#beat-map").scroll_into_view_if_needed()
        popup = open_household_popup(page)
        self.shot("map-popup")
        if popup.get_by_role("link", name="記録").count():
            self.tap(popup.get_by_role("link", name="記録"))
            self.record_here("map")
            self.assertEqual(page.url, f"{live}/beats/{self.beat.id}/map/")

        # A route of three doors from the work list, kept as 今日の経路; its stops record.
        page.goto(f"{live}/routes/")
        # Eight doors over eight hours: some ask for other times or have no position.
        boxes = page.locator("input[name=household]")
        for i in range(min(8, boxes.count())):
            boxes.nth(i).check()
        page.fill("#id_start_time", "10:00")
        page.select_option("#id_hours", "8")
        self.tap(page.get_by_role("button", name="選んだ世帯で経路を作る").last)
        self.tap(page.locator(".actions").get_by_role("link", name="今日の経路を開く"))
        self.assertEqual(page.url, f"{live}/routes/today/")
        self.assert_no_sideways_scroll("今日の経路")
        kept = KeptRoute.objects.get()
        stops = kept.stops.count()
        self.shot("route-today")
        self.tap(page.locator("li.stop").first.get_by_role("link", name="記録"))
        self.record_here("route")
        self.assertRegex(page.url, r"/routes/today/(\?next_household=\d+#h-\d+)?$")
        self.assertEqual(page.locator("li.stop.done").count(), 1)
        self.assertIn(f"1 / {stops}戸", page.inner_text("main"))
        self.shot("route-today-done")


class HeaderMenuAndBottomBarTests(OfficerBrowserTestCase):
    def test_officer_bottom_bar_and_menu_at_each_size(self) -> None:
        for size in SIZES:
            with self.subTest(size=size):
                page = self.at(size)
                self.sign_in_as("officer1a")
                bar = page.locator(".bottom-bar")
                self.assertTrue(bar.is_visible())
                self.assertEqual(
                    [t.strip() for t in bar.locator("a, button").all_inner_texts()],
                    ["☰\n巡回予定", "⌕\n検索", "◎\n地図", "≡\nメニュー"],
                )
                for item in bar.locator("a, button").all():
                    box = item.bounding_box()
                    assert box is not None
                    self.assertGreaterEqual(box["height"], 44)
                self.assertFalse(page.locator("#site-nav").is_visible())
                bar.get_by_role("button", name="メニュー").click()
                menu = page.locator("#site-nav")
                self.assertTrue(menu.get_by_role("link", name="今日の経路").is_visible())
                self.assert_no_sideways_scroll("the open menu")
                self.shot(f"menu-{size}")
                page.keyboard.press("Escape")
                self.assertFalse(page.locator("#site-nav").is_visible())
                page.context.clear_cookies()

    def test_manager_keeps_home_with_the_compact_header(self) -> None:
        for size, (_width, height) in SIZES.items():
            with self.subTest(size=size):
                page = self.at(size)
                self.sign_in_as("kacho")
                self.assertEqual(page.url, f"{self.live_server_url}/")
                self.assertEqual(page.locator(".bottom-bar").count(), 0)
                header = page.locator("header.top").bounding_box()
                assert header is not None
                self.assertLessEqual(header["height"] / height, 0.08, size)
                self.assert_no_sideways_scroll("the manager's home")
                self.shot(f"manager-home-{size}")
                page.get_by_role("button", name="メニュー").click()
                self.assertTrue(page.get_by_role("link", name="組織・配置").is_visible())
                self.shot(f"manager-menu-{size}")
                page.get_by_role("button", name="閉じる").click()
                self.assertFalse(page.locator("#site-nav").is_visible())
                page.context.clear_cookies()

    def test_every_officer_page_fits_each_size(self) -> None:
        household = Household.objects.filter(beat=self.beat, status=HouseholdStatus.ACTIVE).first()
        assert household is not None
        # 今日の経路 with its stops (a route of eight located doors).
        located = Household.objects.filter(
            beat=self.beat, status=HouseholdStatus.ACTIVE, latitude__isnull=False
        ).values_list("id", flat=True)[:8]
        do_plan_route(
            Officer.objects.get(username="officer1a"),
            clean_input(
                household_ids=list(located), start=None, start_time="10:00", hours=8, mode="walk"
            ),
        )
        pages = [
            "/worklist/",
            f"/households/{household.id}/",
            f"/households/{household.id}/visit/",
            f"/beats/{self.beat.id}/households/",
            f"/beats/{self.beat.id}/map/",
            "/search/",
            "/routes/today/",
            "/",
        ]
        for size in SIZES:
            page = self.at(size)
            self.sign_in_as("officer1a")
            for path in pages:
                with self.subTest(size=size, path=path):
                    page.goto(f"{self.live_server_url}{path}")
                    if "/map/" in path:
                        page.wait_for_selector("#beat-map[data-ready]")
                    self.assert_no_sideways_scroll(f"{path} at {size}")
                    name = re.sub(r"\W+", "-", path).strip("-") or "home"
                    self.shot(f"fit-{name}-{size}")
            page.context.clear_cookies()
