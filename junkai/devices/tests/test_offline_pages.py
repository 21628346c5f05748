"""The offline app's pages on the server (issue 18): the shell is the same for everyone and
names no one, the service worker keeps exactly the shell, the manifest makes it installable,
the session answer gives the app its CSRF token, and the take-out page offers only the post's
free devices and the officer's own beats. The app itself: test_offline_browser.py."""

from __future__ import annotations

import json

from django.contrib.staticfiles import finders

from junkai.devices import actions
from junkai.devices.testing import keeper_of
from junkai.testing import PersonaTestCase


class OfflinePagesTests(PersonaTestCase):
    def test_the_shell_is_public_and_names_no_one(self) -> None:
        anonymous = self.client.get("/offline/")
        signed_in = self.client_for("officer1a").get("/offline/")
        for response in (anonymous, signed_in):
            self.assertEqual(response.status_code, 200)
            body = response.content.decode()
            self.assertIn('rel="manifest"', body)
            self.assertIn('type="module"', body)
            self.assertNotIn("<script>", body)  # the CSP allows no inline script
            self.assertNotIn(self.officer("officer1a").full_name, body)
            self.assertNotIn("青木", body)
        self.assertIn("script-src 'self'", signed_in["Content-Security-Policy"])

    def test_the_worker_keeps_the_shell_and_only_it(self) -> None:
        response = self.client.get("/offline/sw.js")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/javascript"))
        body = response.content.decode()
        shell = json.loads(body.split("const SHELL = ", 1)[1].split(";\n", 1)[0])
        self.assertEqual(shell[0], "/offline/")
        self.assertIn("/static/junkai/offline/store.js", shell)
        self.assertFalse([url for url in shell if "/api/" in url])
        for url in shell[1:]:
            self.assertTrue(finders.find(url.removeprefix("/static/")), url)

    def test_the_manifest_makes_it_installable(self) -> None:
        response = self.client.get("/offline/manifest.webmanifest")
        manifest = response.json()
        self.assertEqual(manifest["start_url"], "/offline/")
        self.assertEqual(manifest["scope"], "/offline/")
        self.assertEqual(manifest["display"], "standalone")
        self.assertTrue(manifest["icons"])

    def test_the_session_answer_needs_a_sign_in(self) -> None:
        self.assertEqual(self.client.get("/offline/session/").status_code, 302)
        response = self.client_for("officer1a").get("/offline/session/")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json()["csrf"])
        self.assertIn("no-store", response["Cache-Control"])

    def test_take_out_offers_free_devices_and_own_beats(self) -> None:
        post = self.post("K1")
        free = actions.do_register_device(post, acting_officer=keeper_of(post), label="TAB-FREE")
        gone = actions.do_register_device(post, acting_officer=keeper_of(post), label="TAB-GONE")
        actions.do_revoke_device(gone, acting_officer=self.officer("kobancho1"), reason="紛失")
        busy = actions.do_register_device(post, acting_officer=keeper_of(post), label="TAB-BUSY")
        actions.do_declare_device_checkout(
            busy, self.beat("K1-1"), acting_officer=self.officer("officer1b")
        )
        response = self.client_for("officer1a").get("/offline/take-out/")
        self.assertEqual(response.status_code, 200)
        options = response.context["options"]
        self.assertEqual([d["id"] for d in options["devices"]], [free.id])
        self.assertEqual([b["code"] for b in options["beats"]], ["K1-1"])
        self.assertContains(response, "junkai/offline/takeout.js")
        # Another post's officer sees none of these devices.
        other = self.client_for("other_officer").get("/offline/take-out/")
        self.assertNotContains(other, "TAB-FREE")
