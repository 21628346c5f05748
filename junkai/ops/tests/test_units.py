"""deploy/systemd: a service and a timer for every periodic job, each valid for systemd."""

from __future__ import annotations

import shutil
import subprocess
import unittest
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

from junkai.ops.jobs import JOBS

UNITS = Path(settings.BASE_DIR) / "deploy" / "systemd"


class UnitTests(SimpleTestCase):
    def test_every_job_has_a_oneshot_service_and_a_timer(self) -> None:
        for name in JOBS:
            with self.subTest(name):
                service = (UNITS / f"junkai-{name}.service").read_text()
                self.assertIn("Type=oneshot", service)
                self.assertIn("User=junkai", service)
                self.assertIn("EnvironmentFile=/etc/junkai/junkai.env", service)
                self.assertIn(f"ExecStart=/opt/junkai/.venv/bin/junkai {name}", service)
                timer = (UNITS / f"junkai-{name}.timer").read_text()
                self.assertIn("OnCalendar=", timer)
                self.assertIn(f"Unit=junkai-{name}.service", timer)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_systemd_analyze_verify_accepts_the_units(self) -> None:
        script = Path(settings.BASE_DIR) / "scripts" / "verify-units.sh"
        result = subprocess.run([script], capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
