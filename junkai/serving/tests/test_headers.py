"""Security headers every page carries: the Content-Security-Policy without inline scripts,
no-store on anything an officer sees, and no inline handlers left in the templates."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import SimpleTestCase

from junkai.testing import PersonaTestCase

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


class SecurityHeaderTests(PersonaTestCase):
    def test_csp_allows_scripts_from_this_server_only(self) -> None:
        response = self.client_for("officer1a").get(f"/households/{self.aoki.id}/")
        policy = response["Content-Security-Policy"]
        script = re.search(r"script-src ([^;]*)", policy)
        assert script is not None
        self.assertEqual(script.group(1).strip(), "'self'")
        self.assertIn("frame-ancestors 'none'", policy)
        self.assertIn("object-src 'none'", policy)

    def test_personal_data_is_never_stored_by_a_cache(self) -> None:
        client = self.client_for("officer1a")
        for url in (f"/households/{self.aoki.id}/", "/worklist/", "/"):
            self.assertIn("no-store", client.get(url)["Cache-Control"], url)


class NoInlineScriptTests(SimpleTestCase):
    def test_templates_carry_no_inline_script_or_handler(self) -> None:
        found = []
        for path in TEMPLATES.rglob("*.html"):
            text = path.read_text()
            for match in re.finditer(
                r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text
            ):
                found.append(f"{path.name}: {match.group(0)}")
            for match in re.finditer(r"\son[a-z]+=\"", text):
                found.append(f"{path.name}: {match.group(0)}")
        self.assertEqual(found, [])
