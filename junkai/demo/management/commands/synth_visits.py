"""`junkai synth-visits [--years 10]`: visit history for a database `junkai synth` filled.

`junkai synth` adds the history itself; this command adds it to a synthetic prefecture made
without it (or by an older version), e.g. the benchmark database. Never on production data:
it only touches stations whose code begins SYN.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from junkai.demo.visit_history import do_build_visit_history
from junkai.households.models import Household
from junkai.org.models import Station

SYNTH_PREFIX = "SYN"


def add_visit_history(
    command: BaseCommand, stations: list[Station], *, years: int, seed: int, quiet: bool = False
) -> None:
    from tqdm import tqdm

    total = Household.objects.filter(station__in=stations).count()
    started = time.perf_counter()
    with tqdm(
        total=total, desc="巡回連絡の履歴", unit="世帯", file=sys.stderr, disable=quiet
    ) as bar:
        try:
            result = do_build_visit_history(stations, years=years, seed=seed, progress=bar.update)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
    command.stdout.write(
        command.style.SUCCESS(
            f"巡回連絡 {result.visits:,} 件（{years} 年分、{result.households:,} 世帯）を作成しました"
            f"（{time.perf_counter() - started:.1f} 秒）"
        )
    )


class Command(BaseCommand):
    help = "合成データ（SYN…）の警察署に巡回連絡の履歴を作成します（ベンチマーク用）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", type=int, default=10)
        parser.add_argument("--seed", type=int, default=11)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["years"] < 1:
            raise CommandError("--years は1以上で指定してください")
        stations = list(Station.objects.filter(code__startswith=SYNTH_PREFIX).order_by("code"))
        if not stations:
            raise CommandError(
                "合成データ（SYN…）がありません。先に junkai synth を実行してください"
            )
        add_visit_history(
            self,
            stations,
            years=options["years"],
            seed=options["seed"],
            quiet=options["verbosity"] == 0,
        )
