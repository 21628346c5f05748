"""`junkai demo`: build the fictional demo station (once; running it again changes nothing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from junkai.org.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo, demo_exists


class Command(BaseCommand):
    help = "架空のデモ警察署（交番・駐在所・受持区・職員）を作成します"

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_exists():
            self.stdout.write("デモ警察署は作成済みです（データはそのまま残します）。")
        else:
            station = build_demo()
            self.stdout.write(self.style.SUCCESS(f"デモ警察署「{station.name}」を作成しました。"))
        self.stdout.write(f"デモ用ログイン（パスワードはすべて {DEMO_PASSWORD}）:")
        for username, label in DEMO_LOGINS.items():
            self.stdout.write(f"  {username:<10} {label}")
