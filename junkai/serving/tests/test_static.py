"""The production static storage builds: every vendored file and every file a template names."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase, override_settings

TEMPLATE_DIRS = [settings.BASE_DIR / "junkai"]
STATIC_TAG = re.compile(r"""\{%\s*static\s+['"]([^'"]+)['"]""")
PRODUCTION_STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def names_in_templates() -> set[str]:
    names: set[str] = set()
    for base in TEMPLATE_DIRS:
        for template in base.rglob("*.html"):
            names.update(STATIC_TAG.findall(template.read_text(encoding="utf-8")))
    return names


class CollectStaticTests(SimpleTestCase):
    """Runs `collectstatic` as production does (hashed names, compressed copies).

    The manifest storage rewrites every reference inside CSS and JS (url(), sourceMappingURL)
    and fails when one names a file that is not shipped; without a manifest every page that
    uses {% static %} answers 500.
    """

    def test_collectstatic_with_the_manifest_storage(self) -> None:
        with (
            tempfile.TemporaryDirectory() as root,
            override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION_STORAGES),
        ):
            call_command("collectstatic", interactive=False, verbosity=0)
            manifest = json.loads((Path(root) / "staticfiles.json").read_text())["paths"]
            for name in sorted(names_in_templates()):
                with self.subTest(name=name):
                    self.assertIn(name, manifest)
                    hashed = Path(root) / manifest[name]
                    self.assertTrue(hashed.is_file())
                    self.assertTrue(Path(f"{hashed}.gz").is_file())
            # The minified files end with a sourceMappingURL: it must point at the hashed map.
            chart = (Path(root) / manifest["vendor/chartjs-4.6.1/chart.umd.min.js"]).read_text()
            self.assertIn(
                manifest["vendor/chartjs-4.6.1/chart.umd.min.js.map"].split("/")[-1], chart
            )
            leaflet = (Path(root) / manifest["vendor/leaflet-1.9.4/leaflet.js"]).read_text()
            self.assertIn(manifest["vendor/leaflet-1.9.4/leaflet.js.map"].split("/")[-1], leaflet)

    def test_templates_name_static_files(self) -> None:
        # Guards the test above against a template pattern it no longer finds.
        self.assertIn("vendor/leaflet-1.9.4/leaflet.js", names_in_templates())
        self.assertIn("vendor/chartjs-4.6.1/chart.umd.min.js", names_in_templates())
