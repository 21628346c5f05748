"""The beat map in a browser: with no tiles, with a tile server that cannot be reached, and
drawing an outline. The markers are counted in the SVG Leaflet draws."""

from __future__ import annotations

import re
import socket

from django.test import override_settings
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from junkai.demo.households import build_demo_households
from junkai.demo.organisation import DEMO_STATION_CODE
from junkai.demo.outlines import build_demo_outlines
from junkai.households.models import Household, HouseholdStatus
from junkai.org.models import Beat, Station
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


#: The index of a household pin that nothing covers (a tap lands on it), or -1.
TOPMOST_PIN = """() => {
  const pins = Array.from(document.querySelectorAll('.leaflet-marker-icon.hh-pin'));
  for (let i = pins.length - 1; i >= 0; i--) {
    const r = pins[i].getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (hit && (hit === pins[i] || pins[i].contains(hit))) return i;
  }
  return -1;
}"""

#: True once no zoom or cluster animation is running (a pin measured mid-flight moves away).
MAP_IDLE = "() => !document.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim')"


def open_household_popup(page: Page) -> Locator:
    """Tap clusters until a single door shows, then tap it until its popup opens.

    Clusters zoom with an animation and the pins move while it runs, so each step waits for the
    map to settle and a tap that opened nothing is tried again on the pin then on top."""
    popup = page.locator(".leaflet-popup .hh-popup")
    for _ in range(10):
        page.wait_for_function(MAP_IDLE)
        page.wait_for_timeout(300)
        index = page.evaluate(TOPMOST_PIN)
        if index < 0:
            page.locator(".marker-cluster").first.click()
            continue
        page.locator(".leaflet-marker-icon.hh-pin").nth(index).click()
        try:
            popup.wait_for(timeout=3000)
        except PlaywrightTimeoutError:
            continue
        return popup
    raise AssertionError("no household pin opened its popup")


#: The map's controls (zoom buttons, 現在地, a popup's close button) smaller than 44 px.
SMALL_CONTROLS = """() => Array.from(document.querySelectorAll(
    '.leaflet-control a, .leaflet-control button, .leaflet-control-zoom a, a.leaflet-popup-close-button'))
  .filter(e => !e.closest('.leaflet-control-attribution'))
  .map(e => [e.className || e.textContent, e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([name, r]) => name + ' ' + Math.round(r.width) + '×' + Math.round(r.height))"""


#: Markers on the map, counted through the clusters: a cluster's number is how many markers
#: (doors and buildings) it holds.
MARKERS = """() => {
  const count = (sel) => document.querySelectorAll(sel).length;
  let clustered = 0;
  for (const c of document.querySelectorAll('.marker-cluster span')) clustered += Number(c.textContent);
  return {doors: count('.leaflet-marker-icon.hh-pin'), buildings: count('.leaflet-marker-icon.bldg-marker'),
          clustered: clustered, clusters: count('.marker-cluster')};
}"""


class BeatMapBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=400, seed=3)
        build_demo_outlines(station)
        self.beat = Beat.objects.get(post__station=station, code="K1-1")
        on_map = Household.objects.filter(
            beat=self.beat,
            status__in=[HouseholdStatus.ACTIVE, HouseholdStatus.VACANT],
            latitude__isnull=False,
        )
        self.doors = on_map.filter(building__isnull=True).count()
        self.unknown_doors = on_map.filter(building__isnull=True, category="UNKNOWN").count()
        self.buildings = on_map.exclude(building=None).values("building").distinct().count()
        self.ids = set(on_map.values_list("id", flat=True))
        self.assertGreater(self.doors, 5)
        self.assertGreater(self.unknown_doors, 0)

    def open_map(self, username: str = "officer1a") -> None:
        self.sign_in(username)
        self.page.wait_for_url(landing(self.live_server_url))
        self.page.goto(f"{self.live_server_url}/beats/{self.beat.id}/households/")
        self.page.locator("main").get_by_role("link", name="地図", exact=True).click()
        self.page.wait_for_selector("#beat-map[data-ready]")

    def markers_shown(self) -> int:
        shown: dict[str, int] = self.page.evaluate(MARKERS)
        return shown["doors"] + shown["buildings"] + shown["clustered"]

    def assert_markers(self) -> None:
        page = self.page
        self.assertEqual(self.markers_shown(), self.doors + self.buildings)
        self.assertGreater(page.evaluate(MARKERS)["clusters"], 0)
        self.assertEqual(page.locator("path.beat-outline").count(), 1)
        self.assertEqual(page.locator(".leaflet-marker-icon.post-marker").count(), 1)

    @override_settings(JUNKAI_MAP_TILES="")
    def test_no_tiles_outline_and_points_filters_and_tap_opens_the_household(self) -> None:
        page = self.page
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(self.live_server_url) else None,
        )
        self.open_map()
        self.assert_markers()
        self.assertEqual(page.locator(".leaflet-tile").count(), 0)
        total = len(self.ids)
        self.assertIn(f"表示中 {total} / {total} 世帯", page.inner_text("#map-count"))
        page.screenshot(path=str(SCREENSHOTS / "beat-map.png"), full_page=True)
        # Client-side filter: without 未把握世帯 their dots go.
        page.get_by_label("未把握世帯").uncheck()
        self.assertEqual(self.markers_shown(), self.doors + self.buildings - self.unknown_doors)
        page.get_by_label("未把握世帯").check()
        self.assertEqual(self.markers_shown(), self.doors + self.buildings)
        # Every marker and cluster is a target of at least 32 px.
        for box in page.locator(".hh-pin, .bldg-marker, .marker-cluster").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect()).map(r => [r.width, r.height])"
        ):
            self.assertGreaterEqual(min(box), 32)
        # A tap on a cluster zooms in until single doors show.
        for _ in range(6):
            if page.locator(".leaflet-marker-icon.hh-pin").count():
                break
            page.locator(".marker-cluster").first.click()
            page.wait_for_timeout(700)
        page.screenshot(path=str(SCREENSHOTS / "beat-map-zoomed.png"))
        # A building's popup lists its rooms as links.
        if page.locator(".leaflet-marker-icon.bldg-marker").count():
            page.locator(".leaflet-marker-icon.bldg-marker").first.click()
            self.assertGreater(page.locator(".leaflet-popup ul.bldg-rooms a").count(), 0)
            page.keyboard.press("Escape")
        # Tapping a pin opens its popup: the household's (audited) page and 記録.
        popup = open_household_popup(page)
        self.assertEqual(popup.get_by_role("link", name="記録").count(), 1)
        self.assertEqual(page.locator("a.leaflet-popup-close-button").count(), 1)
        self.assertEqual(page.evaluate(SMALL_CONTROLS), [])
        popup.locator("a").first.click()
        page.wait_for_url(re.compile(r".*/households/\d+/$"))
        household_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        self.assertIn(household_id, self.ids)
        self.assertEqual(outside, [])

    def test_unreachable_tile_server_still_shows_outline_and_points(self) -> None:
        url = f"http://127.0.0.1:{unused_port()}/tiles/{{z}}/{{x}}/{{y}}.png"
        with override_settings(JUNKAI_MAP_TILES=url):
            self.open_map()
            page = self.page
            notice = page.locator("#map-notice")
            notice.wait_for(state="visible")
            self.assertIn("タイル）を読み込めません", notice.inner_text())
            self.assert_markers()
            self.assertIn("国土地理院", page.inner_text(".leaflet-control-attribution"))
            page.screenshot(path=str(SCREENSHOTS / "beat-map-tiles-down.png"), full_page=True)

    @override_settings(JUNKAI_MAP_TILES="")
    def test_the_manager_draws_an_outline(self) -> None:
        page = self.page
        self.sign_in("kacho")
        page.wait_for_url(landing(self.live_server_url))
        page.goto(f"{self.live_server_url}/beats/{self.beat.id}/map/")
        page.get_by_role("link", name="区域を設定").click()
        page.wait_for_selector("#beat-map[data-ready]")
        page.get_by_role("button", name="描き直す").click()
        page.locator("#beat-map").scroll_into_view_if_needed()
        box = page.locator("#beat-map").bounding_box()
        assert box is not None
        for fx, fy in ((0.2, 0.2), (0.8, 0.2), (0.85, 0.8), (0.15, 0.85)):
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        self.assertIn("頂点 4 個", page.inner_text("#draw-status"))
        # The handles to drag are 44 px targets, as are the zoom buttons.
        self.assertEqual(page.evaluate(SMALL_CONTROLS), [])
        for box in page.locator(".leaflet-marker-icon.vertex-handle").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect()).map(r => [r.width, r.height])"
        ):
            self.assertGreaterEqual(min(box), 44)
        self.assertIn('"Polygon"', page.input_value("#id_geojson"))
        page.screenshot(path=str(SCREENSHOTS / "beat-outline.png"), full_page=True)
        page.get_by_role("button", name="区域を保存").click()
        page.wait_for_url(f"{self.live_server_url}/beats/{self.beat.id}/map/")
        self.assertIn("区域を保存しました", page.inner_text("main"))
        self.beat.refresh_from_db()
        assert self.beat.outline is not None
        self.assertEqual(len(self.beat.outline["coordinates"][0]), 5)

    @override_settings(JUNKAI_MAP_TILES="")
    def test_current_position_granted_and_refused(self) -> None:
        self.page.close()
        # Each size once, the permission granted at two and refused at one (each context
        # loads the map afresh: six were a minute of the suite).
        for width, height, granted in ((390, 844, True), (810, 1080, False), (1080, 810, True)):
            context = self.browser.new_context(
                viewport={"width": width, "height": height},
                locale="ja-JP",
                geolocation={"latitude": 33.2382, "longitude": 131.6126},
                permissions=["geolocation"] if granted else [],
            )
            self.page = context.new_page()
            self.open_map()
            page = self.page
            self.assertLessEqual(page.evaluate("document.scrollingElement.scrollWidth"), width)
            button = page.get_by_role("button", name="現在地を表示")
            # Every control of the map is a 44 px target: zoom in, zoom out, 現在地.
            self.assertEqual(page.evaluate(SMALL_CONTROLS), [])
            self.assertEqual(page.locator(".leaflet-control-zoom a").count(), 2)
            button.click()
            if granted:
                page.locator("path.here-marker").wait_for()
                name = "here"
            else:
                notice = page.locator("#map-notice")
                notice.wait_for(state="visible")
                self.assertIn("現在地の利用が許可されていません", notice.inner_text())
                name = "refused"
            page.screenshot(path=str(SCREENSHOTS / f"beat-map-{name}-{width}x{height}.png"))
            context.close()
        self.page = self.browser.new_page()

    @override_settings(JUNKAI_MAP_TILES="")
    def test_filters_fold_on_a_phone_so_the_map_is_on_the_first_screen(self) -> None:
        """At 390×844 and 810×1080 the filters are one line (how many apply, how many
        households show) that opens them; beside the map (1080×810) they are open."""
        page = self.page
        total = len(self.ids)
        checkbox = page.get_by_label("未把握世帯")
        summary = page.locator("#map-filter-panel > summary")
        first = True
        for width, height in ((390, 844), (810, 1080), (1080, 810)):
            page.set_viewport_size({"width": width, "height": height})
            if first:
                self.open_map()
                first = False
            else:
                page.goto(page.url)  # afresh: a reload would keep the boxes as they were
                page.wait_for_selector("#beat-map[data-ready]")
            # How much of the map shows on the first screen, above the bottom bar.
            shown = page.evaluate(
                """() => {
                  const r = document.getElementById('beat-map').getBoundingClientRect();
                  const bar = document.querySelector('nav.bottom-bar');
                  const floor = bar ? bar.getBoundingClientRect().top : innerHeight;
                  return Math.min(r.bottom, floor) - r.top;
                }"""
            )
            self.assertGreaterEqual(shown, 0.4 * height, f"{width}×{height}: {shown} px of map")
            self.assertEqual(page.inner_text("#map-filter-active"), "すべて表示")
            self.assertIn(f"表示中 {total} / {total} 世帯", summary.inner_text())
            self.assertGreaterEqual(summary.bounding_box()["height"], 44)  # type: ignore[index]
            if width < 1000:
                self.assertFalse(checkbox.is_visible())
                page.screenshot(path=str(SCREENSHOTS / f"beat-map-folded-{width}x{height}.png"))
                summary.click()
            self.assertTrue(checkbox.is_visible())
            checkbox.uncheck()
            self.assertEqual(page.inner_text("#map-filter-active"), "1件適用中")
            self.assertNotIn(f"表示中 {total} /", summary.inner_text())
            page.locator("#map-town").select_option(index=1)
            self.assertEqual(page.inner_text("#map-filter-active"), "2件適用中")
            self.assertLessEqual(page.evaluate("document.scrollingElement.scrollWidth"), width)
            page.screenshot(path=str(SCREENSHOTS / f"beat-map-filtered-{width}x{height}.png"))
