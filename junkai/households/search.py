"""Search across the officer's scope by name (kanji or kana), address or phone.

Names fold hiragana/katakana and half/full width together (junkai.lib.kana.fold). Results are
households; their residents' birth dates and phone numbers stay masked in lists until the
household is opened (an audited read). The query text itself is never logged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from junkai.access.roles import posts_visible_to, scope_of
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households.access import households_visible_to
from junkai.households.models import CardStatus, Household, Resident
from junkai.lib.kana import digits, fold, reading
from junkai.org.models import Officer

MAX_RESULTS = 50
_ADDRESS_WORDS = re.compile(r"丁目|番地|番|号|-|ー|−")


def resident_keys(
    name: str, kana: str, phone: str, *, fold: Callable[[str], str] = fold
) -> tuple[str, str, str]:
    """A resident's search keys (name_key, kana_key, phone_key), as every writer stores them.

    kana_key is the reading folded or, with no reading, the name's key: a name written in kana
    is then in kana_key too, so a query in kana need look there alone. (`fold`: a caching
    version for the bulk loader.)
    """
    name_key = fold(name)
    return name_key, fold(kana) if kana else name_key, digits(phone) if phone else ""


@dataclass(frozen=True)
class Hit:
    household: Household
    matched_names: tuple[str, ...]


def _scope_filter(officer: Officer) -> Q:
    scope = scope_of(officer)
    return Q(post__station_id__in=scope.station_ids) | Q(post_id__in=scope.post_ids)


def search_households(officer: Officer, query: str, *, limit: int = MAX_RESULTS) -> list[Hit]:
    """Households in scope matching `query`; the search is recorded (count only)."""
    key = fold(query)
    number = digits(query)
    if not key:
        return []
    scope = _scope_filter(officer)
    residents: QuerySet[Resident] = Resident.objects.filter(scope, card__status=CardStatus.ACTIVE)
    # One comparison per resident (a station has 50,000-odd): a query in kana is looked for
    # in the readings, which hold the names written in kana too (resident_keys); anything
    # else (kanji, digits) in the names, which is the only place it can be.
    name_match = (
        Q(kana_key__contains=key) if reading(key) is not None else Q(name_key__contains=key)
    )
    if len(number) >= 4 and number == key:
        name_match |= Q(phone_key__contains=number)
    matched = (
        residents.filter(name_match)
        .values_list("card__household_id", "name")
        .order_by("card__household_id")[: limit * 4]
    )
    names: dict[int, list[str]] = {}
    for household_id, name in matched:
        names.setdefault(household_id, []).append(name)
    address_ids: list[int] = []
    if len(names) < limit:  # a common surname fills the page: the address scan adds nothing shown
        # The address key runs the parts together (駅前町123): drop 丁目・番地・番・号 and dashes.
        address = _ADDRESS_WORDS.sub("", key)
        # By post, in address order: PostgreSQL reads household_address_search alone.
        address_ids = list(
            Household.objects.filter(post__in=posts_visible_to(officer))
            .filter(Q(address_key__contains=address) | Q(name__contains=query.strip()))
            .order_by("address_key", "id")
            .values_list("id", flat=True)[:limit]
        )
    ids = list(dict.fromkeys([*names, *address_ids]))[:limit]
    households = {
        h.id: h
        for h in households_visible_to(officer)
        .filter(id__in=ids)
        .select_related("beat", "building")
    }
    hits = [Hit(households[i], tuple(names.get(i, ()))) for i in ids if i in households]
    record(
        EventType.SEARCH_HOUSEHOLDS,
        actor=officer,
        object_type="scope",
        details={"results": len(hits), "kind": "phone" if number == key else "text"},
    )
    return hits
