"""Production smoke test, and the deployment files it relies on.

On PostgreSQL only (skipped on SQLite): a fresh database, `junkai migrate` and `junkai
collectstatic` with the production settings and secrets from files, a demo station with an
officer's TOTP device, then the systemd unit's own ExecStart (gunicorn with
deploy/gunicorn.conf.py) serving TLS with a self-signed certificate, and an officer over HTTPS:
sign-in with password and TOTP, the work list, a card PDF, the beat map and every script and
stylesheet it names, /healthz and /readyz. gunicorn is stopped and the database dropped always.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.test import SimpleTestCase
from django_otp.oath import totp
from psycopg import sql

REPO = Path(settings.BASE_DIR)
UNIT = REPO / "deploy" / "junkai.service"
NGINX = REPO / "deploy" / "nginx" / "junkai.conf"
#: Where docs/deploy.md installs the checkout; the tests read it as this checkout.
INSTALL_PREFIX = "/opt/junkai"
OFFICER = "officer1a"
PASSWORD = "junkai-demo"  # the demo station's (junkai.demo.organisation.DEMO_PASSWORD)
STEP_TIMEOUT = 300  # seconds for migrate, collectstatic, seeding
HTTP_TIMEOUT = 30


def unit_directive(name: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in UNIT.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{name}=")
    ]


def unit_command(prefix: Path) -> list[str]:
    """The unit's ExecStart, with the install prefix read as `prefix`."""
    [exec_start] = unit_directive("ExecStart")
    return [arg.replace(INSTALL_PREFIX, str(prefix)) for arg in shlex.split(exec_start)]


class DeployFilesTests(SimpleTestCase):
    def test_exec_start_is_gunicorn_with_the_repository_config(self) -> None:
        command = unit_command(REPO)
        self.assertEqual(
            command,
            [
                str(REPO / ".venv" / "bin" / "gunicorn"),
                "--config",
                str(REPO / "deploy" / "gunicorn.conf.py"),
            ],
        )
        self.assertTrue(Path(command[2]).is_file())

    def test_unit_is_hardened(self) -> None:
        for name, value in {
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "PrivateTmp": "yes",
            "ProtectHome": "yes",
            "ReadWritePaths": "/var/lib/junkai",
            "User": "junkai",
            "EnvironmentFile": "/etc/junkai/junkai.env",
        }.items():
            with self.subTest(name=name):
                self.assertEqual(unit_directive(name), [value])

    def test_systemd_analyze_verify(self) -> None:
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze がありません")
        with tempfile.TemporaryDirectory() as tmp:
            env_file = Path(tmp) / "junkai.env"
            env_file.write_text("JUNKAI_ENV=production\n")
            unit = Path(tmp) / "junkai.service"
            unit.write_text(
                UNIT.read_text(encoding="utf-8")
                .replace("/etc/junkai/junkai.env", str(env_file))
                .replace(INSTALL_PREFIX, str(REPO))
            )
            result = subprocess.run(
                [analyze, "verify", str(unit)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        # verify warns (exit 0) on an unknown key: any line about the unit is a failure.
        problems = [
            line for line in (result.stdout + result.stderr).splitlines() if "junkai" in line
        ]
        self.assertEqual((result.returncode, problems), (0, []))

    def test_nginx_takes_the_largest_upload(self) -> None:
        match = re.search(r"client_max_body_size\s+(\d+)m;", NGINX.read_text(encoding="utf-8"))
        assert match is not None
        # The 照会文書 upload (JUNKAI_AGENCY_DOCUMENT_MAX_BYTES) plus the form around it: a
        # bigger body would be refused by nginx with its own English page.
        limit = int(match.group(1)) * 1024 * 1024
        self.assertGreaterEqual(limit, settings.JUNKAI_AGENCY_DOCUMENT_MAX_BYTES + 1024 * 1024)
        self.assertLessEqual(limit, settings.JUNKAI_AGENCY_DOCUMENT_MAX_BYTES * 2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _database_url(params: dict[str, Any], name: str) -> str:
    user = urllib.parse.quote(params.get("USER") or "", safe="")
    password = urllib.parse.quote(params.get("PASSWORD") or "", safe="")
    host = urllib.parse.quote(params.get("HOST") or "", safe="")
    port = str(params.get("PORT") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{host}{':' + port if port else ''}/{name}"


@dataclass
class Page:
    status: int
    body: bytes
    headers: dict[str, str]
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """An officer's browser over HTTPS: cookies, the CSRF token, redirects followed."""

    def __init__(self, base: str, cafile: Path) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        context = ssl.create_default_context(cafile=str(cafile))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(self.jar),
        )
        # Django checks the Referer of an HTTPS POST against the host.
        self.opener.addheaders = [("Referer", f"{base}/")]

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 (https)

    def post(self, path: str, data: dict[str, str]) -> Page:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")  # noqa: S310
        return self._open(request)

    def csrf_token(self, page: Page) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match is not None, page.text[:500]
        return match.group(1)

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=HTTP_TIMEOUT) as response:
                return Page(response.status, response.read(), dict(response.headers), response.url)
        except urllib.error.HTTPError as error:
            return Page(error.code, error.read(), dict(error.headers), error.url)


class ProductionSmokeTests(SimpleTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("本番の確認は PostgreSQL でのみ行います")
        if shutil.which("openssl") is None:
            self.skipTest("openssl がありません")
        self.tmp = Path(tempfile.mkdtemp(prefix="junkai-smoke-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.params = dict(connection.settings_dict)
        self.db_name = f"{self.params['NAME']}_smoke"[:63]
        self._admin_sql("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._admin_sql("CREATE DATABASE {}")
        self.addCleanup(self._admin_sql, "DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def _admin_sql(self, statement: str, *, literal: bool = False) -> None:
        """`statement` with the smoke database's name in its {} (as a literal: a string)."""
        name = sql.Literal(self.db_name) if literal else sql.Identifier(self.db_name)
        with psycopg.connect(
            dbname="postgres",
            user=self.params.get("USER") or None,
            password=self.params.get("PASSWORD") or None,
            host=self.params.get("HOST") or None,
            port=self.params.get("PORT") or None,
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(sql.SQL(statement).format(name))

    def _environment(self, port: int) -> dict[str, str]:
        secret_key = self.tmp / "secret_key"
        audit_key = self.tmp / "audit_key"
        for path in (secret_key, audit_key):
            path.write_text(secrets.token_urlsafe(50))
            path.chmod(0o600)
        keep = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "PGHOST", "PGPORT", "PGUSER"}
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "junkai.settings",
                "JUNKAI_ENV": "production",
                "SECRET_KEY_FILE": str(secret_key),
                "JUNKAI_AUDIT_KEY_FILE": str(audit_key),
                "ALLOWED_HOSTS": "127.0.0.1",
                "DATABASE_URL": _database_url(self.params, self.db_name),
                "JUNKAI_VAR_DIR": str(self.tmp / "var"),
                "JUNKAI_BIND": f"127.0.0.1:{port}",
                "JUNKAI_WORKERS": "2",
                "JUNKAI_TLS_CERT": str(self.tmp / "cert.pem"),
                "JUNKAI_TLS_KEY": str(self.tmp / "key.pem"),
                "JUNKAI_LOG_LEVEL": "WARNING",
                # No tiles: the page must not depend on a server outside.
                "JUNKAI_MAP_TILES": "",
            }
        )
        return env

    def _run(self, args: list[str], env: dict[str, str]) -> str:
        junkai = str(Path(sys.executable).parent / "junkai")
        result = subprocess.run(
            [junkai, *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        self.assertEqual(result.returncode, 0, f"junkai {args[0]}: {result.stderr[-3000:]}")
        return result.stdout

    def _certificate(self) -> None:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", str(self.tmp / "key.pem"), "-out", str(self.tmp / "cert.pem"),
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ],
            capture_output=True,
            timeout=60,
            check=True,
        )  # fmt: skip

    def _start_server(self, env: dict[str, str], base: str) -> subprocess.Popen[bytes]:
        self.stdout = (self.tmp / "gunicorn.out").open("wb")
        self.stderr = (self.tmp / "gunicorn.err").open("wb")
        server = subprocess.Popen(
            unit_command(REPO),
            env=env,
            cwd=REPO,
            stdout=self.stdout,
            stderr=self.stderr,
            start_new_session=True,
        )
        self.server = server
        self.addCleanup(self._stop_server, server)
        probe = Browser(base, self.tmp / "cert.pem")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.assertIsNone(server.poll(), self._logs())
            try:
                if probe.get("/healthz").status == 200:
                    return server
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        self.fail(f"gunicorn did not answer within 60 s: {self._logs()}")

    def _stop_server(self, server: subprocess.Popen[bytes]) -> None:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        self.stdout.close()
        self.stderr.close()

    def _logs(self) -> str:
        out = (self.tmp / "gunicorn.out").read_text(errors="replace")
        err = (self.tmp / "gunicorn.err").read_text(errors="replace")
        return f"--- stdout\n{out[-3000:]}\n--- stderr\n{err[-3000:]}"

    def _database_out_of_reach(self, browser: Browser, household_id: str) -> None:
        """The database refusing connections (as while PostgreSQL restarts after a crash): the
        officer's page and the API answer 503 with Retry-After (DEBUG off, production
        settings), one JSON log line each; then the same workers serve again."""
        self._admin_sql("ALTER DATABASE {} ALLOW_CONNECTIONS false")
        try:
            self._admin_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = {} AND pid <> pg_backend_pid()",
                literal=True,
            )
            page = browser.get("/worklist/")
            self.assertEqual(page.status, 503, page.text[:500])
            self.assertEqual(page.headers["Retry-After"], "5")
            self.assertIn("ただいま処理できません", page.text)
            self.assertNotIn("サインアウト", page.text)
            api = browser.get(f"/api/v1/households/{household_id}")
            self.assertEqual(api.status, 503, api.text[:500])
            body = json.loads(api.body)
            self.assertEqual(set(body), {"detail", "errors"})
            self.assertIn("データベースに接続できません", body["detail"])
        finally:
            self._admin_sql("ALTER DATABASE {} ALLOW_CONNECTIONS true")
        self.assertEqual(browser.get("/worklist/").status, 200)
        logged = [
            json.loads(line)
            for line in (self.tmp / "gunicorn.err").read_text().splitlines()
            if line.startswith("{")
        ]
        events = [e for e in logged if e.get("logger") == "junkai.serving"]
        self.assertEqual(
            [(e["path"], e["status"], e["database"], e["retried"]) for e in events],
            [
                ("/worklist/", 503, "refused", True),
                (f"/api/v1/households/{household_id}", 503, "refused", True),
            ],
        )
        # One line each: no error line (Django's with its traceback) beside them.
        self.assertEqual([e for e in logged if e.get("level") == "ERROR"], [])

    def test_production_serves_an_officer_over_https(self) -> None:
        port = _free_port()
        env = self._environment(port)
        base = f"https://127.0.0.1:{port}"
        self._run(["migrate", "--no-input", "-v", "0"], env)
        self._run(["collectstatic", "--no-input", "-v", "0"], env)
        self._run(["check", "--deploy", "--fail-level", "WARNING"], env)
        self._run(["demo", "--households", "200"], env)
        key = secrets.token_hex(20)
        self._run(
            [
                "shell",
                "-c",
                "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
                "from junkai.org.models import Officer\n"
                f"TOTPDevice.objects.create(user=Officer.objects.get(username={OFFICER!r}),"
                f" name='Junkai', key={key!r}, confirmed=True)",
            ],
            env,
        )
        self._certificate()
        self._start_server(env, base)
        browser = Browser(base, self.tmp / "cert.pem")

        health = browser.get("/healthz")
        self.assertEqual((health.status, json.loads(health.body)), (200, {"status": "ok"}))
        ready = browser.get("/readyz")
        self.assertEqual(ready.status, 200, ready.text)
        self.assertEqual(json.loads(ready.body)["status"], "ok")

        # Sign in: password, then the TOTP code.
        sign_in = browser.get("/login/")
        self.assertEqual(sign_in.status, 200)
        self.assertIn("max-age=31536000", sign_in.headers["Strict-Transport-Security"])
        mfa = browser.post(
            "/login/",
            {
                "csrfmiddlewaretoken": browser.csrf_token(sign_in),
                "username": OFFICER,
                "password": PASSWORD,
            },
        )
        self.assertEqual((mfa.status, urllib.parse.urlparse(mfa.url).path), (200, "/mfa/"))
        code = f"{totp(bytes.fromhex(key)):06d}"
        home = browser.post(
            "/mfa/", {"csrfmiddlewaretoken": browser.csrf_token(mfa), "token": code}
        )
        # A beat officer lands on his 巡回予定 (work list).
        self.assertEqual((home.status, urllib.parse.urlparse(home.url).path), (200, "/worklist/"))
        self.assertIn("サインアウト", home.text)

        worklist = browser.get("/worklist/")
        self.assertEqual(worklist.status, 200)
        beats = browser.get("/beats/")
        beat_id = re.search(r'href="/beats/(\d+)/', beats.text)
        assert beat_id is not None, beats.text[:1000]
        households = re.search(r'href="/households/(\d+)/"', worklist.text) or re.search(
            r'href="/households/(\d+)/"', browser.get(f"/beats/{beat_id[1]}/households/").text
        )
        assert households is not None
        card = browser.get(f"/api/v1/households/{households[1]}/card.pdf")
        self.assertEqual(card.status, 200, card.text[:500])
        self.assertTrue(card.body.startswith(b"%PDF"))

        beat_map = browser.get(f"/beats/{beat_id[1]}/map/")
        self.assertEqual(beat_map.status, 200)
        assets = re.findall(r'<script[^>]+src="([^"]+)"', beat_map.text) + re.findall(
            r'<link[^>]+href="([^"]+)"', beat_map.text
        )
        # Police networks are closed: every script and stylesheet comes from this server.
        self.assertEqual([a for a in assets if not a.startswith("/static/")], [])
        self.assertGreaterEqual(len(assets), 4, assets)
        for asset in assets:
            with self.subTest(asset=asset):
                fetched = browser.get(asset)
                self.assertEqual(fetched.status, 200)
                self.assertGreater(len(fetched.body), 0)
                # collectstatic's hashed names, cached for good by WhiteNoise.
                self.assertRegex(asset, r"\.[0-9a-f]{12}\.(js|css)$")
                self.assertIn("immutable", fetched.headers["Cache-Control"])

        self._database_out_of_reach(browser, households[1])

        # The access log: JSON lines, the officer named by id, no query string, no secret.
        self._stop_server(self.server)
        access = [
            json.loads(line)
            for line in (self.tmp / "gunicorn.out").read_text().splitlines()
            if line.strip()
        ]
        paths = {entry["path"] for entry in access}
        self.assertIn("/worklist/", paths)
        self.assertFalse([p for p in paths if "?" in p])
        worklist_line = next(e for e in access if e["path"] == "/worklist/")
        self.assertIsNotNone(worklist_line["officer_id"])
        self.assertRegex(worklist_line["request_id"], r"^[0-9a-f]{32}$")
        everything = self._logs()
        self.assertNotIn(PASSWORD, everything)
