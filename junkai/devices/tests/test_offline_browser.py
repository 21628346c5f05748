"""The offline app in a browser (issue 18): the beat taken out with the second officer's
confirmation, visits and a correction recorded with the network off, synced with their audit
events; a revoked device wiped at its next contact; an expired lease unreadable; a conflicting
correction kept whole; persistent storage refused; the read log's and the night rule's shared
vectors. Screenshots at 390×844, 810×1080 and 1080×810 in var/test/screenshots/."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import BrowserContext, Page

from junkai.audit.models import AuditEvent, EventType
from junkai.demo.households import build_demo_households
from junkai.demo.organisation import DEMO_PASSWORD, DEMO_STATION_CODE
from junkai.demo.outlines import build_demo_outlines
from junkai.devices import actions, readlog
from junkai.devices.models import CardConflict, DeviceCheckout, DeviceLease, DevicePull
from junkai.devices.testing import keeper_of
from junkai.households import actions as household_actions
from junkai.households import cards
from junkai.households.models import CardRevision, CardStatus, ContactCard
from junkai.households.schedule import current_policy
from junkai.org.models import Beat, Officer, Station
from junkai.planning.tests.test_map_browser import MAP_IDLE, MARKERS, open_household_popup
from junkai.visits.models import Visit
from junkai.web.tests.test_browser import SCREENSHOTS, BrowserTestCase

TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = dt.datetime(2026, 6, 10, 10, 0, tzinfo=TOKYO)
SIZES = {"phone": (390, 844), "ipad-portrait": (810, 1080), "ipad-landscape": (1080, 810)}

#: What the device's database holds (without creating it when absent).
IDB_STATE = """async () => {
  const known = (await indexedDB.databases()).some((d) => d.name === "junkai-offline");
  if (!known) return {absent: true};
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open("junkai-offline"); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
  });
  const ask = (store, op, arg) => new Promise((ok) => {
    const r = db.transaction(store).objectStore(store)[op](arg); r.onsuccess = () => ok(r.result);
  });
  const out = {absent: false};
  for (const name of db.objectStoreNames) out[name] = await ask(name, "count");
  if (db.objectStoreNames.contains("meta")) {
    out.lease = Boolean(await ask("meta", "get", "lease"));
    out.checkout = Boolean(await ask("meta", "get", "checkout"));
    const sample = await ask("households", "getAll");
    out.plain = sample.slice(0, 5).map((r) => Object.keys(r).sort().join(","));
  }
  db.close();
  return out;
}"""


class OfflineBrowserTestCase(BrowserTestCase):
    context: BrowserContext

    def setUp(self) -> None:
        # A weekday morning on the server and in the browser alike (the lease's end, the night
        # window and the read log's times are compared across the two).
        clock = time_machine.travel(MORNING, tick=True)
        clock.start()
        self.addCleanup(clock.stop)
        super().setUp()
        station = Station.objects.get(code=DEMO_STATION_CODE)
        build_demo_households(station, count=400, seed=3)
        build_demo_outlines(station)
        self.beat = Beat.objects.get(post__station=station, code="K1-1")
        self.post = self.beat.post
        self.device = actions.do_register_device(
            self.post, acting_officer=keeper_of(self.post), label="TAB-01"
        )
        self.page.close()
        self.context = self.new_context(persist=True)
        self.page = self.context.new_page()

    def new_context(
        self, *, persist: bool, size: str = "ipad-portrait", **options: Any
    ) -> BrowserContext:
        width, height = SIZES[size]
        context = self.browser.new_context(
            viewport={"width": width, "height": height},
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            **options,
        )
        self.addCleanup(context.close)
        context.clock.install(time=MORNING)
        page = context.new_page()
        # Persistent storage as the officer's browser answers it (granted once installed).
        target = context.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
        self.browser.new_browser_cdp_session().send(
            "Browser.setPermission",
            {
                "permission": {"name": "persistent-storage"},
                "setting": "granted" if persist else "denied",
                "origin": self.live_server_url,
                "browserContextId": target["browserContextId"],
            },
        )
        page.close()
        return context

    def sign_in_as(self, username: str, page: Page | None = None) -> None:
        page = page or self.page
        page.goto(f"{self.live_server_url}/login/")
        page.get_by_label("ログインID").fill(username)
        page.get_by_label("パスワード").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_load_state()

    def idb(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate(IDB_STATE)
        return state

    def flash(self) -> str:
        return self.page.locator("[data-flash], [data-error]").first.inner_text()

    def declare(self) -> DeviceCheckout:
        """On the take-out page: the device and the beat, declared (an entry of the 持出確認簿)."""
        page = self.page
        page.goto(f"{self.live_server_url}/offline/")
        page.get_by_role("link", name="受持区を端末に持ち出す").click()
        page.get_by_label("端末").select_option(label="TAB-01")
        page.get_by_label("受持区").select_option(label="駅前一区（K1-1）")
        page.get_by_role("button", name="持出しを申告する").click()
        page.wait_for_selector("#take-out-result .alert")
        self.assertIn("持出しを申告しました", page.inner_text("#take-out-result"))
        return DeviceCheckout.objects.select_related("entry").get(device=self.device)

    def take_out(self, *, co_sign: bool = False) -> DeviceCheckout:
        """Signed in as officer1a: declared, confirmed out by officer1b, taken in."""
        page = self.page
        self.sign_in_as("officer1a")
        checkout = self.declare()
        if co_sign:
            # The second officer on the same tablet, with his own ID and password (the
            # 持出確認簿's co-signature: accounts.cosign).
            page.get_by_role("link", name="持出確認簿で確認を受ける").click()
            row = page.locator(f"#checkout-{checkout.entry_id}")
            self.assertIn("端末 TAB-01", row.inner_text())
            row.get_by_text("この端末で持出確認").click()
            row.get_by_label("確認者のログインID").fill("officer1b")
            row.get_by_label("パスワード").fill(DEMO_PASSWORD)
            row.get_by_role("button", name="持出確認する").click()
            page.wait_for_load_state()
            self.assertIn(
                "端末 TAB-01（受持区 駅前一区） の持出しを確認しました", page.inner_text("main")
            )
            self.assertIn("北川 美咲", page.locator(f"#checkout-{checkout.entry_id}").inner_text())
        else:
            actions.do_confirm_device_out(
                checkout, acting_officer=Officer.objects.get(username="officer1b")
            )
        page.goto(f"{self.live_server_url}/offline/")
        page.get_by_role("button", name="受持区を取り込む").click()
        page.wait_for_selector("[data-flash]")
        self.assertIn("端末に取り込みました", self.flash())
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        return DeviceCheckout.objects.select_related("entry").get(id=checkout.id)

    def open_first_due(self) -> int:
        page = self.page
        page.locator(".offline-bar").get_by_role("link", name="巡回予定").click()
        row = page.locator(".hh-row").first
        household_id = int(row.get_attribute("data-household") or 0)
        row.locator(".hh-main").click()
        page.wait_for_selector("text=巡回連絡を記録する")
        return household_id

    def go(self, hash_: str) -> None:
        """To a page of the app, once it is drawn."""
        self.page.evaluate("h => { location.hash = h; }", hash_)
        self.page.wait_for_function(
            "h => document.body.dataset.rendered === h", arg=hash_, polling=100
        )

    def emulate_offline_in_this_document(self) -> None:
        """A document loaded while the context is offline (from the service worker) still says
        `navigator.onLine`; setting the emulation again reaches it, so that going online fires
        its `online` event as a real network's return does. (Setting it online first changes
        nothing the page sees: it already thinks it is online.)"""
        self.context.set_offline(False)
        self.context.set_offline(True)
        self.page.wait_for_function("() => !navigator.onLine")

    def no_sideways_scroll(self, what: str) -> None:
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        self.assertLessEqual(overflow, 0, f"{what} scrolls sideways by {overflow}px")


#: Each household target on the map (a door, a building, a cluster of them) inside the map's
#: frame: its size, and whether a tap at its centre lands on it (nothing covers it).
TARGETS = """() => {
  const frame = document.querySelector('#offline-map').getBoundingClientRect();
  return Array.from(document.querySelectorAll('.hh-pin, .bldg-marker, .marker-cluster')).map((e) => {
    const r = e.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < frame.left || x > frame.right || y < frame.top || y > frame.bottom) return null;
    const hit = document.elementFromPoint(x, y);
    return {w: r.width, h: r.height, clear: Boolean(hit && (hit === e || e.contains(hit))), what: e.className};
  }).filter(Boolean);
}"""


class OfflineFieldWork(OfflineBrowserTestCase):
    def test_take_out_record_offline_and_sync(self) -> None:
        page = self.page
        checkout = self.take_out(co_sign=True)
        confirmer = checkout.entry.out_confirmed_by
        self.assertEqual(confirmer.username if confirmer else None, "officer1b")
        self.assertTrue(DevicePull.objects.filter(checkout=checkout, full=True).exists())
        self.assertTrue(DeviceLease.objects.filter(checkout=checkout).exists())
        state = self.idb()
        held = self.beat.households.filter(status="ACTIVE").count()
        self.assertEqual(state["households"], held)
        # Each record is only its id and the ciphertext: nothing personal in the clear.
        self.assertEqual(set(state["plain"]), {"ct,id,iv"})
        self.assertTrue(state["lease"])
        visits_before = Visit.objects.count()

        # The network goes; the app comes back from the service worker.
        self.context.set_offline(True)
        page.reload()
        page.wait_for_selector("[data-net-state].offline")
        self.assertEqual(page.inner_text("[data-net-state]"), "オフライン")
        page.screenshot(path=str(SCREENSHOTS / "offline-home.png"), full_page=True)

        # A visit: 面接.
        first = self.open_first_due()
        page.get_by_role("link", name="巡回連絡を記録する").click()
        page.get_by_label("面接").check()
        self.assertEqual(
            page.locator("input[name=method]").count(),
            len(["VISIT", "PHONE"] if self.household(first).is_leader else ["VISIT"]),
        )
        page.get_by_role("button", name="記録する（同期で送信）").click()
        page.wait_for_selector("[data-flash]")
        self.assertIn("記録しました（送信待ち）", self.flash())

        # The next: 拒否 without saying how the purpose was explained is refused on the device.
        second = self.open_first_due()
        if second == first:
            page.locator(".offline-bar").get_by_role("link", name="巡回予定").click()
            page.locator(".hh-row").nth(1).locator(".hh-main").click()
            second = int(page.url.rsplit("/", 1)[1])
        page.get_by_role("link", name="巡回連絡を記録する").click()
        page.get_by_label("拒否", exact=True).check()
        page.get_by_role("button", name="記録する（同期で送信）").click()
        self.assertIn("趣旨をどのように説明したか", page.inner_text(".error-summary"))
        # A night visit without the approval obtained beforehand is refused too.
        page.get_by_label("実施日時").fill("2026-06-09T21:00")
        page.get_by_label("拒否の場合、趣旨をどのように説明したか").fill("防犯のための訪問と説明")
        page.get_by_role("button", name="記録する（同期で送信）").click()
        self.assertIn("夜間", page.inner_text(".error-summary"))
        page.get_by_label("実施日時").fill("2026-06-10T09:30")
        self.shot("offline-visit-form")
        page.get_by_role("button", name="記録する（同期で送信）").click()
        page.wait_for_selector("[data-flash]")

        # A correction of a card.
        with_card = (
            ContactCard.objects.filter(
                household__beat=self.beat, status=CardStatus.ACTIVE, residents__isnull=False
            )
            .exclude(household_id__in=[first, second])
            .order_by("id")
            .first()
        )
        assert with_card is not None
        version = with_card.version
        page.goto(f"{self.live_server_url}/offline/#/h/{with_card.household_id}")
        page.get_by_role("link", name="カードを補正する").click()
        page.get_by_label("備考").fill("端末で補正: 日中不在が多い")
        page.get_by_role("button", name="補正する（同期で送信）").click()
        page.wait_for_selector("text=補正は送信待ち")
        self.assertEqual(Visit.objects.count(), visits_before)  # nothing left the device

        # The beat map on its plain background, and every page at the three sizes.
        page.locator(".offline-bar").get_by_role("link", name="地図").click()
        page.wait_for_selector("#offline-map[data-ready]")
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            for name, hash_ in (
                ("worklist", "#/worklist"),
                ("household", f"#/h/{with_card.household_id}"),
                ("visit", f"#/h/{first}/visit"),
                ("card", f"#/h/{with_card.household_id}/card"),
                ("outbox", "#/outbox"),
                ("map", "#/map"),
            ):
                self.go(hash_)
                self.no_sideways_scroll(f"{name} at {size}")
                page.screenshot(path=str(SCREENSHOTS / f"offline-{name}-{size}.png"))

        # Back online: the app syncs by itself (nothing pressed), sending the outbox in order,
        # each change once, and says so above the page the officer is on (here the map).
        pushes: list[str] = []
        page.on("request", lambda r: pushes.append(r.url) if "/sync/push" in r.url else None)
        page.set_viewport_size({"width": 810, "height": 1080})
        self.emulate_offline_in_this_document()
        self.assertFalse(page.evaluate("navigator.onLine"))
        self.context.set_offline(False)
        page.wait_for_selector("[data-flash][data-auto-sync]")
        self.assertIn("同期しました（送信 3件）", self.flash())
        self.assertTrue(page.locator("#offline-map[data-ready]").is_visible())  # not redrawn
        page.screenshot(path=str(SCREENSHOTS / "offline-auto-synced.png"))
        self.assertEqual(len(pushes), 1)
        self.go("#/outbox")
        self.assertEqual(page.locator(".change.done").count(), 3)
        page.screenshot(path=str(SCREENSHOTS / "offline-synced.png"), full_page=True)
        visits = Visit.objects.filter(household_id__in=[first, second])
        self.assertEqual(
            {v.household_id: v.outcome for v in visits}, {first: "MET", second: "REFUSED"}
        )
        for visit in visits:
            self.assertTrue(
                AuditEvent.objects.filter(
                    event_type=EventType.VISIT_RECORDED, object_id=str(visit.id)
                ).exists()
            )
        with_card.refresh_from_db()
        self.assertEqual(with_card.version, version + 1)
        self.assertEqual(with_card.remarks, "端末で補正: 日中不在が多い")
        self.assertTrue(CardRevision.objects.filter(card=with_card, version=version + 1).exists())
        # The reads made offline are in each household's 閲覧記録, the chain intact.
        reads = AuditEvent.objects.filter(event_type=EventType.READ_OFFLINE)
        self.assertEqual({int(e.object_id) for e in reads}, {first, second, with_card.household_id})
        self.assertTrue(all(e.details["intact"] for e in reads))
        self.assertFalse(AuditEvent.objects.filter(event_type=EventType.DEVICE_READ_LOG_BROKEN))
        self.assertEqual(self.idb()["reads"], 0)

        # Sent again (a tab closed before it heard the answer): one record each.
        page.evaluate(
            """async () => {
              const store = await import('/static/junkai/offline/store.js');
              const db = await store.openDb();
              const tx = db.transaction('outbox', 'readwrite');
              const all = await new Promise((ok) => { const r = tx.objectStore('outbox').getAll(); r.onsuccess = () => ok(r.result); });
              all.forEach((c) => tx.objectStore('outbox').put({...c, state: 'pending', result: null}));
              await new Promise((ok) => { tx.oncomplete = ok; });
            }"""
        )
        self.go("#/")
        page.get_by_role("button", name="同期する").click()
        page.wait_for_selector("[data-flash]")
        self.assertEqual(Visit.objects.filter(household_id__in=[first, second]).count(), 2)
        self.go("#/outbox")
        page.wait_for_selector(".change.done")
        self.assertEqual(page.get_by_text("再送: 記録は1件").count(), 3)

    def household(self, household_id: int) -> Any:
        return self.beat.households.get(id=household_id)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


class OfflineMap(OfflineBrowserTestCase):
    def test_every_household_is_a_clear_target_of_32px(self) -> None:
        """The offline map is the online map's Leaflet code on a plain background: doors closer
        than a finger merge into a numbered cluster (a tap zooms in), a building's rooms are one
        square listing them, every target is at least 32 px and nothing covers its centre."""
        page = self.page
        self.take_out()
        on_map = self.beat.households.filter(status="ACTIVE", latitude__isnull=False)
        doors = on_map.filter(building__isnull=True).count()
        buildings = on_map.exclude(building=None).values("building").distinct().count()
        self.assertGreater(buildings, 0)
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(self.live_server_url) else None,
        )
        # Offline, the map and its library come from the service worker.
        self.context.set_offline(True)
        page.reload()
        page.wait_for_selector("[data-net-state].offline")
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            self.go("#/")
            self.go("#/map")
            page.wait_for_selector("#offline-map[data-ready]")
            page.wait_for_function(MAP_IDLE)
            shown = page.evaluate(MARKERS)
            # Every door and building is on the map, counted through the clusters.
            self.assertEqual(
                shown["doors"] + shown["buildings"] + shown["clustered"], doors + buildings
            )
            self.assertGreater(shown["clusters"], 0)
            self.assertEqual(page.locator("path.beat-outline").count(), 1)
            self.assertEqual(page.locator(".leaflet-tile").count(), 0)
            targets = page.evaluate(TARGETS)
            self.assertTrue(targets)
            for target in targets:
                self.assertGreaterEqual(min(target["w"], target["h"]), 32, target)
                self.assertTrue(target["clear"], f"{target} is covered at {size}")
            self.no_sideways_scroll(f"map at {size}")
            page.screenshot(path=str(SCREENSHOTS / f"offline-map-{size}.png"))
        # On the phone: a building's square lists its rooms; a room opens its household.
        page.set_viewport_size({"width": 390, "height": 844})
        self.tap_through_clusters_to(".leaflet-marker-icon.bldg-marker")
        page.locator(".leaflet-marker-icon.bldg-marker").first.click()
        rooms = page.locator(".leaflet-popup ul.bldg-rooms li")
        rooms.first.wait_for()
        self.assertGreater(rooms.count(), 0)
        self.popup_settled()
        page.screenshot(path=str(SCREENSHOTS / "offline-map-building.png"))
        self.assertEqual(rooms.first.get_by_role("link", name="記録").count(), 1)
        rooms.first.locator("a").first.click()
        page.wait_for_function("() => /^#\\/h\\/\\d+$/.test(document.body.dataset.rendered || '')")
        room = on_map.get(id=int(page.evaluate("location.hash").rsplit("/", 1)[1]))
        self.assertIsNotNone(room.building_id)
        self.assertIn("巡回連絡を記録する", page.inner_text("main"))
        # A door: through the clusters to its pin, whose popup opens the visit form.
        self.go("#/map")
        page.wait_for_selector("#offline-map[data-ready]")
        popup = open_household_popup(page)
        self.popup_settled()
        page.screenshot(path=str(SCREENSHOTS / "offline-map-door.png"))
        popup.get_by_role("link", name="記録").click()
        page.wait_for_selector("text=巡回連絡の記録")
        self.assertRegex(page.evaluate("location.hash"), r"^#/h/\d+/visit$")
        self.assertEqual(outside, [])

    def popup_settled(self) -> None:
        """The popup has faded in and the map panned to show it."""
        self.page.wait_for_function(
            "() => { const p = document.querySelector('.leaflet-popup');"
            " return p && getComputedStyle(p).opacity === '1'; }"
        )
        self.page.wait_for_function(MAP_IDLE)
        self.page.wait_for_timeout(400)

    def tap_through_clusters_to(self, selector: str) -> None:
        """Tap a cluster (each of the first ones in turn), then the first cluster again and
        again, until a marker matching `selector` shows, as an officer looking for it would."""
        page = self.page
        for start in range(page.locator(".marker-cluster").count()):
            self.go("#/")
            self.go("#/map")
            page.wait_for_selector("#offline-map[data-ready]")
            for step in range(10):
                page.wait_for_function(MAP_IDLE)
                page.wait_for_timeout(300)
                # At every zoom on the way, each target is clear of the others.
                covered = [t for t in page.evaluate(TARGETS) if not t["clear"]]
                self.assertEqual(covered, [], f"covered after {step} taps")
                if page.locator(selector).count():
                    page.wait_for_timeout(300)
                    return
                clusters = page.locator(".marker-cluster")
                if not clusters.count():
                    break
                clusters.nth(start if step == 0 else 0).click()
                page.wait_for_timeout(400)
        raise AssertionError(f"no {selector} reached through the clusters")


class OfflineSyncAndReturn(OfflineBrowserTestCase):
    def record_visit(self, nth: int) -> int:
        """面接 at the nth household of the work list (queued on the device)."""
        page = self.page
        self.go("#/worklist")
        row = page.locator(".hh-row").nth(nth)
        household_id = int(row.get_attribute("data-household") or 0)
        row.get_by_role("link", name="記録").click()
        page.get_by_label("面接").check()
        page.get_by_role("button", name="記録する（同期で送信）").click()
        page.wait_for_selector("[data-flash]")
        return household_id

    def test_syncs_by_itself_once_then_returns_and_clears(self) -> None:
        page = self.page
        checkout = self.take_out()
        pushes: list[str] = []
        page.on("request", lambda r: pushes.append(r.url) if "/sync/push" in r.url else None)

        # Never two syncs at once: the network "returns" three times and the officer presses
        # 同期する meanwhile; one push carries the visit.
        first = self.record_visit(0)
        self.go("#/")
        page.evaluate(
            "() => { for (let i = 0; i < 3; i++) window.dispatchEvent(new Event('online')); }"
        )
        page.get_by_role("button", name="同期する").click()
        page.wait_for_selector("[data-flash]:has-text('同期しました')")
        self.assertIn("同期しました（送信 1件）", self.flash())
        self.assertEqual(len(pushes), 1)
        self.assertEqual(Visit.objects.filter(household_id=first).count(), 1)

        # Opened with a change waiting and the lease valid: synced on load, nothing pressed.
        second = self.record_visit(1)
        self.assertEqual(Visit.objects.filter(household_id=second).count(), 0)
        page.reload()
        page.wait_for_selector("[data-flash]:has-text('同期しました')")
        self.assertIn("同期しました（送信 1件）", self.flash())
        self.assertEqual(Visit.objects.filter(household_id=second).count(), 1)
        self.assertEqual(len(pushes), 2)
        # Nothing waiting: opening the app sends nothing.
        page.reload()
        page.wait_for_function("() => document.body.dataset.rendered")
        page.wait_for_timeout(800)
        self.assertEqual(len(pushes), 2)

        # 返却する: what waits is sent first, the return recorded, the device cleared.
        third = self.record_visit(2)
        self.go("#/")
        page.get_by_role("button", name="返却する（同期して消去）").click()
        page.wait_for_selector("[data-flash]:has-text('返却を記録し')")
        self.assertEqual(Visit.objects.filter(household_id=third).count(), 1)
        # The database was deleted (the app opens an empty one again to draw its home).
        state = self.idb()
        self.assertFalse(state.get("checkout") or state.get("lease"))
        for store in ("households", "lists", "outbox", "reads"):
            self.assertEqual(state.get(store, 0), 0, store)
        self.assertIn("持ち出している受持区はありません", page.inner_text("main"))
        entry = checkout.entry
        entry.refresh_from_db()
        self.assertEqual(entry.status, "RETURNED")
        self.assertIsNotNone(entry.returned_at)
        page.screenshot(path=str(SCREENSHOTS / "offline-returned.png"), full_page=True)
        # Nothing of the beat is left for the app to read, and the server answers 410.
        self.assertEqual(
            page.evaluate(
                """async (id) => {
                  const r = await fetch(`/api/v1/sync/pull?checkout=${id}`, {credentials: 'same-origin'});
                  return r.status;
                }""",
                checkout.id,
            ),
            410,
        )

        # The 返却確認者 confirms on the same tablet (his own ID and password): the entry ends.
        page.get_by_role("link", name="持出確認簿で返却確認を受ける").click()
        row = page.locator(f"#checkout-{entry.id}")
        self.assertIn("端末 TAB-01", row.inner_text())
        row.get_by_text("この端末で返却確認").click()
        row.get_by_label("確認者のログインID").fill("officer1b")
        row.get_by_label("パスワード").fill(DEMO_PASSWORD)
        row.get_by_role("button", name="返却確認する").click()
        page.wait_for_load_state()
        entry.refresh_from_db()
        self.assertEqual(entry.status, "CLOSED")
        confirmer = entry.return_confirmed_by
        self.assertEqual(confirmer.username if confirmer else None, "officer1b")
        self.assertIn("北川 美咲", page.locator(f"#checkout-{entry.id}").inner_text())
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            self.no_sideways_scroll(f"the register at {size}")
            page.screenshot(path=str(SCREENSHOTS / f"offline-return-confirmed-{size}.png"))
        # The device is free again: the take-out page offers it.
        page.goto(f"{self.live_server_url}/offline/take-out/")
        self.assertIn("TAB-01", page.inner_text("main"))


class OfflineRefusalsAndWipes(OfflineBrowserTestCase):
    def test_a_revoked_device_is_wiped_at_its_next_contact(self) -> None:
        page = self.page
        self.take_out()
        self.assertGreater(self.idb()["households"], 0)
        actions.do_revoke_device(
            self.device, acting_officer=Officer.objects.get(username="kobancho1"), reason="紛失"
        )
        page.get_by_role("button", name="同期する").click()
        page.wait_for_selector("[data-error]")
        self.assertIn("消去", self.flash())
        page.screenshot(path=str(SCREENSHOTS / "offline-revoked.png"), full_page=True)
        state = self.idb()
        self.assertFalse(state.get("checkout"))
        self.assertFalse(state.get("lease"))
        self.assertEqual(state.get("households", 0), 0)
        page.goto(f"{self.live_server_url}/offline/")
        page.wait_for_selector("text=持ち出している受持区はありません")

    def test_an_expired_lease_cannot_be_read(self) -> None:
        page = self.page
        self.take_out()
        self.go("#/households")
        page.wait_for_selector(".hh-row")
        # Thirteen hours on, with the tablet left open on the list.
        self.context.clock.fast_forward("13:00:00")
        page.evaluate("location.hash = '#/worklist'")
        page.wait_for_selector("text=鍵の貸与が終わりました")
        self.assertEqual(page.locator(".hh-row").count(), 0)
        state = self.idb()
        self.assertFalse(state["lease"])  # the key is gone, not merely hidden
        self.assertGreater(state["households"], 0)  # the records stay, encrypted
        page.screenshot(path=str(SCREENSHOTS / "offline-lease-ended.png"), full_page=True)
        # Nothing reads them without the key.
        refused = page.evaluate(
            """async () => {
              const store = await import('/static/junkai/offline/store.js');
              try { await store.households(); return 'read'; } catch (e) { return e.constructor.name; }
            }"""
        )
        self.assertEqual(refused, "LeaseEnded")

    def test_a_conflicting_correction_keeps_both_versions(self) -> None:
        page = self.page
        self.take_out()
        card = (
            ContactCard.objects.filter(household__beat=self.beat, status=CardStatus.ACTIVE)
            .order_by("id")
            .first()
        )
        assert card is not None
        # At the post, another officer corrects the card after the device took it.
        household_actions.do_save_card(
            card.household,
            {**cards.snapshot(card), "remarks": "交番で補正"},
            acting_officer=Officer.objects.get(username="officer1b"),
            expected_version=card.version,
        )
        self.go(f"#/h/{card.household_id}/card")
        page.get_by_label("備考").fill("端末で補正")
        page.get_by_role("button", name="補正する（同期で送信）").click()
        page.wait_for_selector("text=補正は送信待ち")
        self.go("#/outbox")
        page.get_by_role("button", name="同期する").click()
        page.wait_for_selector(".change.conflict")
        self.assertIn("競合", page.inner_text(".change.conflict"))
        conflict = CardConflict.objects.get(household=card.household)
        self.assertEqual(conflict.submitted["remarks"], "端末で補正")
        card.refresh_from_db()
        self.assertEqual(card.remarks, "交番で補正")
        page.get_by_role("link", name="競合を確認して選ぶ").click()
        page.wait_for_load_state()
        main = page.inner_text("main")
        self.assertIn("交番で補正", main)
        self.assertIn("端末で補正", main)
        page.screenshot(path=str(SCREENSHOTS / "offline-conflict.png"), full_page=True)

    def test_no_persistent_storage_no_take_out(self) -> None:
        self.context = self.new_context(persist=False)
        self.page.close()
        self.page = self.context.new_page()
        page = self.page
        self.sign_in_as("officer1a")
        page.goto(f"{self.live_server_url}/offline/take-out/")
        page.get_by_role("button", name="持出しを申告する").click()
        page.wait_for_selector("#take-out-result .alert.error")
        self.assertIn("永続的な保存", page.inner_text("#take-out-result"))
        self.assertFalse(DeviceCheckout.objects.exists())
        page.screenshot(path=str(SCREENSHOTS / "offline-refused.png"), full_page=True)

    def test_shared_vectors_read_log_and_night_window(self) -> None:
        """The device computes the read log's hashes and the night window as the server does."""
        page = self.page
        page.goto(f"{self.live_server_url}/offline/")
        entries = [
            {
                "seq": 1,
                "household_id": 12,
                "read_at": "2026-06-10T10:00:00+09:00",
                "purpose": "PATROL",
            },
            {
                "seq": 2,
                "household_id": 7,
                "read_at": "2026-06-10T23:59:59+09:00",
                "purpose": "WELFARE",
            },
        ]
        device = page.evaluate(
            """async (entries) => {
              const store = await import('/static/junkai/offline/store.js');
              let prev = await store.genesis(41);
              const out = [prev];
              for (const e of entries) { prev = await store.entryHash(prev, e); out.push(prev); }
              return out;
            }""",
            entries,
        )
        prev = readlog.genesis(41)
        expected = [prev]
        for e in entries:
            prev = readlog.entry_hash(prev, **e)  # type: ignore[arg-type]
            expected.append(prev)
        self.assertEqual(device, expected)
        policy = current_policy()
        rules = {
            "night_start": policy.night_start.isoformat(),
            "night_end": policy.night_end.isoformat(),
            "timezone": "Asia/Tokyo",
        }
        moments = [
            dt.datetime(2026, 6, 10, h, m, tzinfo=TOKYO)
            for h, m in ((6, 59), (7, 0), (12, 0), (18, 59), (19, 0), (23, 30), (0, 0))
        ]
        night = page.evaluate(
            """async ([rules, moments]) => {
              const r = await import('/static/junkai/offline/rules.js');
              return moments.map((m) => r.isNight(new Date(m), rules));
            }""",
            [rules, [m.isoformat() for m in moments]],
        )
        self.assertEqual(night, [policy.is_night(m) for m in moments])
