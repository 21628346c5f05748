"""`junkai backup` and `junkai restore-check` through the commands, on whichever database the
suite runs (./test.sh: SQLite, then PostgreSQL): a good backup passes; a tampered dump, a count
changed in the manifest and an audit row changed before the backup each fail, naming it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from io import StringIO
from pathlib import Path
from unittest import mock

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from junkai.audit.chain import verify
from junkai.audit.models import AuditEvent
from junkai.demo.organisation import build_demo
from junkai.households.models import Household
from junkai.ops.backup import MANIFEST, STAMP
from junkai.ops.models import JobRun, JobStatus
from junkai.testing import JunkaiTransactionTestCase, build_sample_households


def _set_purpose(event_id: int, purpose: str) -> None:
    """Rewrite an audit row behind the application's back. On PostgreSQL the append-only
    trigger refuses UPDATE: a superuser going around it is the tampering the check is for."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE audit_auditevent SET purpose = %s WHERE id = %s", [purpose, event_id]
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


class BackupRestoreTests(JunkaiTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dir = Path(tempfile.mkdtemp(prefix="junkai-backup-test-"))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def backup(self, *, build: bool = True) -> Path:
        if build:
            build_sample_households(build_demo())  # a small station: cards, audit events
        out = StringIO()
        call_command("backup", str(self.dir), stdout=out)
        self.assertIn("バックアップしました", out.getvalue())
        (made,) = [p for p in self.dir.iterdir() if p.is_dir()]
        return made

    def restore_check(self, path: Path | None = None) -> str:
        out = StringIO()
        call_command("restore_check", str(path or self.dir), stdout=out)
        return out.getvalue()

    def test_a_good_backup_restores_and_checks(self) -> None:
        made = self.backup()
        manifest = json.loads((made / MANIFEST).read_text())
        self.assertEqual(manifest["format"], 1)
        self.assertEqual(manifest["engine"], connection.vendor)
        self.assertEqual(manifest["tables"][Household._meta.db_table], Household.objects.count())
        head = verify()
        self.assertEqual(manifest["audit_head"], f"{head.head_seq}:{head.head_hash}")
        self.assertIn("ops", manifest["migrations"])
        for name, info in manifest["files"].items():
            self.assertEqual(len(info["sha256"]), 64, name)
        out = self.restore_check()
        self.assertIn("OK:", out)
        self.assertIn(f"{head.head_seq} 件の監査記録を検証しました", out)
        # Both ran as scheduled jobs, recorded.
        self.assertEqual(
            set(JobRun.objects.filter(status=JobStatus.OK).values_list("job", flat=True)),
            {"backup", "restore-check"},
        )

    def test_a_tampered_dump_or_a_changed_count_fails_naming_it(self) -> None:
        made = self.backup()
        # The dump changed after the backup: its checksum says so.
        dump = self.dir / "dump"
        shutil.copytree(made, dump)
        (name,) = json.loads((dump / MANIFEST).read_text())["files"]
        data = bytearray((dump / name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (dump / name).write_bytes(bytes(data))
        with self.assertRaisesMessage(CommandError, f"チェックサムが一致しません: {name}"):
            self.restore_check(dump)
        self.assertEqual(JobRun.objects.get(job="restore-check").status, JobStatus.FAILED)
        # The manifest counts one household more than the dump holds.
        count = self.dir / "count"
        shutil.copytree(made, count)
        manifest = json.loads((count / MANIFEST).read_text())
        table = Household._meta.db_table
        manifest["tables"][table] += 1
        (count / MANIFEST).write_text(json.dumps(manifest))
        with self.assertRaisesMessage(CommandError, f"件数が一致しません: 表 {table}"):
            self.restore_check(count)

    def test_a_changed_audit_row_fails_the_chain(self) -> None:
        build_sample_households(build_demo())
        event = AuditEvent.objects.order_by("id")[1]
        _set_purpose(event.id, "改ざん")
        self.addCleanup(_set_purpose, event.id, event.purpose)
        self.backup(build=False)
        with self.assertRaisesMessage(
            CommandError, f"(id {event.id}) が不正です: 記録の内容がハッシュと一致しません"
        ):
            self.restore_check()

    def test_old_backups_are_pruned_after_a_new_one_keeping_the_newest(self) -> None:
        now = dt.datetime.now(dt.UTC)

        def old(days: float, suffix: str = "", manifest: bool = True) -> Path:
            path = self.dir / ((now - dt.timedelta(days=days)).strftime(STAMP) + suffix)
            path.mkdir()
            if manifest:
                (path / MANIFEST).write_text("{}")
            return path

        very_old, old_36, recent = old(40), old(36), old(20)
        killed, running = old(2, ".partial", False), old(0.05, ".partial", False)
        notes = self.dir / "notes"
        notes.mkdir()
        out = StringIO()
        # With the newest 5 kept, nothing complete goes; the killed leftover does.
        call_command("backup", str(self.dir), "--keep-days", "35", "--keep-min", "5", stdout=out)
        self.assertTrue(very_old.exists() and old_36.exists() and recent.exists())
        self.assertFalse(killed.exists())
        self.assertIn(f"古いバックアップを消去しました: {killed}", out.getvalue())
        # With the newest 2 kept, those over 35 days go; what it did not make stays.
        time.sleep(1.1)  # a backup is named by its second
        call_command("backup", str(self.dir), "--keep-days", "35", "--keep-min", "2", stdout=out)
        self.assertFalse(very_old.exists() or old_36.exists())
        self.assertTrue(recent.exists() and running.exists() and notes.exists())
        made = [p for p in self.dir.iterdir() if (p / MANIFEST).is_file()]
        self.assertEqual(len(made), 3)  # the 20-day one and the two just made
        # A failed backup prunes nothing.
        full = mock.patch("junkai.ops.backup._write_manifest", side_effect=OSError("disk full"))
        with full, self.assertRaisesMessage(CommandError, "disk full"):
            call_command("backup", str(self.dir), "--keep-days", "1", "--keep-min", "1")
        self.assertTrue(recent.exists())

    def test_no_backup_in_the_directory_is_an_error(self) -> None:
        with self.assertRaisesMessage(CommandError, "バックアップ（manifest.json）がありません"):
            self.restore_check()
