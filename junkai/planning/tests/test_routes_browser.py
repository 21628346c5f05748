"""The route page on a tablet: from the work list, pick doors, see them ordered on the map
(drawn with no map tiles and no request leaving the server)."""

from __future__ import annotations

from django.test import override_settings

from junkai.households.models import Household
from junkai.org.models import Beat, Officer
from junkai.planning.routing_testing import door
from junkai.planning.tests.test_map_browser import SMALL_CONTROLS
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing


@override_settings(JUNKAI_MAP_TILES="")
class RouteBrowserTests(BrowserTestCase):
    def test_pick_households_and_see_the_route_on_the_map(self) -> None:
        beat = Beat.objects.get(post__station__code="DEMO01", code="K1-1")
        officer = Officer.objects.get(username="officer1a")
        doors: list[Household] = [
            door(beat, 1, 300, 0),
            door(beat, 2, -250, 150),
            door(beat, 3, 0, -400),
            door(beat, 4, 450, 420, card={"preferred_times": "午後"}, officer=officer),
            door(beat, 5, -380, -320),
        ]
        page = self.page
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(self.live_server_url) else None,
        )
        self.sign_in("officer1a")
        page.wait_for_url(landing(self.live_server_url))
        page.goto(f"{self.live_server_url}/worklist/")
        page.get_by_role("link", name="巡回経路を作る").click()
        page.wait_for_url(f"{self.live_server_url}/routes/")
        for household in doors[:4]:
            page.check(f"#hh{household.id}")
        page.fill("#id_start_time", "10:00")
        page.select_option("#id_hours", "3")
        page.screenshot(path=str(SCREENSHOTS / "route-form.png"), full_page=True)
        page.get_by_role("button", name="選んだ世帯で経路を作る").last.click()
        page.wait_for_selector(".route-stop")
        self.assertIn("巡回経路", page.inner_text("h1"))
        # Four numbered markers and the start on the map, the line drawn over them.
        self.assertEqual(page.locator(".leaflet-marker-icon.route-stop").count(), 4)
        self.assertEqual(page.locator(".leaflet-marker-icon.route-depot").count(), 1)
        self.assertEqual(page.locator("path.leaflet-interactive").count(), 1)
        rows = page.locator(".route-table tbody tr").all_inner_texts()
        self.assertEqual(len(rows), 6)  # 発, four stops, 着
        self.assertIn("4戸", page.inner_text(".route-stats"))
        # Zoom buttons are 44 px targets, the stops 32 px.
        self.assertEqual(page.evaluate(SMALL_CONTROLS), [])
        for box in page.locator(".leaflet-marker-icon.route-stop").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect()).map(r => [r.width, r.height])"
        ):
            self.assertGreaterEqual(min(box), 32)
        page.screenshot(path=str(SCREENSHOTS / "route.png"), full_page=True)
        # The sheet opens in a new tab as a PDF.
        with page.context.expect_page() as sheet_tab:
            page.get_by_role("button", name="巡回経路表を印刷（PDF）").click()
        sheet = sheet_tab.value
        sheet.wait_for_load_state()
        self.assertIn("/routes/sheet.pdf", sheet.url)
        sheet.close()
        self.assertEqual(outside, [])

    def test_an_address_with_markup_shows_as_text_in_the_map_tooltip(self) -> None:
        """Leaflet puts a tooltip string into the page as HTML: the address must be escaped."""
        beat = Beat.objects.get(post__station__code="DEMO01", code="K1-1")
        hostile = door(beat, 7, 120, 80)
        Household.objects.filter(pk=hostile.pk).update(
            town='<img src=x onerror="window.__xss=1">町'
        )
        page = self.page
        self.sign_in("officer1a")
        page.wait_for_url(landing(self.live_server_url))
        page.goto(f"{self.live_server_url}/routes/")
        page.check(f"#hh{hostile.id}")
        page.fill("#id_start_time", "10:00")
        page.get_by_role("button", name="選んだ世帯で経路を作る").last.click()
        page.wait_for_selector(".route-stop")
        # The start may sit on the stop: open the tooltip as a pointer over the marker would.
        page.locator(".leaflet-marker-icon.route-stop").dispatch_event("mouseover")
        page.wait_for_selector(".leaflet-tooltip")
        self.assertIn("<img", page.inner_text(".leaflet-tooltip"))
        self.assertEqual(page.locator(".leaflet-tooltip img").count(), 0)
        self.assertIsNone(page.evaluate("window.__xss"))
