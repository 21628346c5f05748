"""`junkai refresh-categories`: run daily. Households whose residents have all turned 65 since
the last run become 高齢者世帯 (別表); their priority rises to 高."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from junkai.households.actions import do_refresh_categories
from junkai.ops.jobs import scheduled_job


class Command(BaseCommand):
    help = "世帯の区分（別表）を本日の日付で再計算します（毎日実行）"

    @scheduled_job("refresh-categories")
    def handle(self, *args: Any, **options: Any) -> None:
        changed = do_refresh_categories()
        self.stdout.write(f"区分を再計算しました: {changed} 世帯が変わりました。")
