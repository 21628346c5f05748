"""`junkai import-households FILE --post CODE`: households from a CSV or Excel file, all or
nothing (format: docs/import-format.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from junkai.households.bulk import tqdm_progress
from junkai.households.importing import import_households
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.tables import problems_reported
from junkai.org.models import Officer, Post


def find_post(code: str, station: str | None) -> Post:
    posts = Post.objects.select_related("station")
    if code.isdigit() and station is None:
        found = posts.filter(id=int(code)).first()
        if found is not None:
            return found
    matches = posts.filter(code=code)
    if station is not None:
        matches = matches.filter(station__code=station)
    found_posts = list(matches[:2])
    if not found_posts:
        raise CommandError(f"交番等「{code}」が見つかりません")
    if len(found_posts) > 1:
        raise CommandError(
            f"交番等コード「{code}」は複数の警察署にあります。--station で警察署コードを指定してください"
        )
    return found_posts[0]


def find_officer(username: str | None) -> Officer | None:
    if not username:
        return None
    officer = Officer.objects.filter(username=username, is_active=True).first()
    if officer is None:
        raise CommandError(f"職員「{username}」が見つかりません")
    return officer


class Command(BaseCommand):
    help = (
        "世帯・巡回連絡カードをCSV（UTF-8）またはExcelファイルから一括で取り込みます（全件か無か）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="取り込むファイル（.csv または .xlsx）")
        parser.add_argument("--post", required=True, help="交番等のコードまたはID")
        parser.add_argument("--station", help="警察署コード（交番等コードが複数の署にあるとき）")
        parser.add_argument(
            "--officer", help="取込を行う職員のログインID（この職員の書込み権限を確かめます）"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="確かめるだけで書き込みません（誤りの一覧、または取り込める件数を表示）",
        )
        parser.add_argument(
            "--accepted-by",
            help="カードを受理した職員のログインID（受理者ID列が空の行に使います。既定は --officer）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"ファイル「{path}」がありません")
        post = find_post(options["post"], options["station"])
        officer = find_officer(options["officer"])
        accepted_by = find_officer(options["accepted_by"]) or officer
        try:
            with (
                problems_reported(self.stderr, path.name),
                tqdm_progress(
                    sys.stderr, disable=True if options["verbosity"] == 0 else None
                ) as progress,
            ):
                result = import_households(
                    path,
                    post=post,
                    acting_officer=officer,
                    accepted_by=accepted_by,
                    progress=progress,
                    check_only=options["check"],
                )
        except PermissionDeniedError as exc:
            raise CommandError(f"{exc}（{post.name}）") from exc
        done = (
            "取り込めます（--check のため書き込んでいません）"
            if options["check"]
            else "取り込みました"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{post.station.name} {post.name}: 世帯 {result.households:,}、"
                f"カード {result.cards:,}、世帯員 {result.residents:,}、"
                f"アパート等（新規） {result.buildings:,} を{done}（{result.seconds:.1f} 秒）"
            )
        )
