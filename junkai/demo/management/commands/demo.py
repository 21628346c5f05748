"""`junkai demo`: build the fictional demo station (once; running it again changes nothing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from junkai.dashboards.actions import do_take_month_snapshot
from junkai.dashboards.models import BeatMonthSnapshot
from junkai.demo.disclosures import build_demo_disclosures
from junkai.demo.households import build_demo_households
from junkai.demo.organisation import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_STATION_CODE,
    build_demo,
    demo_exists,
)
from junkai.demo.outlines import build_demo_outlines
from junkai.demo.registers import build_demo_registers
from junkai.demo.visits import build_demo_visits
from junkai.households.models import Household
from junkai.lib.months import previous_month
from junkai.org.models import Station


class Command(BaseCommand):
    help = "架空のデモ警察署（交番・駐在所・受持区・職員・世帯）を作成します"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households",
            type=int,
            default=5000,
            help="作成する架空の世帯・事業所の数（既定 5000、0 で作成しない）",
        )

    def handle(self, *args: Any, **options: Any) -> None:

        if demo_exists():
            self.stdout.write("デモ警察署は作成済みです（データはそのまま残します）。")
            station = Station.objects.get(code=DEMO_STATION_CODE)
        else:
            station = build_demo()
            self.stdout.write(self.style.SUCCESS(f"デモ警察署「{station.name}」を作成しました。"))
        # An older demo database without households gets them too; one with any keeps its own.
        if options["households"] > 0 and not Household.objects.filter(station=station).exists():
            result = build_demo_households(station, count=options["households"])
            self.stdout.write(
                self.style.SUCCESS(
                    f"架空の世帯・事業所 {result.households:,} 件（カード {result.cards:,}、"
                    f"世帯員 {result.residents:,}、補正履歴 {result.revisions:,}）を追加しました。"
                )
            )
        # Registers and disclosures need the cards; each skips a station that has its own.

        if visits := build_demo_visits(station):
            self.stdout.write(self.style.SUCCESS(f"巡回連絡の履歴 {visits:,} 件を追加しました。"))
        build_demo_registers(station)
        # Beat outlines and post positions from the households (beats that have one keep it).

        if outlines := build_demo_outlines(station):
            self.stdout.write(self.style.SUCCESS(f"受持区の区域 {outlines} 件を設定しました。"))
        shown = build_demo_disclosures(station)
        if shown.data_uses:
            self.stdout.write(
                self.style.SUCCESS(
                    f"利用確認簿 {shown.data_uses} 件・照会 {shown.agency_requests} 件・"
                    f"不適正利用の兆候 {shown.flags} 件を追加しました。"
                )
            )
        # Month-end figures for the dashboards' trends: the last six months, from the visits.

        if not BeatMonthSnapshot.objects.filter(station=station).exists():
            month = timezone.localdate()
            for _ in range(6):
                month = previous_month(month)
                do_take_month_snapshot(month)
            self.stdout.write(
                self.style.SUCCESS("進捗状況の推移（過去6か月の月末集計）を作成しました。")
            )
        self.stdout.write(f"デモ用ログイン（パスワードはすべて {DEMO_PASSWORD}）:")
        for username, label in DEMO_LOGINS.items():
            self.stdout.write(f"  {username:<10} {label}")
