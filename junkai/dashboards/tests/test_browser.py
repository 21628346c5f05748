"""The dashboards in Debian's chromium: the charts draw, with no script error."""

from __future__ import annotations

from junkai.dashboards.actions import do_take_month_snapshot
from junkai.demo.households import build_demo_households
from junkai.demo.organisation import DEMO_STATION_CODE
from junkai.demo.visits import build_demo_visits
from junkai.lib.months import current_month, previous_month
from junkai.org.models import Station
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing


class DashboardBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=800)
        build_demo_visits(station)
        do_take_month_snapshot(previous_month(current_month()))
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Script errors, and any asset that fails (the browser's own favicon request aside).
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        self.page.on(
            "response",
            lambda r: (
                self.errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )

    def charts_drawn(self, ids: list[str]) -> None:
        page = self.page
        page.wait_for_selector("html[data-charts=drawn]", timeout=10_000)
        for chart in ids:
            box = page.locator(f"canvas#{chart}").bounding_box()
            self.assertIsNotNone(box, chart)
            assert box is not None
            self.assertGreater(box["height"], 100, chart)
            # Chart.js marks the canvases it drew on.
            self.assertTrue(
                page.evaluate(f"!!Chart.getChart(document.getElementById('{chart}'))"), chart
            )

    def test_chief_follows_the_station_down_to_a_beat(self) -> None:
        page = self.page
        self.sign_in("chief")
        page.wait_for_url(landing(self.live_server_url))
        self.open_menu()
        page.locator("#site-nav").get_by_role("link", name="進捗状況").click()
        page.wait_for_url("**/dashboard/stations/*/")
        self.charts_drawn(["chart-trend", "chart-categories", "chart-officers"])
        self.assertIn("実施率", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "dashboard-station.png"), full_page=True)
        self.phone_and_ipad(page.url)
        page.get_by_role("link", name="駅前交番").first.click()
        page.wait_for_url("**/dashboard/posts/*/")
        page.get_by_role("link", name="駅前一区").first.click()
        page.wait_for_url("**/dashboard/beats/*/")
        self.charts_drawn(["chart-trend", "chart-categories"])
        page.screenshot(path=str(SCREENSHOTS / "dashboard-beat.png"), full_page=True)
        page.get_by_role("link", name="作業リスト").last.click()
        page.wait_for_url("**/worklist/?beat=*")
        self.assertEqual(self.errors, [])

    def phone_and_ipad(self, url: str) -> None:
        """On a phone the summaries come first and the long tables open folded, each saying
        how many rows it holds; opened, a row is two columns of figures; nothing scrolls
        sideways. On an iPad either way up the tables are open."""
        page = self.page
        folds = page.locator("details[data-fold-narrow]")
        for width, height in ((390, 844), (810, 1080), (1080, 810)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(url)
            self.charts_drawn(["chart-trend", "chart-categories"])
            self.assertEqual(folds.count(), 3)
            opened = folds.evaluate_all("ds => ds.map(d => d.open)")
            self.assertEqual(opened, [width > 700] * 3, width)
            self.assertLessEqual(page.evaluate("document.scrollingElement.scrollWidth"), width)
            if width == 390:
                self.assertRegex(
                    folds.nth(1).locator("summary").inner_text(), r"受持区別\s+\d+受持区"
                )
                # Folded, the whole page is a few screens, not dozens.
                self.assertLess(page.evaluate("document.scrollingElement.scrollHeight"), 5 * height)
                page.screenshot(
                    path=str(SCREENSHOTS / "dashboard-station-390x844.png"), full_page=True
                )
                folds.nth(1).locator("summary").click()
                row = folds.nth(1).locator("tbody tr").first
                self.assertEqual(row.evaluate("r => getComputedStyle(r).display"), "grid")
                box = row.bounding_box()
                assert box is not None
                self.assertLess(box["height"], 360)
                self.assertLessEqual(page.evaluate("document.scrollingElement.scrollWidth"), width)
                # The officers' chart draws once its section is opened.
                folds.nth(2).locator("summary").click()
                page.wait_for_timeout(300)
                self.charts_drawn(["chart-officers"])
                page.screenshot(
                    path=str(SCREENSHOTS / "dashboard-station-390x844-open.png"), full_page=True
                )
            else:
                page.screenshot(
                    path=str(SCREENSHOTS / f"dashboard-station-{width}x{height}.png"),
                    full_page=True,
                )
        page.set_viewport_size({"width": 1024, "height": 768})
        page.goto(url)

    def test_hq_sees_the_stations_side_by_side(self) -> None:
        page = self.page
        self.sign_in("hq")
        page.wait_for_url(landing(self.live_server_url))
        self.open_menu()
        page.locator("#site-nav").get_by_role("link", name="進捗状況").click()
        page.wait_for_url("**/dashboard/hq/")
        self.charts_drawn(["chart-stations", "chart-trend"])
        self.assertIn("みなと中央警察署", page.inner_text("main"))
        self.assertNotIn("駅前交番", page.inner_text("main"))
        page.screenshot(path=str(SCREENSHOTS / "dashboard-hq.png"), full_page=True)
        self.assertEqual(self.errors, [])
