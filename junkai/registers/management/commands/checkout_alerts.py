"""`junkai checkout-alerts`: run every few minutes (cron/systemd timer). Each checkout whose
binders are not confirmed back by its deadline (JUNKAI_CHECKOUT_RETURN_BY, default 22:00) is
alerted once to the post's 取扱責任者 and 管理責任者; the alerts page lists the overdue ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from junkai.ops.jobs import scheduled_job
from junkai.registers.actions import do_alert_overdue_checkouts


class Command(BaseCommand):
    help = "返却期限を過ぎた簿冊の持出しを、取扱責任者と管理責任者へ警告します（1件につき1回）"

    @scheduled_job("checkout-alerts")
    def handle(self, *args: Any, **options: Any) -> None:
        alerted = do_alert_overdue_checkouts()
        for checkout in alerted:
            due = timezone.localtime(checkout.due_at)
            self.stdout.write(
                f"  持出確認簿 #{checkout.id}（交番等 {checkout.post_id}）返却期限 {due:%Y-%m-%d %H:%M}"
            )
        self.stdout.write(f"未返却の警告: {len(alerted)} 件を記録しました。")
