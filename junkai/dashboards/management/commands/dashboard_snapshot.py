"""`junkai dashboard-snapshot`: run on the 1st of each month (cron/systemd timer). Stores each
beat's coverage and 把握 at the end of the month just ended, for the trends of the dashboards;
running it again replaces that month's figures. `--month 2026-05` backfills an older month
(an approximation: see junkai.dashboards.figures.snapshot_rows)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from junkai.dashboards.actions import do_take_month_snapshot
from junkai.lib.months import month_label, parse_month, previous_month
from junkai.ops.jobs import scheduled_job


class Command(BaseCommand):
    help = "前月末の受持区ごとの実施率・把握率を保存します（進捗状況の推移。再実行で置き換え）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="対象月（例: 2026-05）。省略時は前月")

    @scheduled_job("dashboard-snapshot")
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["month"]:
                month = parse_month(options["month"])
            else:
                month = previous_month(timezone.localdate())
            beats = do_take_month_snapshot(month)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{month_label(month)}末の集計を {beats} 受持区分保存しました。")
