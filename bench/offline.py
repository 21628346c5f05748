"""The beat onto the device, measured from the page (issue 18: an 800-household beat with its
cards onto the device in ≤ 5 s in Chromium; 50 queued visits synced in ≤ 2 s).

    .venv/bin/python -m bench.offline [--households N] [--runs R]
    DATABASE_URL=postgres:///junkai_bench .venv/bin/python -m bench.offline

Builds a throw-away database (bench.common) with the demo station and N generated households
(default 10,000: the busiest beat has 800 or more), registers a device at that beat's post and
takes the beat out (declared by a beat officer, confirmed by a second officer). Serves Junkai on
127.0.0.1 (Django's threaded live server, as the browser tests do) and drives Debian's chromium:
the beat officer signs in, opens the offline app and presses 受持区を取り込む R times, the
device's store emptied between runs. The page times each run itself (`data-take-in-ms`): the
key lease, the pull, AES-GCM over every household and the IndexedDB write. Then 50 visits are
queued on the device and synced (the page's time from 同期する to its answer).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from bench.common import bench_database, figures

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

RESET = """async (meta) => {
  const store = await import('/static/junkai/offline/store.js');
  await store.wipe();
  await store.put('meta', meta);
}"""

QUEUE = """async ([ids, startedAt]) => {
  const store = await import('/static/junkai/offline/store.js');
  for (const id of ids) {
    await store.queue('visit', id, {visit: {started_at: startedAt, method: 'VISIT', outcome: 'MET',
      guidance_topics: [1], note: '', refusal_explanation: '', concerns: [], observations: []}}, 'bench');
  }
}"""


def main(households: int, runs: int) -> None:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with bench_database() as backend:
        from django.conf import settings
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.db import connection
        from django.db.models import Count
        from django.test.testcases import LiveServerThread
        from django.utils import timezone
        from playwright.sync_api import sync_playwright

        from junkai.demo.households import build_demo_households
        from junkai.demo.organisation import DEMO_PASSWORD, build_demo
        from junkai.devices import actions
        from junkai.households.models import ContactCard, Household, HouseholdStatus
        from junkai.org.models import Assignment, Beat, Role
        from junkai.visits.models import Visit

        station = build_demo()
        build_demo_households(station, count=households)
        busiest = (
            Household.objects.filter(status=HouseholdStatus.ACTIVE)
            .values("beat_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        assert busiest is not None
        beat = Beat.objects.select_related("post").get(id=busiest["beat_id"])
        post = beat.post
        officers = [
            a.officer
            for a in Assignment.objects.current()
            .filter(post=post, role=Role.BEAT_OFFICER)
            .select_related("officer")
            .order_by("officer_id")
        ]
        borrower, confirmer = officers[0], officers[-1]
        if confirmer.id == borrower.id and not post.single_officer:
            raise SystemExit("the busiest beat's post has one beat officer: no second officer")
        device = actions.do_register_device(post, acting_officer=None, label="BENCH-01")
        checkout = actions.do_declare_device_checkout(device, beat, acting_officer=borrower)
        actions.do_confirm_device_out(checkout, acting_officer=confirmer)
        held = busiest["n"]
        with_cards = ContactCard.objects.filter(
            household__beat=beat, household__status=HouseholdStatus.ACTIVE, status="ACTIVE"
        ).count()
        ids = list(
            Household.objects.filter(beat=beat, status=HouseholdStatus.ACTIVE)
            .order_by("id")
            .values_list("id", flat=True)[:50]
        )
        morning = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
        if morning > timezone.now():
            morning -= dt.timedelta(days=1)

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        url = f"http://127.0.0.1:{server.port}"
        meta = {
            "k": "checkout",
            "id": checkout.id,
            "device_label": device.label,
            "beat_id": beat.id,
            "beat_name": beat.name,
        }
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
                page = context.new_page()
                target = context.new_cdp_session(page).send("Target.getTargetInfo")
                browser.new_browser_cdp_session().send(
                    "Browser.setPermission",
                    {
                        "permission": {"name": "persistent-storage"},
                        "setting": "granted",
                        "origin": url,
                        "browserContextId": target["targetInfo"]["browserContextId"],
                    },
                )
                page.goto(f"{url}/login/")
                page.get_by_label("ログインID").fill(borrower.username)
                page.get_by_label("パスワード").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="サインイン").click()
                page.wait_for_load_state()
                seconds, walls = [], []
                for _ in range(runs):
                    page.goto(f"{url}/offline/")
                    page.evaluate(RESET, meta)
                    page.reload()
                    button = page.get_by_role("button", name="受持区を取り込む")
                    t0 = time.perf_counter()
                    button.click()
                    page.wait_for_selector("[data-flash], [data-error]", timeout=60_000)
                    walls.append(time.perf_counter() - t0)
                    taken = page.evaluate("document.body.dataset.takeInMs")
                    if taken is None:
                        raise SystemExit(page.inner_text("main"))
                    seconds.append(int(taken) / 1000)
                print(f"backend: {backend}; {beat.name}: {held:,} households, {with_cards:,} cards")
                print(figures("beat onto the device, timed by the page", seconds))
                print(figures("the same, click to message (Playwright)", walls))

                page.evaluate(QUEUE, [ids, morning.isoformat()])
                before = Visit.objects.count()
                page.evaluate("location.hash = '#/outbox'")
                t0 = time.perf_counter()
                page.get_by_role("button", name="同期する").click()
                page.wait_for_selector("[data-flash], [data-error]", timeout=60_000)
                elapsed = time.perf_counter() - t0
                print(
                    f"sync of 50 queued visits from the page: {elapsed * 1000:.0f} ms; "
                    f"{Visit.objects.count() - before} visits recorded; "
                    f"{page.locator('[data-flash], [data-error]').first.inner_text()}"
                )
                browser.close()
        finally:
            server.terminate()
            if connection.vendor == "postgresql":
                # The live server's threads keep their connections: end them (this process's
                # own, on its own throw-away database) so the database can be dropped.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    main(args.households, args.runs)
