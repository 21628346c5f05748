"""/healthz and /readyz: anonymous, no personal data, plain HTTP allowed, 503 when not ready."""

from __future__ import annotations

import tempfile
from unittest import mock

from django.conf import settings
from django.db import OperationalError
from django.db.migrations.executor import MigrationExecutor
from django.test import TestCase, override_settings

from junkai.serving import health

PRODUCTION_STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


class HealthTests(TestCase):
    def setUp(self) -> None:
        health._migrations_applied = False

    def test_healthz_answers_without_the_database(self) -> None:
        with self.assertNumQueries(0):
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok"})
        self.assertIn("no-cache", response["Cache-Control"])

    def test_readyz_checks_database_migrations_and_static(self) -> None:
        response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json(),
            {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "static": "ok"}},
        )
        # The migration files are read once per process, then only the database is asked.
        with self.assertNumQueries(1):
            self.assertEqual(self.client.get("/readyz").status_code, 200)

    def test_readyz_503_with_unapplied_migrations(self) -> None:
        plan = [(mock.Mock(), False)]
        with (
            mock.patch.object(MigrationExecutor, "migration_plan", return_value=plan),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["checks"]["migrations"], "pending")
        # Not remembered as applied: the next probe reads the plan again.
        self.assertFalse(health._migrations_applied)

    def test_readyz_503_when_the_database_does_not_answer(self) -> None:
        with (
            mock.patch(
                "django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError
            ),
            self.assertLogs("junkai.serving.health", "WARNING"),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(
            response.json(),
            {"status": "unavailable", "checks": {"database": "unavailable", "static": "ok"}},
        )

    def test_readyz_503_before_collectstatic_in_production(self) -> None:
        with (
            tempfile.TemporaryDirectory() as root,
            override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION_STORAGES),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["checks"]["static"], "missing")

    @override_settings(SECURE_SSL_REDIRECT=True)
    def test_probes_answer_plain_http_while_pages_redirect(self) -> None:
        self.assertEqual(self.client.get("/healthz").status_code, 200)
        self.assertEqual(self.client.get("/readyz").status_code, 200)
        response = self.client.get("/login/")
        self.assertEqual(response.status_code, 301)
        self.assertTrue(response["Location"].startswith("https://"))

    def test_only_get(self) -> None:
        self.assertEqual(self.client.post("/healthz").status_code, 405)
        self.assertEqual(self.client.post("/readyz").status_code, 405)
