"""`junkai import-officers FILE --passwords OUT`: officers and their assignments from a CSV or
Excel file, all or nothing, each with an issued password written to OUT (format:
docs/import-org.md)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from junkai.lib.tables import problems_reported
from junkai.org.importing import import_officers, issued_password_rows


class Command(BaseCommand):
    help = (
        "職員とその配置をCSV（UTF-8）またはExcelファイルから登録します（全件か無か）。"
        "初期パスワードは --passwords のファイルに書き出します"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="職員のファイル（.csv または .xlsx）")
        parser.add_argument(
            "--passwords",
            help="初期パスワードを書き出す新しいファイル（所有者のみ読める。既にあれば中止）",
        )
        parser.add_argument("--check", action="store_true", help="確かめるだけで何も書き込みません")

    def handle(self, *args: Any, **options: Any) -> None:
        check = options["check"]
        out = Path(options["passwords"]) if options["passwords"] else None
        if not check:
            if out is None:
                raise CommandError(
                    "--passwords で初期パスワードを書き出すファイルを指定してください"
                )
            if out.exists():
                raise CommandError(f"{out} は既にあります。別のファイル名を指定してください")
            if not out.parent.is_dir():
                raise CommandError(f"{out.parent} というディレクトリはありません")
        path = Path(options["file"])
        with problems_reported(self.stderr, path.name):
            result = import_officers(path, check_only=check)
        if check:
            self.stdout.write(
                f"職員 {result.officers} 名を登録できます（--check: 何も書き込んでいません）"
            )
            return
        assert out is not None
        # Only the owner reads it; it is created, never overwritten (O_EXCL).
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as file:
            csv.writer(file).writerows(issued_password_rows(result))
        self.stdout.write(
            f"職員 {result.officers} 名と配置 {result.assignments} 件を登録しました。"
            f"初期パスワードは {out} にあります（各職員に手渡し、その後ファイルを消去してください。"
            "初回サインイン時に変更が求められます）"
        )
