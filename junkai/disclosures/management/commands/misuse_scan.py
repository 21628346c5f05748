"""`junkai misuse-scan [--since …] [--until …]`: raise misuse flags from the audit log.

Its timer runs it every 5 minutes: each run judges what committed since the last one (the
watermark in MisuseScanMark). `--since`/`--until` rescan a period instead (the watermark is
left alone); running it again over the same period raises nothing new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from junkai.disclosures.misuse import scan, thresholds
from junkai.lib.dates import start_of_day
from junkai.ops.jobs import scheduled_job


def _moment(text: str) -> dt.datetime:
    """'2026-06-10' (local midnight) or an ISO date-time (local time unless it has an offset)."""
    try:
        if len(text) == 10:
            return start_of_day(dt.date.fromisoformat(text))
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(
            f"日時は 2026-06-10 または 2026-06-10T09:00 の形式で指定してください: {text}"
        ) from error
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "監査記録から不適正利用の兆候（文脈のない閲覧・大量閲覧・勤務時間外の閲覧）を検出します"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            help="この日時以降の閲覧を調べ直す（既定: 前回の検査以降に記録されたもの）",
        )
        parser.add_argument("--until", help="この日時より前の閲覧を調べる（既定: 現在）")

    @scheduled_job("misuse-scan")
    def handle(self, *args: Any, **options: Any) -> None:
        since = _moment(options["since"]) if options.get("since") else None
        until = _moment(options["until"]) if options.get("until") else None
        if since and until and since >= until:
            raise CommandError("--since は --until より前にしてください")
        result = scan(since=since, until=until)
        t = thresholds()
        self.stdout.write(
            f"閲覧 {result.reads} 件を調べました（一覧 {t.context_hours:g} 時間前から、業務 "
            f"±{t.task_hours:g} 時間、大量閲覧 "
            f"{t.bulk_minutes} 分に {t.bulk_reads} 世帯超、勤務時間 {t.duty_start:%H:%M}〜"
            f"{t.duty_end:%H:%M}）"
        )
        for flag in result.flags:
            start = timezone.localtime(flag.window_start)
            self.stdout.write(
                f"  #{flag.id} {flag.get_kind_display()}: 職員 {flag.officer.username} "
                f"{start:%Y-%m-%d %H:%M} 〜 {timezone.localtime(flag.window_end):%H:%M} "
                f"{flag.household_count} 世帯（監査記録 {len(flag.event_ids)} 件）"
            )
        style = self.style.WARNING if result.flags else self.style.SUCCESS
        self.stdout.write(style(f"不適正利用の兆候 {len(result.flags)} 件を新たに検出しました。"))
        if result.settled:
            self.stdout.write(
                f"その後の業務の記録で説明された兆候 {len(result.settled)} 件を確認済みにしました。"
            )
