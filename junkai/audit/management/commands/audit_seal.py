"""`junkai audit-seal`: the timer's backstop for sealing audit events (every minute).

Requests seal after their commit when nobody else is sealing; this seals whatever they left
(a quiet period, a long transaction that has since committed). Safe to start twice: the second
finds the first holding the lock and returns.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from junkai.audit.models import AuditEvent, AuditSeal
from junkai.audit.seal import CommandLock, seal_pending


class Command(BaseCommand):
    help = "コミット済みの監査記録を封印します（ハッシュチェーンへの連結）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seconds",
            type=float,
            default=50.0,
            help="封印を続ける最長の秒数（既定 50 秒: 毎分のタイマーに収まるように）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with CommandLock() as held:
            if not held:
                self.stdout.write("他の audit-seal が封印中です。終了します。")
                return
            deadline = time.monotonic() + options["seconds"]
            sealed = 0
            while time.monotonic() < deadline:
                done = seal_pending(limit=10000)
                sealed += done
                if done < 10000:
                    break
        waiting = (
            AuditEvent.objects.filter(seq__isnull=True)
            .exclude(id__in=AuditSeal.objects.values("event_id"))
            .count()
        )
        self.stdout.write(f"封印: {sealed} 件。未封印: {waiting} 件。")
