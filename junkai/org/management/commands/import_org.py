"""`junkai import-org FILE`: stations, 交番等 and beats from a CSV or Excel file, all or nothing
(format: docs/import-org.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from junkai.lib.tables import problems_reported
from junkai.org.importing import import_org


class Command(BaseCommand):
    help = "警察署・交番等・受持区をCSV（UTF-8）またはExcelファイルから登録します（全件か無か）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="組織のファイル（.csv または .xlsx）")
        parser.add_argument("--check", action="store_true", help="確かめるだけで何も書き込みません")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        with problems_reported(self.stderr, path.name):
            result = import_org(path, check_only=options["check"])
        done = (
            "登録できます（--check: 何も書き込んでいません）"
            if options["check"]
            else "登録しました"
        )
        self.stdout.write(
            f"警察署 {result.stations}、交番等 {result.posts}、受持区 {result.beats} を{done}"
        )
