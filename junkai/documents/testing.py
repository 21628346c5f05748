"""Fixtures for tests of the printed forms and for the URL walk (junkai.web.tests)."""

from __future__ import annotations

from junkai.households import actions
from junkai.households.models import Building, Household
from junkai.org.models import Beat


def build_building(beat: Beat, *, name: str = "メゾン駅前", town: str | None = None) -> Building:
    """A 2-floor building of 3 rooms a floor in the beat, with households in 101 and 202."""
    town = town or ("北辺町" if beat.post.station.code == "OTHER" else "駅前町")
    building = actions.do_create_building(
        beat,
        acting_officer=None,
        name=name,
        town=town,
        chome="1",
        banchi="5",
        go="1",
        floors=2,
        rooms_per_floor=3,
    )
    for room, number in (("101", 11), ("202", 12)):
        actions.do_create_household(
            beat,
            acting_officer=None,
            building=building,
            kind="RESIDENCE",
            name=f"入居者{room}",
            town=town,
            chome="1",
            banchi="5",
            go="1",
            room=room,
            block_group="1組",
            map_number=number,
        )
    return building


def document_walk_ids(beat: Beat) -> dict[str, int]:
    """For junkai.web.tests.test_access_walk: a building of the beat (`building_id`)."""
    building = Building.objects.filter(beat=beat).first() or build_building(beat)
    assert Household.objects.filter(building=building).exists()
    return {"building_id": building.id}
