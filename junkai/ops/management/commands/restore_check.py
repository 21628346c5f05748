"""`junkai restore-check DIR`: restore the newest backup in DIR (or DIR itself) into a scratch
database and check it against its manifest: checksums, row counts, migrations, audit chain.
Exit 0 with a summary; exit 1 naming the first difference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from junkai.ops.backup import BackupError, restore_check
from junkai.ops.jobs import scheduled_job


class Command(BaseCommand):
    help = "バックアップを一時データベースへ復元し、件数・マイグレーション・監査記録を確かめます"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory", metavar="DIR", help="バックアップ（またはその置き場所: 最新を確認）"
        )

    @scheduled_job("restore-check")
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore_check(
                Path(options["directory"]), progress=lambda line: self.stdout.write(f"  {line}")
            )
        except (BackupError, OSError) as error:
            raise CommandError(f"NG: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {result.backup} を復元して確認しました（{result.tables} 表 "
                f"{result.rows:,} 行、{result.audit_summary}）"
            )
        )
