"""Fictional households for the demo station and the benchmark data set.

`generate_rows(beats, count=…, seed=…)` yields `bulk.HouseholdRow`s: streets walked in order
(町名 → 丁目 → 番地 → 号, 組・班 and 整理番号 following), apartment buildings with rooms, families
whose names, readings, relations and birth dates fit together, single elderly residents,
businesses (事業所等), officer-flagged elderly households, community leaders, ≈8 % doors without
a card (未把握), and years of card history: a card starts as it stood when accepted, and later
births, removals, new phone numbers or workplaces come as corrections (補正) dated since.
The same seed gives the same data. Everything is made up; names come from junkai.households.names.

`build_demo_households(station)` loads ≈5,000 of them into the demo station through
bulk.do_bulk_load; `junkai synth` uses the same generator for a prefecture.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from junkai.households import names
from junkai.households.bulk import (
    BuildingSpec,
    BulkResult,
    Correction,
    HouseholdRow,
    Progress,
    do_bulk_load,
)
from junkai.households.models import CardSource, LeaderRole, RevisionBasis
from junkai.org.models import Assignment, Beat, PostKind, Role, Station, today

TOKYO = ZoneInfo("Asia/Tokyo")
#: A fictional city centre (an empty stretch of 別府湾 would do as well: nothing here is real).
CENTRE = (33.20, 131.60)
NO_CARD_SHARE = 0.08
HISTORY_SHARE = 0.35


@dataclass(frozen=True)
class BeatSpec:
    """What the generator needs to know of a beat."""

    id: int
    post_id: int
    rural: bool  # 駐在所: 大字 and 番地, few apartments, spread out
    officers: tuple[int, ...]  # who accepted and corrected its cards
    centre: tuple[float, float]


def beat_specs(
    beats: Sequence[Beat],
    officers_by_post: dict[int, list[int]],
    *,
    centre: tuple[float, float] = CENTRE,
    fallback_officer: int | None = None,
) -> list[BeatSpec]:
    """Beats placed around `centre`: 交番 beats in an inner ring, 駐在所 beats further out."""
    specs = []
    for i, beat in enumerate(beats):
        rural = beat.post.kind == PostKind.CHUZAISHO
        angle = 2 * math.pi * i / max(len(beats), 1)
        distance_km = 9.0 + 2.0 * (i % 3) if rural else 1.2 + 0.9 * (i % 4)
        lat = centre[0] + distance_km / 111.0 * math.sin(angle)
        lon = centre[1] + distance_km / 93.0 * math.cos(angle)
        officers = officers_by_post.get(beat.post_id) or (
            [fallback_officer] if fallback_officer else []
        )
        specs.append(BeatSpec(beat.id, beat.post_id, rural, tuple(officers), (lat, lon)))
    return specs


def post_officers(post_ids: Sequence[int]) -> dict[int, list[int]]:
    """Officers assigned today at each post (their cards carry these names)."""
    result: dict[int, list[int]] = {}
    for post_id, officer_id in (
        Assignment.objects.current()
        .filter(post_id__in=post_ids)
        .filter(Q(role=Role.BEAT_OFFICER) | Q(role=Role.CUSTODIAN) | Q(role=Role.INSPECTOR))
        .order_by("post_id", "officer_id")
        .values_list("post_id", "officer_id")
    ):
        officers = result.setdefault(post_id, [])
        if officer_id not in officers:
            officers.append(officer_id)
    return result


# --- people -----------------------------------------------------------------------------

_GIVEN = {
    ("M", 0): names.MALE_OLD,
    ("M", 1): names.MALE_MID,
    ("M", 2): names.MALE_YOUNG,
    ("F", 0): names.FEMALE_OLD,
    ("F", 1): names.FEMALE_MID,
    ("F", 2): names.FEMALE_YOUNG,
}
_CHILD_RELATIONS = {"M": ("長男", "次男", "三男", "四男"), "F": ("長女", "次女", "三女", "四女")}
_SCHOOLS = (
    (6, 12, "市立中央小学校"),
    (12, 15, "市立中央中学校"),
    (15, 18, "県立みなと高校"),
    (18, 22, "県立大学"),
)


class _Maker:
    """Random but plausible pieces, from one seeded generator."""

    def __init__(self, rng: random.Random, day: dt.date) -> None:
        self.rng = rng
        self.day = day

    def birth(self, age: int) -> dt.date:
        """A birth date that makes the person `age` today (at least a month old)."""
        latest = self.day - dt.timedelta(days=30)
        start = dt.date(self.day.year - age - 1, self.day.month, 1) + dt.timedelta(days=1)
        offset = self.rng.randrange(365)
        return min(start + dt.timedelta(days=offset), latest)

    def given(self, sex: str, birth: dt.date) -> tuple[str, str]:
        generation = 0 if birth.year < 1955 else 1 if birth.year < 1990 else 2
        return self.rng.choice(_GIVEN[(sex, generation)])

    def mobile(self) -> str:
        return f"0{self.rng.choice('789')}0-0{self.rng.randint(100, 999)}-{self.rng.randint(0, 9999):04d}"

    def landline(self) -> str:
        # A local number beginning with 0 does not exist: these can never ring anyone.
        return f"097-0{self.rng.randint(10, 99)}-{self.rng.randint(0, 9999):04d}"

    def person(
        self,
        surname: tuple[str, str],
        sex: str,
        age: int,
        relation: str,
        *,
        phone: str = "",
        workplace: str | None = None,
    ) -> dict[str, Any]:
        birth = self.birth(age)
        given, given_kana = self.given(sex, birth)
        if workplace is None:
            workplace = self.workplace(age)
        return {
            "name": f"{surname[0]} {given}",
            "kana": f"{surname[1]} {given_kana}",
            "relation": relation,
            "birth_date": birth.isoformat(),
            "sex": sex,
            "workplace": workplace,
            "phone": phone,
        }

    def workplace(self, age: int) -> str:
        for low, high, school in _SCHOOLS:
            if low <= age < high:
                return school if age >= 18 or self.rng.random() < 0.9 else ""
        if 22 <= age < 65 and self.rng.random() < 0.7:
            return self.rng.choice(names.WORKPLACES)
        return ""

    def surname(self) -> tuple[str, str]:
        return self.rng.choice(names.SURNAMES)


def _children(
    m: _Maker, surname: tuple[str, str], ages: list[int], relations: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    """Children of the head, eldest first, named 長男・次女… by sex and order."""
    counts = {"M": 0, "F": 0}
    people = []
    for age in sorted(ages, reverse=True):
        sex = m.rng.choice("MF")
        if relations is not None:
            relation = relations[0] if sex == "M" else relations[1]
        else:
            relation = _CHILD_RELATIONS[sex][min(counts[sex], 3)]
        counts[sex] += 1
        phone = m.mobile() if age >= 15 and m.rng.random() < 0.5 else ""
        people.append(m.person(surname, sex, age, relation, phone=phone))
    return people


def _family(m: _Maker, *, apartment: bool) -> list[dict[str, Any]]:
    """The residents of one home as they are today, head first."""
    rng = m.rng
    s = m.surname()
    kinds = (
        ("single_elderly", 0.13 if not apartment else 0.08),
        ("elderly_couple", 0.10 if not apartment else 0.03),
        ("family", 0.32 if not apartment else 0.24),
        ("couple", 0.10 if not apartment else 0.20),
        ("single", 0.10 if not apartment else 0.38),
        ("three_generations", 0.09 if not apartment else 0.0),
        ("single_parent", 0.06),
        ("parent_and_child", 0.05 if not apartment else 0.01),
    )
    roll = rng.random() * sum(w for _, w in kinds)
    kind = kinds[-1][0]
    for name, weight in kinds:
        roll -= weight
        if roll < 0:
            kind = name
            break
    landline = m.landline() if rng.random() < (0.3 if apartment else 0.6) else ""

    def head_phone() -> str:
        return m.mobile() if rng.random() < 0.75 else landline or m.mobile()

    if kind == "single_elderly":
        sex = "F" if rng.random() < 0.65 else "M"
        return [m.person(s, sex, rng.randint(66, 96), "世帯主", phone=landline or m.landline())]
    if kind == "elderly_couple":
        age = rng.randint(67, 90)
        return [
            m.person(s, "M", age, "世帯主", phone=landline or m.landline()),
            m.person(s, "F", max(65, age - rng.randint(0, 5)), "妻"),
        ]
    if kind in ("family", "couple"):
        age = rng.randint(28, 62) if kind == "family" else rng.randint(24, 64)
        people = [
            m.person(s, "M", age, "世帯主", phone=head_phone()),
            m.person(s, "F", max(20, age - rng.randint(-3, 6)), "妻", phone=m.mobile()),
        ]
        if rng.random() < 0.08:  # a wife as head of the household
            people[0], people[1] = (
                {**people[1], "relation": "世帯主"},
                {**people[0], "relation": "夫"},
            )
        if kind == "family":
            eldest = max(0, min(age - 24, 30))
            ages = [rng.randint(0, eldest) for _ in range(rng.choice((1, 2, 2, 3)))]
            people += _children(m, s, ages)
        return people
    if kind == "single":
        sex = rng.choice("MF")
        return [m.person(s, sex, rng.randint(19, 64), "世帯主", phone=m.mobile())]
    if kind == "three_generations":
        age = rng.randint(58, 74)
        son_age = rng.randint(30, min(48, age - 22))
        people = [
            m.person(s, "M", age, "世帯主", phone=landline or m.landline()),
            m.person(s, "F", age - rng.randint(0, 4), "妻"),
            m.person(s, "M", son_age, "長男", phone=m.mobile()),
            m.person(s, "F", son_age - rng.randint(0, 4), "長男の妻", phone=m.mobile()),
        ]
        if rng.random() < 0.4:
            people.append(m.person(s, "F", min(age + rng.randint(22, 30), 99), "母"))
        people += _children(
            m, s, [rng.randint(0, 12) for _ in range(rng.randint(1, 2))], ("孫", "孫")
        )
        return people
    if kind == "single_parent":
        sex = "F" if rng.random() < 0.85 else "M"
        age = rng.randint(28, 52)
        people = [m.person(s, sex, age, "世帯主", phone=m.mobile())]
        return people + _children(
            m, s, [rng.randint(0, min(age - 20, 20)) for _ in range(rng.randint(1, 2))]
        )
    # An elderly parent living with a grown child: not all 65+.
    age = rng.randint(72, 92)
    return [
        m.person(s, rng.choice("MF"), age, "世帯主", phone=landline or m.landline()),
        m.person(
            s,
            rng.choice("MF"),
            rng.randint(40, min(60, age - 20)),
            "長男" if rng.random() < 0.5 else "長女",
            phone=m.mobile(),
        ),
    ]


def _contacts(m: _Maker, residents: list[dict[str, Any]], *, elderly: bool) -> list[dict[str, Any]]:
    if not residents or m.rng.random() > (0.85 if elderly else 0.3):
        return []
    head_surname = residents[0]["name"].split(" ")[0]
    contacts = []
    for relation in ("長男", "長女")[: m.rng.randint(1, 2) if elderly else 1]:
        surname = head_surname if relation == "長男" else m.surname()[0]
        sex = "M" if relation == "長男" else "F"
        given = m.given(sex, dt.date(1975, 1, 1))[0]
        contacts.append({"name": f"{surname} {given}", "relation": relation, "phone": m.mobile()})
    return contacts


def _business(m: _Maker) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """事業所等: its name, the person in charge (代表者), and a contact."""
    rng = m.rng
    s = m.surname()
    kind = rng.choice(names.BUSINESS_KINDS)
    if rng.random() < 0.25:
        name = f"{rng.choice(names.BUSINESS_PREFIXES)}{rng.choice(names.BUILDING_WORDS)}"
    else:
        name = f"{s[0]}{kind}"
    phone = m.landline()
    people = [
        m.person(s, rng.choice("MF"), rng.randint(30, 75), "代表者", phone=phone, workplace=name)
    ]
    if rng.random() < 0.3:
        people.append(
            m.person(m.surname(), rng.choice("MF"), rng.randint(20, 60), "従業員", workplace=name)
        )
    contacts = [{"name": people[0]["name"], "relation": "代表者（携帯）", "phone": m.mobile()}]
    return name, people, contacts


# --- card history -----------------------------------------------------------------------


def _copy(card: dict[str, Any]) -> dict[str, Any]:
    return {
        **card,
        "residents": [dict(r) for r in card["residents"]],
        "contacts": [dict(c) for c in card["contacts"]],
    }


def _at(m: _Maker, day: dt.date) -> dt.datetime:
    """Office hours on `day`, Tokyo time, as UTC."""
    local = dt.datetime(
        day.year, day.month, day.day, m.rng.randint(9, 17), m.rng.randrange(60), tzinfo=TOKYO
    )
    return local.astimezone(dt.UTC)


def _history(
    m: _Maker, card: dict[str, Any], *, officers: tuple[int, ...], residence: bool
) -> tuple[dict[str, Any], list[Correction]]:
    """Split today's card into the card as accepted and the corrections since.

    Residents born after the card was accepted come in later (出生), and some cards get a
    new phone number, a new workplace, a grown child who moved out, or a new emergency
    contact number: at most three corrections, in date order, all in the past.
    """
    rng = m.rng
    accepted = dt.date.fromisoformat(card["accepted_on"])
    span = (m.day - accepted).days
    births = [
        (dt.date.fromisoformat(r["birth_date"]), i)
        for i, r in enumerate(card["residents"])
        if r["birth_date"] and dt.date.fromisoformat(r["birth_date"]) >= accepted
    ]
    # Born after the card was made: then the card must show the birth as a correction.
    events: list[tuple[dt.date, str, Any]] = []
    for birth, i in births:
        when = min(birth + dt.timedelta(days=rng.randint(20, 200)), m.day - dt.timedelta(days=1))
        events.append((when, "birth", i))
    if span > 200 and rng.random() < HISTORY_SHARE:
        for kind in rng.sample(("phone", "workplace", "moved_out", "contact"), rng.randint(1, 2)):
            when = accepted + dt.timedelta(days=rng.randint(30, span - 1))
            events.append((when, kind, None))
    events.sort(key=lambda e: e[0])
    births_kept = [e for e in events if e[1] == "birth"]
    others = [e for e in events if e[1] != "birth"][: max(0, 3 - len(births_kept))]
    events = sorted(births_kept + others, key=lambda e: e[0])

    # Walk back from today to the card as first accepted.
    first = _copy(card)
    born_later = {value for _, kind, value in events if kind == "birth"}
    first["residents"] = [r for i, r in enumerate(card["residents"]) if i not in born_later]
    applied: list[tuple[dt.datetime, str, Any]] = []
    for when, kind, value in events:
        at = _at(m, when)
        residents = first["residents"]
        if kind == "birth":
            applied.append((at, kind, dict(card["residents"][value])))
        elif kind == "phone" and residents and residents[0]["phone"]:
            applied.append((at, kind, residents[0]["phone"]))
            residents[0]["phone"] = m.mobile()
        elif kind == "workplace":
            workers = [
                i
                for i, r in enumerate(residents)
                if r["workplace"] in names.WORKPLACES and r["relation"] != "代表者"
            ]
            if workers:
                index = rng.choice(workers)
                current = residents[index]["workplace"]
                applied.append((at, kind, (index, current)))
                residents[index]["workplace"] = rng.choice(
                    [w for w in names.WORKPLACES if w != current]
                )
        elif kind == "moved_out" and residence and residents:
            surname = (residents[0]["name"].split(" ")[0], residents[0]["kana"].split(" ")[0])
            sex = rng.choice("MF")
            leaver = m.person(
                surname, sex, rng.randint(19, 28), "長男" if sex == "M" else "長女", workplace=""
            )
            residents.append(leaver)
            applied.append((at, kind, leaver))
        elif kind == "contact" and first["contacts"]:
            applied.append((at, kind, first["contacts"][0]["phone"]))
            first["contacts"][0]["phone"] = m.mobile()
    # Forward again: each correction is the card before it with one change.
    corrections: list[Correction] = []
    state = first
    for at, kind, value in sorted(applied, key=lambda e: e[0]):
        card_then = _copy(state)
        if kind == "birth":
            card_then["residents"].append(value)
            basis, note = RevisionBasis.RESIDENT, "出生による世帯員の追加"
        elif kind == "phone":
            card_then["residents"][0]["phone"] = value
            basis, note = RevisionBasis.VISIT, "電話番号の変更"
        elif kind == "workplace":
            index, workplace = value
            card_then["residents"][index]["workplace"] = workplace
            basis, note = RevisionBasis.VISIT, "勤務先の変更"
        elif kind == "moved_out":
            card_then["residents"] = [r for r in card_then["residents"] if r != value]
            basis, note = RevisionBasis.RESIDENT, "進学・就職による転出"
        else:
            card_then["contacts"][0]["phone"] = value
            basis, note = RevisionBasis.DOCUMENT, "緊急連絡先の変更"
        corrections.append(
            Correction(
                at=at,
                data=card_then,
                basis=basis,
                note=note,
                by=rng.choice(officers) if officers else None,
            )
        )
        state = card_then
    return first, corrections


# --- streets ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Door:
    town: str
    chome: str
    banchi: str
    go: str
    room: str
    building: BuildingSpec | None
    block_group: str
    lat: float
    lon: float


def _doors(m: _Maker, beat: BeatSpec, count: int, towns: list[str]) -> list[_Door]:
    """`count` doors of the beat in street order, some of them rooms of apartment buildings."""
    rng = m.rng
    doors: list[_Door] = []
    per_town = max(1, math.ceil(count / len(towns)))
    used_building_names: set[str] = set()
    spacing = 0.0009 if beat.rural else 0.00035  # degrees between 番地
    for t, town in enumerate(towns):
        town_lat = beat.centre[0] + (t - len(towns) / 2) * spacing * 12
        town_lon = beat.centre[1] + rng.uniform(-1, 1) * spacing * 8
        chome, banchi = 1, 0
        banchi_max = rng.randint(12, 30)
        group, group_left = 1, rng.randint(15, 30)
        in_town = 0
        while in_town < per_town and len(doors) < count:
            banchi += rng.randint(1, 9) if beat.rural else 1
            if not beat.rural and banchi > banchi_max:
                chome, banchi, banchi_max = chome + 1, 1, rng.randint(12, 30)
            gos = rng.randint(1, 3) if beat.rural else rng.randint(2, 8)
            for go in range(1, gos + 1):
                if in_town >= per_town or len(doors) >= count:
                    break
                # The doors of one 番 (街区) stand together, a street's width (about a third of
                # `spacing`) from the next 番, as a 世帯分布略図 then shows its blocks and streets.
                lat = town_lat + (chome - 1) * spacing * 4 + rng.uniform(-1, 1) * spacing
                lon = (
                    town_lon
                    + banchi * spacing
                    + (go - 1) * spacing * 0.6 / gos
                    + rng.uniform(-0.3, 0.3) * spacing * 0.2
                )
                # 駐在所 beats: 大字 and a 番地 (山里1008番地); town beats: 1丁目2番3号.
                address = (
                    (town, "", str(1000 + banchi), "")
                    if beat.rural
                    else (town, str(chome), str(banchi), str(go))
                )
                block = f"{group}{'班' if beat.rural else '組'}"
                first_building = len(doors) == 2 and t == 0
                chance = 0.004 if beat.rural else 0.035
                if first_building or rng.random() < chance:
                    floors = rng.randint(1, 2) if beat.rural else rng.randint(2, 6)
                    rooms = rng.randint(2, 4) if beat.rural else rng.randint(3, 8)
                    form = rng.choice(names.BUILDING_FORMS)
                    name = form.format(rng.choice(names.BUILDING_WORDS))
                    while name in used_building_names:
                        name += "Ⅱ"
                    used_building_names.add(name)
                    spec = BuildingSpec(
                        name=name,
                        floors=floors,
                        rooms_per_floor=rooms,
                        manager_contact=f"管理会社 みなと不動産 {m.landline()}",
                    )
                    occupancy = rng.uniform(0.6, 0.95)
                    for floor in range(1, floors + 1):
                        for number in range(1, rooms + 1):
                            if rng.random() > occupancy or len(doors) >= count:
                                continue
                            room = f"{floor}{number:02d}"
                            doors.append(_Door(*address, room, spec, block, lat, lon))
                            in_town += 1
                else:
                    doors.append(_Door(*address, "", None, block, lat, lon))
                    in_town += 1
                group_left -= 1
                if group_left <= 0:
                    group, group_left = group + 1, rng.randint(15, 30)
    return doors


def _split(count: int, parts: int, rng: random.Random) -> list[int]:
    """`count` spread over `parts`, unevenly (beats differ in size)."""
    weights = [rng.uniform(0.7, 1.3) for _ in range(parts)]
    total = sum(weights)
    sizes = [int(count * w / total) for w in weights]
    for i in range(count - sum(sizes)):
        sizes[i % parts] += 1
    return sizes


_LEADERS = (
    (LeaderRole.JICHI_IIN, 1),
    (LeaderRole.KUCHO, 2),
    (LeaderRole.HANCHO, 3),
    (LeaderRole.KUMICHO, 3),
)


def generate_rows(
    beats: Sequence[BeatSpec],
    *,
    count: int,
    seed: int,
    day: dt.date | None = None,
    index_start: dict[int, int] | None = None,
    history: bool = True,
) -> Iterator[HouseholdRow]:
    """`count` fictional households spread over `beats`, deterministic for a seed.

    Without `history` each card is loaded as it stands today, as an import of a file would.
    """
    day = day or today()
    rng = random.Random(seed)  # noqa: S311 (fictional data, reproducible by design)
    m = _Maker(rng, day)
    sizes = _split(count, len(beats), rng)
    next_index = dict(index_start or {})
    town_pool = list(names.TOWNS)
    rng.shuffle(town_pool)
    line = 0
    for beat, size in zip(beats, sizes, strict=True):
        if size == 0:
            continue
        towns = []
        for _ in range(1 if beat.rural else rng.randint(2, 4)):
            if not town_pool:  # a prefecture repeats town names across stations, as Japan does
                town_pool = list(names.TOWNS)
                rng.shuffle(town_pool)
            towns.append(town_pool.pop())
        doors = _doors(m, beat, size, towns)
        rows: list[HouseholdRow] = []
        residences_with_card: list[int] = []
        for map_number, door in enumerate(doors, start=1):
            line += 1
            business = door.building is None and rng.random() < (0.06 if beat.rural else 0.12)
            fields: dict[str, Any] = {
                "kind": "BUSINESS" if business else "RESIDENCE",
                "town": door.town,
                "chome": door.chome,
                "banchi": door.banchi,
                "go": door.go,
                "room": door.room,
                "block_group": door.block_group,
                "map_number": map_number,
                "latitude": Decimal(f"{door.lat:.6f}"),
                "longitude": Decimal(f"{door.lon:.6f}"),
                "elderly_flag": False,
                "leader_role": "",
            }
            row = HouseholdRow(line=line, beat=beat.id, fields=fields, building=door.building)
            rows.append(row)
            if rng.random() < NO_CARD_SHARE:
                # 未把握: perhaps a name plate (表札) seen at the door, no card.
                fields["name"] = m.surname()[0] if rng.random() < 0.5 and not business else ""
                continue
            if business:
                name, residents, contacts = _business(m)
                fields["name"] = name
            else:
                residents = _family(m, apartment=door.building is not None)
                fields["name"] = residents[0]["name"]
                elderly = all(int(r["birth_date"][:4]) <= day.year - 66 for r in residents)
                contacts = _contacts(m, residents, elderly=elderly)
                oldest = min(r["birth_date"] for r in residents)
                if not elderly and int(oldest[:4]) <= day.year - 60 and rng.random() < 0.15:
                    fields["elderly_flag"] = True  # 高齢者世帯 by the officer's judgement
                residences_with_card.append(len(rows) - 1)
            post_number = next_index.get(beat.post_id, 0) + 1
            next_index[beat.post_id] = post_number
            accepted = day - dt.timedelta(days=rng.randint(30, 365 * 12))
            card: dict[str, Any] = {
                "source": CardSource.RESIDENT if rng.random() < 0.7 else CardSource.OFFICER,
                "accepted_on": accepted.isoformat(),
                "binder_number": str((post_number - 1) // 150 + 1),
                "index_number": post_number,
                "preferred_days": rng.choice(("", "", "", "土・日", "平日", "水曜")),
                "preferred_times": rng.choice(("", "", "", "午前中", "18時以降", "午後")),
                "needs_support": False,
                "support_consent": False,
                "remarks": "",
                "requests": "",
                "residents": residents,
                "contacts": contacts,
                "vehicles": [],
            }
            if (
                not business
                and len(residents) == 1
                and residents[0]["birth_date"] < f"{day.year - 75}"
                and rng.random() < 0.25
            ):
                card["needs_support"] = card["support_consent"] = True
                card["remarks"] = "災害時は避難の手助けが必要"
            officer = rng.choice(beat.officers) if beat.officers else None
            if history:
                first, corrections = _history(
                    m, card, officers=beat.officers, residence=not business
                )
            else:
                first, corrections = card, []
            row.card = first
            row.accepted_by = officer
            row.card_at = _at(m, accepted)
            row.created_at = row.card_at
            row.corrections = corrections
        # A few community leaders per beat (自治委員・区長・班長・組長).
        wanted = [role.value for role, n in _LEADERS for _ in range(n)]
        for index, role in zip(
            rng.sample(residences_with_card, min(len(wanted), len(residences_with_card))),
            wanted,
            strict=False,
        ):
            rows[index].fields["leader_role"] = role
        yield from rows


# --- the demo station -------------------------------------------------------------------


def build_demo_households(
    station: Station, *, count: int = 5000, seed: int = 7, progress: Progress | None = None
) -> BulkResult:
    """≈`count` fictional households over every beat of the demo station (junkai demo)."""
    beats = list(
        Beat.objects.filter(post__station=station)
        .select_related("post")
        .order_by("post__code", "code")
    )
    officers = post_officers([b.post_id for b in beats])
    fallback = (
        Assignment.objects.current()
        .filter(station=station, post__isnull=True, role=Role.MANAGER)
        .values_list("officer_id", flat=True)
        .first()
    )
    specs = beat_specs(beats, officers, fallback_officer=fallback)
    rows = list(generate_rows(specs, count=count, seed=seed))
    return do_bulk_load(rows, acting_officer=None, source="demo", progress=progress)
