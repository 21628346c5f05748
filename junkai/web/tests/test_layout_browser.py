"""Issue 17 in a browser at a phone's and an iPad's sizes: no page scrolls sideways and no table
cell is squeezed to a character a line (every page of the demo, as each persona); the card form's
error summary, 和暦 and rows; the refusal explanation beside 拒否. Screenshots in
var/test/screenshots/."""

from __future__ import annotations

import datetime as dt
import re
import unittest
from urllib.parse import urljoin, urlsplit

import time_machine
from django.db import connection
from django.utils import timezone

from junkai.demo.disclosures import build_demo_disclosures
from junkai.demo.households import build_demo_households
from junkai.demo.organisation import DEMO_STATION_CODE
from junkai.demo.outlines import build_demo_outlines
from junkai.demo.registers import build_demo_registers
from junkai.demo.visits import build_demo_visits
from junkai.households.models import CardStatus, Household
from junkai.org.models import Station
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase, landing

SIZES = ((390, 844), (810, 1080), (1080, 810))

#: What a page gives away about its width: the document's scroll width, every box inside main
#: that scrolls sideways (a table clipped in its wrapper), and every table cell with text whose
#: inner width is under 1.8 characters (a name written one character a line).
MEASURE = """() => {
  const out = {scroll: document.scrollingElement.scrollWidth, width: innerWidth, boxes: [], cells: []};
  for (const e of document.querySelectorAll('main *')) {
    if (e.closest('.leaflet-container')) continue;
    const style = getComputedStyle(e);
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && e.scrollWidth > e.clientWidth + 1)
      out.boxes.push(e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth);
  }
  for (const c of document.querySelectorAll('main td, main th')) {
    const text = c.innerText.trim();
    const r = c.getBoundingClientRect();
    if (text.length < 2 || r.width === 0) continue;
    const s = getComputedStyle(c);
    const inner = r.width - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    if (inner < 1.8 * parseFloat(s.fontSize)) out.cells.push(Math.round(inner) + 'px ' + text.slice(0, 16));
  }
  return out;
}"""

#: Pages left out of the walk: files, the API, sign-out, and pages that change something on GET.
SKIP = re.compile(r"(\.pdf|\.xlsx|\.csv|/api/|/admin/|/logout/|export|print|/pdf)")


def pattern(path: str) -> str:
    """One page of each kind: /households/12/ and /households/13/ are the same page."""
    split = urlsplit(path)
    return re.sub(r"\d+", "N", split.path) + ("?" if split.query else "")


class LayoutBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=600, seed=5)
        build_demo_visits(station)
        build_demo_registers(station)
        build_demo_outlines(station)
        build_demo_disclosures(station)

    def crawl(
        self, username: str, seen: set[str], problems: list[str], limit: int = 70
    ) -> list[str]:
        """The pages reachable by links from the home page, one of each kind not seen yet, each
        measured at the three sizes where it was loaded: the viewport is resized rather than the
        page loaded again for each size (the layout is CSS media queries and resize handlers,
        and four loads of every page were most of the suite's time)."""
        page = self.page
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        self.sign_in(username)
        page.wait_for_url(re.compile(r".*/$"))
        queue, visited = ["/"], set()
        pages: list[str] = []
        while queue and len(pages) < limit:
            path = queue.pop(0)
            kind = pattern(path)
            if path in visited or (kind in seen and path != "/"):
                continue
            visited.add(path)
            seen.add(kind)
            page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
            response = page.goto(self.live_server_url + path)
            if response is None or response.status >= 400:
                continue
            if "text/html" not in (response.headers.get("content-type") or ""):
                continue
            pages.append(path)
            hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                m = page.evaluate(MEASURE)
                where = f"{username} {width}×{height} {path}"
                if m["scroll"] > m["width"]:
                    problems.append(f"{where}: the page is {m['scroll']} px wide")
                problems += [f"{where}: scrolls inside {b}" for b in m["boxes"]]
                problems += [f"{where}: squeezed cell {c}" for c in m["cells"][:3]]
            for href in hrefs:
                split = urlsplit(urljoin(page.url, href))
                if not self.live_server_url.endswith(split.netloc) or SKIP.search(split.path):
                    continue
                queue.append(split.path + (f"?{split.query}" if split.query else ""))
        return pages

    @unittest.skipUnless(connection.vendor == "postgresql", "the walk runs once, on PostgreSQL")
    def test_no_page_scrolls_sideways_and_no_cell_is_squeezed(self) -> None:
        seen: set[str] = set()
        problems: list[str] = []
        walked = 0
        for username in ("kacho", "officer1a", "kobancho1", "chief", "chuzai1", "hq", "staff"):
            walked += len(self.crawl(username, seen, problems))
            self.page.context.clear_cookies()
        self.assertGreater(walked, 60)
        self.assertEqual(problems, [])

    def test_stacked_tables_screenshots(self) -> None:
        """The ledgers, a dashboard and the beat list at each size (to look at)."""
        self.sign_in("kacho")
        self.page.wait_for_url(landing(self.live_server_url))
        beat = Household.objects.filter(station__code=DEMO_STATION_CODE).first()
        assert beat is not None
        for width, height in SIZES:
            self.page.set_viewport_size({"width": width, "height": height})
            for name, path in (
                ("home", "/"),
                ("todo", "/todo/"),
                ("inbox", "/inbox/"),
                ("data-uses", "/data-uses/"),
                ("dashboard", "/dashboard/"),
                ("beat-list", f"/beats/{beat.beat_id}/households/"),
            ):
                self.page.goto(self.live_server_url + path)
                self.page.screenshot(
                    path=str(SCREENSHOTS / f"layout-{name}-{width}x{height}.png"), full_page=True
                )
            # Stacked on a phone, each value keeps its column's name beside it.
            if width == 390:
                self.page.goto(self.live_server_url + "/data-uses/")
                label = self.page.locator("table.ledger td[data-label='承認']").first
                self.assertEqual(
                    label.evaluate("e => getComputedStyle(e, '::before').content"), '"承認"'
                )
                self.assertTrue(label.is_visible())


#: The point at the middle of an element's box, and what a tap there lands on (its link).
TAP = """(sel) => {
  const e = document.querySelector(sel);
  e.scrollIntoView({block: 'center'});
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const link = hit && hit.closest('a');
  return {height: r.height, width: r.width, href: link ? link.getAttribute('href') : null};
}"""


class PhoneTargetsBrowserTests(BrowserTestCase):
    """The pages officers use most, at 390×844: what they tap is 44 px or more."""

    def setUp(self) -> None:
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=120, seed=5)
        build_demo_visits(station)
        build_demo_registers(station)

    def test_links_officers_tap_most_are_44px_targets(self) -> None:
        page = self.page
        page.set_viewport_size({"width": 390, "height": 844})
        self.sign_in("officer1a")
        page.wait_for_url(landing(self.live_server_url))
        page.goto(f"{self.live_server_url}/worklist/")
        # A 巡回予定 card opens its household from anywhere beside 記録, not only its address.
        card = page.evaluate(TAP, ".worklist .work-main .muted")
        address = page.locator(".worklist .work .addr").first.get_attribute("href")
        self.assertEqual(card["href"], address)
        page.screenshot(path=str(SCREENSHOTS / "phone-worklist.png"))
        page.locator(".worklist .work .addr").first.click()
        page.wait_for_url(re.compile(r".*/households/\d+/$"))
        crumb = page.locator(".crumbs a").bounding_box()
        assert crumb is not None
        self.assertGreaterEqual(crumb["height"], 44)
        page.screenshot(path=str(SCREENSHOTS / "phone-household.png"))
        page.locator("main a.button.record, main a.button", has_text="記録").first.click()
        back = page.locator(".backlink a").bounding_box()
        assert back is not None
        self.assertGreaterEqual(min(back["height"], back["width"]), 44)
        page.screenshot(path=str(SCREENSHOTS / "phone-visit.png"))
        # A route's households: the checkbox's cell is a 44 px target.
        page.goto(f"{self.live_server_url}/routes/")
        tick = page.evaluate(TAP, "table.route-pick label.tap")
        self.assertGreaterEqual(min(tick["height"], tick["width"]), 44)
        tickbox = page.locator("table.route-pick input[type=checkbox]").first
        page.locator("table.route-pick label.tap").first.click(position={"x": 2, "y": 2})
        self.assertTrue(tickbox.is_checked())
        page.context.clear_cookies()

        self.sign_in("kacho")
        page.wait_for_url(landing(self.live_server_url))
        home = page.locator(".todo-summary li > a").first.bounding_box()
        assert home is not None
        self.assertGreaterEqual(home["height"], 44)
        page.goto(f"{self.live_server_url}/todo/")
        # A 要対応 row's link.
        row = page.evaluate(TAP, "table.todo-rows td[data-label='内容'] > a")
        self.assertGreaterEqual(row["height"], 44)
        page.screenshot(path=str(SCREENSHOTS / "phone-todo.png"))
        loss = page.locator("table.todo-rows a[href*='/registers/losses/']").first
        loss.click()
        page.wait_for_url(re.compile(r".*/registers/losses/\d+/$"))
        # The follow-up forms get the row's width: the note box is not squeezed beside a label.
        informed = page.locator("form.inline-form:has(select)").first
        note = informed.locator("input[name=note]")
        note.scroll_into_view_if_needed()
        box = note.bounding_box()
        assert box is not None
        self.assertGreaterEqual(box["width"], 100)
        select = informed.locator("select").bounding_box()
        assert select is not None
        self.assertAlmostEqual(select["y"], box["y"], delta=2)  # on one line
        self.assertLessEqual(page.evaluate("document.scrollingElement.scrollWidth"), 390)
        page.screenshot(path=str(SCREENSHOTS / "phone-loss-report.png"))


class CardFormBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=60, seed=7)
        household = (
            Household.objects.filter(
                beat__code="K1-1",
                cards__status=CardStatus.ACTIVE,
                cards__residents__birth_date__isnull=False,
            )
            .distinct()
            .first()
        )
        assert household is not None
        self.household: Household = household

    def test_error_summary_wareki_and_rows_at_each_size(self) -> None:
        page = self.page
        self.sign_in("officer1a")
        page.wait_for_url(landing(self.live_server_url))
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{self.live_server_url}/households/{self.household.id}/card/")
            # Dates in 和暦 as officers type them.
            births = page.locator("input[name$='-birth_date']").evaluate_all(
                "els => els.map(e => e.value).filter(v => v)"
            )
            self.assertTrue(births)
            for birth in births:
                self.assertRegex(birth, r"^[MTSHR]\d+\.\d+\.\d+$")
            self.assertRegex(page.input_value("#id_accepted_on"), r"^[HR]\d+\.\d+\.\d+$")
            rows = page.locator("[data-formset=residents] [data-formset-row]:visible").count()
            # One blank row, more on demand; a row removed is hidden and cleared.
            page.get_by_role("button", name="＋ 世帯員を追加").click()
            self.assertEqual(
                page.locator("[data-formset=residents] [data-formset-row]:visible").count(),
                rows + 1,
            )
            added = rows + 1  # the blank row plus the one added: indexes rows-1 and rows
            self.assertTrue(page.evaluate("document.activeElement.id").endswith(f"-{rows}-name"))
            page.locator(f"#id_residents-{rows}-name").fill("試験 次郎")
            page.locator(f"#id_residents-{rows}-birth_date").fill("H99.1.1")
            page.locator(f"#id_residents-{rows - 1}-name").fill("消す 行")
            blank = page.locator(
                "[data-formset-row]", has=page.locator(f"#id_residents-{rows - 1}-name")
            )
            blank.get_by_role("button", name="この世帯員を削除").click()
            self.assertEqual(
                page.locator("[data-formset=residents] [data-formset-row]:visible").count(),
                added - 1,
            )
            # Checkboxes and their labels are 44 px targets.
            box = page.locator("label:has(#id_needs_support)").bounding_box()
            assert box is not None
            self.assertGreaterEqual(box["height"], 44)
            page.locator("#id_residents-0-phone").fill("12345")
            page.get_by_role("button", name="補正を保存").click()
            summary = page.locator("[data-error-summary]")
            summary.wait_for()
            # The summary is at the top, has the focus, and links to each wrong field.
            self.assertEqual(page.evaluate("document.activeElement.dataset.errorSummary"), "")
            self.assertIn("H99.1.1", summary.inner_text())
            self.assertIn("電話", summary.inner_text())
            self.assertLessEqual(page.evaluate("document.scrollingElement.scrollWidth"), width)
            page.screenshot(path=str(SCREENSHOTS / f"card-form-errors-{width}x{height}.png"))
            summary.get_by_role("link", name=re.compile("生年月日")).click()
            self.assertEqual(
                page.evaluate("document.activeElement.id"), f"id_residents-{rows}-birth_date"
            )
            # Nothing was saved; the removed row stays out.
            self.assertNotIn("消す 行", page.content())
        self.assertFalse(self.household.cards.filter(residents__name="試験 次郎").exists())


class RefusalBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=60, seed=7)
        household = Household.objects.filter(beat__code="K1-1").first()
        assert household is not None
        self.household: Household = household

    def test_refusal_explanation_error_and_next_due_in_wareki(self) -> None:
        # Daytime in Tokyo: a visit needs no night approval.
        daytime = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(10)))
        with time_machine.travel(daytime, tick=True):
            page = self.page
            self.sign_in("officer1a")
            page.wait_for_url(landing(self.live_server_url))
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                page.goto(f"{self.live_server_url}/households/{self.household.id}/visit/")
                explanation = page.locator("#id_refusal_explanation")
                self.assertFalse(explanation.is_visible())
                page.locator(".segmented label", has_text="拒否").click()
                self.assertTrue(explanation.is_visible())
                # Not inside the collapsed section: visible without opening it.
                self.assertEqual(explanation.evaluate("e => !!e.closest('details')"), False)
                # The date-time field (the browser's picker writes 西暦) says its value in 和暦.
                page.locator("form.visitform details > summary").click()
                echo = page.locator("[data-wareki-of=id_started_at]")
                self.assertRegex(echo.inner_text(), r"^令和\d+年\d+月\d+日 \d\d:\d\d$")
                value = page.input_value("#id_started_at")
                page.fill("#id_started_at", value[:11] + "09:45")
                self.assertRegex(echo.inner_text(), r"^令和\d+年\d+月\d+日 09:45$")
                when = page.locator("#id_started_at").bounding_box()
                assert when is not None
                self.assertGreaterEqual(when["height"], 44)
                self.assertGreaterEqual(when["width"], 250)
                page.get_by_role("button", name="記録する").first.click()
                summary = page.locator("[data-error-summary]")
                summary.wait_for()
                self.assertIn("趣旨", summary.inner_text())
                box = summary.bounding_box()
                assert box is not None
                self.assertLess(box["y"] + box["height"], height)  # above the fold
                self.assertTrue(explanation.is_visible())
                page.screenshot(path=str(SCREENSHOTS / f"refusal-error-{width}x{height}.png"))
            explanation.fill("防犯のための訪問と説明したが、多忙を理由に断られた")
            page.get_by_role("button", name="記録する").first.click()
            message = page.locator(".alert.success").inner_text()
            self.assertRegex(message, r"次回予定日: 令和\d+年\d+月\d+日")
            page.screenshot(path=str(SCREENSHOTS / "refusal-recorded.png"))

    def test_a_date_time_typed_without_a_picker_gets_the_wareki_example(self) -> None:
        """A browser without a date-time picker shows a text box: its placeholder and its
        error say the form in 和暦 (R8.12.4 10:30), the same message as with the picker."""
        daytime = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(10)))
        with time_machine.travel(daytime, tick=True):
            page = self.page
            self.sign_in("officer1a")
            page.wait_for_url(landing(self.live_server_url))
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                page.goto(f"{self.live_server_url}/households/{self.household.id}/visit/")
                page.locator("form.visitform details > summary").click()
                field = page.locator("#id_started_at")
                field.evaluate("e => { e.type = 'text'; }")  # as where there is no picker
                self.assertEqual(field.get_attribute("placeholder"), "例: R8.12.4 10:30")
                field.fill("あした 10時")
                page.get_by_role("button", name="記録する").first.click()
                summary = page.locator("[data-error-summary]")
                summary.wait_for()
                self.assertRegex(
                    summary.inner_text(),
                    r"実施日時は日付と時刻を選ぶか、R\d+\.\d+\.\d+ \d\d:\d\d の形で入力してください",
                )
                self.assertNotRegex(page.inner_text("main"), r"\d{4}-\d\d-\d\d")
                self.assertLessEqual(page.evaluate("document.scrollingElement.scrollWidth"), width)
                page.locator("#id_started_at").scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOTS / f"datetime-error-{width}x{height}.png"))
