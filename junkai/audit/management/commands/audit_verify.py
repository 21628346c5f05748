"""`junkai audit-verify`: check the audit log's hash chain end to end."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from junkai.audit.chain import verify


class Command(BaseCommand):
    help = "監査記録のハッシュチェーンを検証します（改ざん・削除・挿入・並べ替えを検出）"

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        if result.ok:
            self.stdout.write(
                f"OK: {result.checked} 件の監査記録を検証しました。チェーンは完全です。"
            )
            return
        raise CommandError(
            f"NG: 監査記録 連番 {result.first_bad_seq} (id {result.first_bad_id}) が不正です: "
            f"{result.reason}（それまでの {result.checked} 件は正常）"
        )
