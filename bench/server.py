"""What the HTTP benchmarks share: Junkai under gunicorn with the production settings on
127.0.0.1 (as the smoke test runs it, behind where nginx would be), a private PostgreSQL cluster
under var/ for the crash test, and a keep-alive HTTP client.

The servers are started here and stopped here, by the process ids this module started; nothing
else on the machine is touched. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var" / "bench"
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def production_env(database_url: str, *, secret_key: str | None = None) -> dict[str, str]:
    """The production settings (JUNKAI_ENV=production), for this process and the server alike:
    the same SECRET_KEY on both sides, since tokens and the audit key derive from it."""
    return {
        "JUNKAI_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "junkai.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "JUNKAI_VAR_DIR": str(VAR / "app"),
        "JUNKAI_LOG_LEVEL": "WARNING",
        "JUNKAI_GUNICORN_LOG_LEVEL": "warning",
    }


def use_env(env: dict[str, str]) -> None:
    """Set up Django in this process with `env` (call before django.setup)."""
    os.environ.update(env)
    (VAR / "app" / "static").mkdir(parents=True, exist_ok=True)


class Http:
    """One keep-alive connection to the server, as a device or nginx would hold it. Speaks as
    nginx does to gunicorn: plain HTTP on 127.0.0.1 with X-Forwarded-Proto: https."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 30) -> None:
        self.port, self.timeout = port, timeout
        self.headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
        """(status, parsed JSON or raw bytes, seconds). Raises OSError/HTTPException when the
        connection breaks (a killed worker): the caller decides what an unanswered request
        means."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - t0
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        content: Any = raw
        if response.getheader("Content-Type", "").startswith("application/json"):
            content = json.loads(raw)
        return response.status, content, seconds

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Gunicorn:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        """The master's children (its workers), read from /proc."""
        pids: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids.extend(int(p) for p in children)
        return pids


def wait_until_up(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    client = Http(port, timeout=5)
    while time.monotonic() < deadline:
        try:
            status, _, _ = client.request("GET", "/healthz")
            if status == 200:
                client.close()
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /healthz on 127.0.0.1:{port}")


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int, name: str = "gunicorn") -> Iterator[Gunicorn]:
    """The unit's own command (gunicorn with deploy/gunicorn.conf.py) on a free loopback port,
    stopped (TERM, then KILL) by its process id at the end."""
    VAR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = VAR / f"{name}.log"
    server_env = {
        **os.environ,
        **env,
        "JUNKAI_BIND": f"127.0.0.1:{port}",
        "JUNKAI_WORKERS": str(workers),
        # A benchmark must not see workers recycled mid-run for want of requests.
        "JUNKAI_MAX_REQUESTS": "1000000",
        "PYTHONPATH": str(REPO),
    }
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [str(GUNICORN), "--config", str(REPO / "deploy" / "gunicorn.conf.py")],
            cwd=REPO,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(port, process, log)
    try:
        wait_until_up(port)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# --- a private PostgreSQL cluster (crash test) -----------------------------------------------


@dataclass
class Cluster:
    """A PostgreSQL 15 cluster of our own under var/bench/, owned by postgres (initdb refuses
    root), on its own port and socket directory, trust authentication for local sockets only
    (no TCP). Started and stopped with pg_ctl; never the machine's shared cluster."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    def url(self, database: str) -> str:
        return (
            f"postgres://postgres@{str(self.socket_dir).replace('/', '%2F')}:{self.port}/{database}"
        )

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (initdb, pg_ctl, psql of PostgreSQL 15)
            ["runuser", "-u", "postgres", "--", *args],  # noqa: S607 (util-linux runuser)
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def init(self) -> None:
        if self.root.exists():
            self.stop()
            shutil.rmtree(self.root)
        self.socket_dir.mkdir(parents=True)
        self.data.mkdir(parents=True)
        shutil.chown(self.root, "postgres", "postgres")
        shutil.chown(self.socket_dir, "postgres", "postgres")
        shutil.chown(self.data, "postgres", "postgres")
        self.data.chmod(0o700)
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' "
            "-c shared_buffers=128MB -c max_connections=100 -c fsync=on"
        )
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "120",
            "-l", str(self.root / "postgres.log"), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                check=False,
            )  # fmt: skip

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._as_postgres(
            str(PG_BIN.parent / "bin" / "psql"), "-h", str(self.socket_dir), "-p",
            str(self.port), "-d", database, "-Atc", sql,
        ).stdout  # fmt: skip


def manage(env: dict[str, str], *args: str) -> None:
    """`junkai <args>` in a subprocess with `env` (migrations, seal, verify)."""
    subprocess.run(  # noqa: S603 (this checkout's manage.py)
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        check=True,
        timeout=1800,
    )
