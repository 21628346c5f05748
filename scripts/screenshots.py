"""Screenshots of the main pages for the README (docs/screenshots/), using Debian's chromium.

.venv/bin/python scripts/screenshots.py http://127.0.0.1:8000
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main(base: str) -> None:
    out = Path("docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768}, locale="ja-JP")
        page.goto(f"{base}/login/")
        page.screenshot(path=str(out / "sign-in.png"), full_page=True)
        for username, shots in {
            "officer1a": {
                "/": "home-officer.png",
                "/worklist/": "worklist.png",
                "/beats/1/households/": "beat-households.png",
                "/plan/": "plan.png",
                "/beats/1/map/": "beat-map.png",
            },
            "kacho": {
                "/": "home-manager.png",
                "/org/": "org-station.png",
                "/inbox/": "inbox.png",
                "/todo/": "todo.png",
                "/registers/": "registers.png",
                "/data-uses/": "data-uses.png",
            },
            "chief": {"/dashboard/": "dashboard-station.png"},
            "hq": {"/dashboard/": "dashboard-hq.png"},
        }.items():
            page.context.clear_cookies()
            page.goto(f"{base}/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", "junkai-demo")
            page.click("button[type=submit]")
            page.wait_for_load_state()  # a beat officer lands on 巡回予定, others on home
            for path, name in shots.items():
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                # The viewport, as an officer first sees the page (lists run long).
                page.screenshot(path=str(out / name))
        # The officer on a phone: the visit form (記録する above the fold), the household's
        # 直近の巡回, and the menu behind the bottom bar.
        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
        phone.goto(f"{base}/login/")
        phone.fill("#id_username", "officer1a")
        phone.fill("#id_password", "junkai-demo")
        phone.click("button[type=submit]")
        phone.wait_for_load_state()
        phone.screenshot(path=str(out / "phone-worklist.png"))
        phone.locator(".card.work .button.record").first.click()
        phone.wait_for_load_state()
        phone.screenshot(path=str(out / "phone-visit-form.png"))
        phone.locator("a", has_text="戻る").click()
        phone.locator(".card.work .addr").first.click()
        phone.wait_for_load_state()
        phone.screenshot(path=str(out / "phone-household.png"))
        phone.locator(".bottom-bar button").click()
        phone.screenshot(path=str(out / "phone-menu.png"))
        # The chief's station dashboard on a phone: the figures first, the long tables folded.
        phone.context.clear_cookies()
        phone.goto(f"{base}/login/")
        phone.fill("#id_username", "chief")
        phone.fill("#id_password", "junkai-demo")
        phone.click("button[type=submit]")
        phone.wait_for_load_state()
        phone.goto(f"{base}/dashboard/")
        phone.wait_for_load_state("networkidle")
        phone.screenshot(path=str(out / "phone-dashboard.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
