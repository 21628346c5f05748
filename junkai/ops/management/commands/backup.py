"""`junkai backup DIR`: a backup of the database with its manifest, in DIR/<timestamp>/.
Run daily (junkai-backup.timer); check it with `junkai restore-check DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from junkai.ops.backup import BackupError, make_backup
from junkai.ops.jobs import scheduled_job


class Command(BaseCommand):
    help = "データベースをバックアップします（DIR/<日時>/ にダンプと manifest.json）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", help="バックアップを置くディレクトリ")

    @scheduled_job("backup")
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = make_backup(Path(options["directory"]))
        except (BackupError, OSError) as error:
            raise CommandError(f"バックアップに失敗しました: {error}") from error
        manifest = result.manifest
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"バックアップしました: {result.path}（{len(manifest['tables'])} 表 {rows:,} 行、"
            f"監査記録の先頭 {manifest['audit_head'] or 'なし'}）"
        )
