"""`junkai backup DIR` and `junkai restore-check DIR`.

A backup is DIR/<UTC timestamp>/ with the database (PostgreSQL: `pg_dump --format=custom`;
SQLite: the online backup API) and manifest.json: what a restore must reproduce — the
migrations applied, the rows of every table, the audit chain's head (SEQ:HASH) and each file's
sha256. All of it is read in the same snapshot as the dump (PostgreSQL: an exported snapshot
that pg_dump joins; SQLite: read from the copy).

A restore check restores the newest backup into a scratch database, compares its row counts
with the manifest, runs the migrations on it and verifies the audit chain up to the manifest's
head with `audit-verify --anchor`, then drops it. A backup is only real once this has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from junkai.audit.models import AuditEvent, AuditSeal

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PG_DUMP_FILE = "junkai.dump"
SQLITE_FILE = "junkai.sqlite3"


class BackupError(Exception):
    """A backup or a restore check that failed; the message names the first difference."""


# ---------------------------------------------------------------- what a database holds


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        )
    return [row[0] for row in cursor.fetchall()]


def _row_counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        # Table names come from the catalogue, quoted as identifiers.
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _migration_heads(cursor: Any) -> dict[str, str]:
    """The latest migration applied per app (names are numbered, so the greatest is the last)."""
    cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    return {app: name for app, name in cursor.fetchall()}


def _audit_head(cursor: Any) -> str | None:
    """The chain's head `SEQ:HASH` as the snapshot holds it: the last seal, or (before any
    event was sealed) the last event of seal 0, the chain kept on the events themselves."""
    seals = _quote(AuditSeal._meta.db_table)
    cursor.execute(f"SELECT seal_seq, row_hash FROM {seals} ORDER BY seal_seq DESC LIMIT 1")  # noqa: S608
    row = cursor.fetchone()
    if row is None:
        table = _quote(AuditEvent._meta.db_table)
        cursor.execute(
            f"SELECT seq, row_hash FROM {table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"  # noqa: S608
        )
        row = cursor.fetchone()
    return f"{row[0]}:{row[1]}" if row else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- PostgreSQL connection


def _pg_settings() -> dict[str, Any]:
    return dict(connections[DEFAULT_DB_ALIAS].settings_dict)


def _pg_env(db: dict[str, Any], dbname: str | None = None) -> dict[str, str]:
    """libpq's environment for pg_dump, pg_restore and child processes (no password on a
    command line, where `ps` would show it)."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    env["PGDATABASE"] = dbname or str(db["NAME"])
    return env


def _pg_connect(db: dict[str, Any], dbname: str | None = None, autocommit: bool = False) -> Any:
    import psycopg

    params = {
        "dbname": dbname or db["NAME"],
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v})
    return psycopg.connect(conninfo, autocommit=autocommit)


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    # Fixed programs (pg_dump, pg_restore) with paths this module built.
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what}に失敗しました: {detail[-1] if detail else result.returncode}")


# ---------------------------------------------------------------- backup


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def _write_manifest(target: Path, manifest: dict[str, Any]) -> None:
    tmp = target / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    tmp.replace(target / MANIFEST)


def _backup_postgresql(target: Path) -> dict[str, Any]:
    db = _pg_settings()
    with _pg_connect(db) as conn, conn.cursor() as cursor:
        # One snapshot for the dump and for what the manifest says of it.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target / PG_DUMP_FILE}",
            ],
            _pg_env(db),
            "pg_dump",
        )
        tables = _table_names(cursor, "postgresql")
        facts = {
            "engine": "postgresql",
            "database": db["NAME"],
            "server_version": conn.info.server_version,
            "migrations": _migration_heads(cursor),
            "tables": _row_counts(cursor, tables),
            "audit_head": _audit_head(cursor),
        }
    return facts


def _backup_sqlite(target: Path) -> dict[str, Any]:
    source = connections[DEFAULT_DB_ALIAS]
    source.ensure_connection()
    copy = target / SQLITE_FILE
    destination = sqlite3.connect(copy)
    try:
        source.connection.backup(destination)  # the online backup API: a consistent copy
    finally:
        destination.close()
    reader = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        cursor = reader.cursor()
        tables = _table_names(cursor, "sqlite")
        return {
            "engine": "sqlite",
            "database": str(source.settings_dict["NAME"]),
            "migrations": _migration_heads(cursor),
            "tables": _row_counts(cursor, tables),
            "audit_head": _audit_head(cursor),
        }
    finally:
        reader.close()


def make_backup(directory: Path, *, now: dt.datetime | None = None) -> BackupResult:
    """DIR/<timestamp>/: written under a .partial name and renamed when complete, so a restore
    check never takes a half-written backup for the newest."""
    now = now or dt.datetime.now(dt.UTC)
    name = now.strftime(STAMP)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f"{name}.partial"
    partial.mkdir(mode=0o700)
    try:
        vendor = connections[DEFAULT_DB_ALIAS].vendor
        if vendor == "postgresql":
            facts = _backup_postgresql(partial)
        elif vendor == "sqlite":
            facts = _backup_sqlite(partial)
        else:
            raise BackupError(f"{vendor} のバックアップには対応していません")
        files = {
            path.name: {"sha256": _sha256(path), "size": path.stat().st_size}
            for path in sorted(partial.iterdir())
        }
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": now.isoformat(timespec="seconds"),
            **facts,
            "files": files,
        }
        _write_manifest(partial, manifest)
        final = directory / name
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(final, manifest)


# ---------------------------------------------------------------- pruning

STAMP = "%Y%m%dT%H%M%SZ"


def _stamp_of(path: Path) -> dt.datetime | None:
    """When a backup directory was made, from its name (what make_backup wrote), else None:
    pruning never touches anything it did not make."""
    name = path.name.removesuffix(".partial")
    try:
        return dt.datetime.strptime(name, STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def prune_backups(
    directory: Path, *, keep_days: int, keep_min: int, now: dt.datetime | None = None
) -> list[Path]:
    """Remove complete backups older than `keep_days`, always keeping the newest `keep_min`
    of them (a timer that stopped for weeks must not leave none), and leftovers of a backup
    that was killed (`.partial`) older than a day. Run after a backup succeeded, never after
    one failed. Returns what it removed."""
    now = now or dt.datetime.now(dt.UTC)
    complete: list[tuple[dt.datetime, Path]] = []
    removed: list[Path] = []
    for path in sorted(directory.iterdir()) if directory.is_dir() else []:
        made = _stamp_of(path)
        if made is None or not path.is_dir():
            continue
        if path.name.endswith(".partial"):
            if now - made > dt.timedelta(days=1):
                shutil.rmtree(path)
                removed.append(path)
        elif (path / MANIFEST).is_file():
            complete.append((made, path))
    complete.sort()
    for made, path in complete[: max(len(complete) - keep_min, 0)]:
        if now - made > dt.timedelta(days=keep_days):
            shutil.rmtree(path)
            removed.append(path)
    return removed


# ---------------------------------------------------------------- restore check


def find_backup(directory: Path) -> Path:
    """DIR itself when it is one backup, else its newest complete backup."""
    if (directory / MANIFEST).is_file():
        return directory
    candidates = (
        sorted(p for p in directory.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
        if directory.is_dir()
        else []
    )
    if not candidates:
        raise BackupError(f"{directory} にバックアップ（{MANIFEST}）がありません")
    return candidates[-1]


def _child_env(database_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(base or os.environ)
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = "junkai.settings"
    # The chain's HMAC key as this process has it (it may be derived from SECRET_KEY).
    env["JUNKAI_AUDIT_KEY"] = settings.JUNKAI_AUDIT_KEY
    env["SECRET_KEY"] = settings.SECRET_KEY
    return env


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (this Python, Django's own commands)
        [sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True
    )


@contextmanager
def _restored_postgresql(backup: Path) -> Iterator[tuple[Callable[[], Any], dict[str, str]]]:
    db = _pg_settings()
    suffix = f"_restorecheck_{os.getpid()}"
    scratch = str(db["NAME"])[: 63 - len(suffix)] + suffix
    with _pg_connect(db, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {_quote(scratch)}")
        admin.execute(f"CREATE DATABASE {_quote(scratch)} TEMPLATE template0 ENCODING 'UTF8'")
    try:
        env = _pg_env(db, scratch)
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={scratch}",
                str(backup / PG_DUMP_FILE),
            ],
            env,
            "pg_restore",
        )
        yield (lambda: _pg_connect(db, scratch)), _child_env(f"postgres:///{scratch}", env)
    finally:
        with _pg_connect(db, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {_quote(scratch)} WITH (FORCE)")


@contextmanager
def _restored_sqlite(backup: Path) -> Iterator[tuple[Callable[[], Any], dict[str, str]]]:
    with tempfile.TemporaryDirectory(prefix="junkai-restorecheck-") as tmp:
        copy = Path(tmp) / "restored.sqlite3"
        shutil.copyfile(backup / SQLITE_FILE, copy)
        yield (lambda: sqlite3.connect(copy)), _child_env(f"sqlite:///{copy}")


@dataclass(frozen=True)
class CheckResult:
    backup: Path
    tables: int
    rows: int
    audit_summary: str


def restore_check(directory: Path, progress: Callable[[str], None] = lambda _: None) -> CheckResult:
    backup = find_backup(directory)
    try:
        manifest = json.loads((backup / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{backup / MANIFEST} を読めません: {error}") from error
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"manifest の形式 {manifest.get('format')} には対応していません")

    # 1. The files are the ones the backup wrote.
    for name, info in manifest["files"].items():
        path = backup / name
        if not path.is_file():
            raise BackupError(f"チェックサム: {name} がありません")
        if _sha256(path) != info["sha256"]:
            raise BackupError(
                f"チェックサムが一致しません: {name}（バックアップ後に変更されています）"
            )
    progress(f"チェックサム: {len(manifest['files'])} ファイル一致")

    engine = manifest["engine"]
    if engine != connections[DEFAULT_DB_ALIAS].vendor:
        raise BackupError(
            f"このバックアップは {engine} のものです。同じ種類のデータベースの設定で確認してください"
        )
    restored = _restored_postgresql if engine == "postgresql" else _restored_sqlite
    with restored(backup) as (connect, env):
        progress("復元しました")
        # 2. Every table has the rows the manifest counted (before migrate changes anything).
        conn = connect()
        try:
            cursor = conn.cursor()
            present = set(_table_names(cursor, engine))
            for table, expected in sorted(manifest["tables"].items()):
                if table not in present:
                    raise BackupError(f"件数: 表 {table} が復元されていません")
                # Listed by the catalogue just above (present), quoted as an identifier.
                cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608
                actual = int(cursor.fetchone()[0])
                if actual != expected:
                    raise BackupError(
                        f"件数が一致しません: 表 {table}（控え {expected:,} 件、復元 {actual:,} 件）"
                    )
            heads = _migration_heads(cursor)
            if heads != manifest["migrations"]:
                app = next(
                    a
                    for a in sorted(set(heads) | set(manifest["migrations"]))
                    if heads.get(a) != manifest["migrations"].get(a)
                )
                raise BackupError(
                    f"マイグレーションが一致しません: {app}（控え "
                    f"{manifest['migrations'].get(app)}、復元 {heads.get(app)}）"
                )
        finally:
            conn.close()
        rows = sum(manifest["tables"].values())
        progress(f"件数: {len(manifest['tables'])} 表 {rows:,} 行一致")
        # 3. This version's migrations apply to it.
        migrate = _manage(["migrate", "--no-input"], env)
        if migrate.returncode != 0:
            lines = (migrate.stderr or migrate.stdout).strip().splitlines()
            raise BackupError(f"マイグレーションに失敗しました: {lines[-1] if lines else ''}")
        progress("マイグレーション: 適用できました")
        # 4. The audit chain holds, up to the head recorded at backup time.
        anchor = manifest.get("audit_head")
        verify = _manage(["audit_verify", *(["--anchor", anchor] if anchor else [])], env)
        if verify.returncode != 0:
            lines = (verify.stderr or verify.stdout).strip().splitlines()
            detail = lines[-1].removeprefix("CommandError: ") if lines else ""
            raise BackupError(f"監査記録のチェーンが不正です: {detail}")
        audit_summary = verify.stdout.strip().splitlines()[0] if verify.stdout.strip() else ""
        progress(f"監査記録: {audit_summary}")
    return CheckResult(backup, len(manifest["tables"]), rows, audit_summary)
