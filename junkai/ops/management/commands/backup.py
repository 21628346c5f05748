"""`junkai backup DIR`: a backup of the database with its manifest, in DIR/<timestamp>/.
Run daily (junkai-backup.timer); check it with `junkai restore-check DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from junkai.ops.backup import BackupError, make_backup, prune_backups
from junkai.ops.jobs import scheduled_job


class Command(BaseCommand):
    help = "データベースをバックアップします（DIR/<日時>/ にダンプと manifest.json）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", help="バックアップを置くディレクトリ")
        parser.add_argument(
            "--keep-days",
            type=int,
            default=settings.JUNKAI_BACKUP_KEEP_DAYS,
            help="この日数より古いバックアップを、新しいバックアップができたあとに消去します"
            "（0: 消去しない）",
        )
        parser.add_argument(
            "--keep-min",
            type=int,
            default=7,
            help="日数にかかわらず残す、新しいほうからのバックアップの数",
        )

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
        if options["keep_days"] > 0:
            removed = prune_backups(
                Path(options["directory"]),
                keep_days=options["keep_days"],
                keep_min=max(options["keep_min"], 1),
            )
            for path in removed:
                self.stdout.write(f"古いバックアップを消去しました: {path}")
