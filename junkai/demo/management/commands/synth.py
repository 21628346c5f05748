"""`junkai synth --households N`: a prefecture of fictional households, for benchmarks.

It makes its own stations, posts, beats and officers (codes and logins beginning SYN / syn)
through the organisation actions, then loads the households with bulk.do_bulk_load from the
same generator as the demo. Never run it on a production database.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from junkai.demo.households import CENTRE, beat_specs, generate_rows, post_officers
from junkai.demo.management.commands.synth_visits import add_visit_history
from junkai.households.bulk import do_bulk_load, tqdm_progress
from junkai.lib.tables import BulkLoadError
from junkai.org import actions
from junkai.org.models import Beat, PostKind, Rank, Role, Station

#: Households per beat: a 受持区 is about 800 doors.
BEAT_SIZE = 800
PREFIX = "SYN"


@dataclass(frozen=True)
class SynthOrg:
    stations: list[Station]
    beats: list[Beat]
    chief_usernames: list[str]


@transaction.atomic
def build_synth_org(households: int, stations: int, *, beat_size: int = BEAT_SIZE) -> SynthOrg:
    """Stations SYN01…, each with 交番 of three beats and a few 駐在所 of one, and officers:
    a chief and a 地域課長 per station, a 所長 per 交番, one beat officer per beat."""
    if Station.objects.filter(code__startswith=PREFIX).exists():
        raise CommandError("合成データ（SYN…）は既にあります。新しいデータベースで実行してください")
    password_hash = make_password(None)  # nobody signs in as these officers
    per_station = math.ceil(households / stations)
    made: list[Station] = []
    chiefs: list[str] = []
    number = 0

    def officer(username: str, name: str, rank: Rank) -> Any:
        nonlocal number
        number += 1
        return actions.do_create_officer(
            acting_officer=None,
            username=username,
            full_name=name,
            rank=rank,
            staff_number=f"SYN{number:06d}",
            password_hash=password_hash,
        )

    for s in range(1, stations + 1):
        code = f"{PREFIX}{s:02d}"
        station = actions.do_create_station(acting_officer=None, code=code, name=f"合成第{s}警察署")
        made.append(station)
        chief = officer(f"syn{s:02d}_chief", f"署長 {s}", Rank.KEISHI)
        actions.do_assign(
            chief, acting_officer=None, role=Role.STATION_CHIEF, station=station, end_current=False
        )
        kacho = officer(f"syn{s:02d}_kacho", f"地域課長 {s}", Rank.KEIBU)
        actions.do_assign(
            kacho, acting_officer=None, role=Role.MANAGER, station=station, end_current=False
        )
        chiefs.append(chief.username)
        beats_wanted = max(1, round(per_station / beat_size))
        # One beat in five is a 駐在所 of its own; the rest are 交番 of up to three beats.
        chuzai = beats_wanted // 5
        koban_beats = beats_wanted - chuzai
        layout = [(PostKind.KOBAN, min(3, koban_beats - i)) for i in range(0, koban_beats, 3)]
        layout += [(PostKind.CHUZAISHO, 1)] * chuzai
        for p, (kind, beat_count) in enumerate(layout, start=1):
            letter = "K" if kind == PostKind.KOBAN else "C"
            post_code = f"{code}-{letter}{p:02d}"
            post = actions.do_create_post(
                station,
                acting_officer=None,
                code=post_code,
                name=f"合成{p}{'交番' if kind == PostKind.KOBAN else '駐在所'}",
                kind=kind,
            )
            beats = [
                actions.do_create_beat(
                    post, acting_officer=None, code=f"{post_code}-{b}", name=f"合成{p}-{b}区"
                )
                for b in range(1, beat_count + 1)
            ]
            if kind == PostKind.KOBAN:
                head = officer(f"syn{s:02d}_{letter.lower()}{p:02d}_head", "所長", Rank.KEIBUHO)
                actions.do_assign(
                    head, acting_officer=None, role=Role.INSPECTOR, post=post, end_current=False
                )
            for b, beat in enumerate(beats, start=1):
                walker = officer(
                    f"syn{s:02d}_{letter.lower()}{p:02d}_{b}", "受持警察官", Rank.JUNSA
                )
                actions.do_assign(
                    walker,
                    acting_officer=None,
                    role=Role.BEAT_OFFICER,
                    post=post,
                    beats=[beat],
                    end_current=False,
                )
    beats = list(
        Beat.objects.filter(post__station__in=made)
        .select_related("post", "post__station")
        .order_by("post__station__code", "post__code", "code")
    )
    return SynthOrg(made, beats, chiefs)


class Command(BaseCommand):
    help = "ベンチマーク用の架空の県（警察署・交番等・受持区・職員・世帯）を作成します"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=500_000)
        parser.add_argument(
            "--stations", type=int, default=None, help="警察署の数（既定: 世帯25,000ごとに1署）"
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--beat-size", type=int, default=BEAT_SIZE)
        parser.add_argument(
            "--visit-years",
            type=int,
            default=10,
            help="巡回連絡の履歴の年数（既定: 10年、50万世帯で約500万件。0で作成しない）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        households: int = options["households"]
        stations: int = options["stations"] or max(1, round(households / 25_000))
        started = time.perf_counter()
        org = build_synth_org(households, stations, beat_size=options["beat_size"])
        org_seconds = time.perf_counter() - started
        self.stdout.write(
            f"組織: 警察署 {len(org.stations)}、受持区 {len(org.beats)}（{org_seconds:.1f} 秒）"
        )
        officers = post_officers(sorted({b.post_id for b in org.beats}))
        specs = []
        grid = math.ceil(math.sqrt(len(org.stations)))
        for i, station in enumerate(org.stations):
            # Stations 15 km apart on a grid around the demo's centre.
            centre = (
                CENTRE[0] + (i // grid - grid / 2) * 0.135,
                CENTRE[1] + (i % grid - grid / 2) * 0.16,
            )
            specs += beat_specs(
                [b for b in org.beats if b.post.station_id == station.id], officers, centre=centre
            )
        rows = generate_rows(specs, count=households, seed=options["seed"])
        try:
            with tqdm_progress(
                sys.stderr, disable=True if options["verbosity"] == 0 else None
            ) as progress:
                result = do_bulk_load(
                    rows, acting_officer=None, source="synth", progress=progress, total=households
                )
        except BulkLoadError as exc:
            for error in exc.errors[:50]:
                self.stderr.write(str(error))
            raise CommandError(str(exc)) from exc
        total = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"世帯 {result.households:,}、カード {result.cards:,}、世帯員 {result.residents:,}、"
                f"補正履歴 {result.revisions:,}、アパート等 {result.buildings:,} を作成しました"
                f"（生成と取込 {result.seconds:.1f} 秒、全体 {total:.1f} 秒）"
            )
        )
        if options["visit_years"] > 0:
            add_visit_history(
                self,
                org.stations,
                years=options["visit_years"],
                seed=options["seed"],
                quiet=options["verbosity"] == 0,
            )
        self.stdout.write(f"署長のログインID: {', '.join(org.chief_usernames[:3])} …")
