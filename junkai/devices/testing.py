"""Fixtures for tests of devices (the API, the URL walk)."""

from __future__ import annotations

from junkai.access.roles import custodians_of, managers_of, serves_at_post
from junkai.devices import actions
from junkai.devices.models import CardConflict, DeviceCheckout
from junkai.households import actions as household_actions
from junkai.households import cards
from junkai.households.models import CardStatus, Household
from junkai.org import actions as org_actions
from junkai.org.models import Beat, Officer, Post, Rank, Role


def keeper_of(post: Post) -> Officer | None:
    """Who registers the post's devices in a fixture: its custodian or manager; None (the
    system) where it has neither."""
    return custodians_of(post).first() or managers_of(post).first()


def checked_out(
    post: Post, beat: Beat, borrower: Officer, confirmer: Officer, *, label: str = "TAB-01"
) -> DeviceCheckout:
    """A device of `post` carrying `beat`, confirmed out by `confirmer`."""
    device = actions.do_register_device(post, acting_officer=keeper_of(post), label=label)
    checkout = actions.do_declare_device_checkout(device, beat, acting_officer=borrower)
    return actions.do_confirm_device_out(checkout, acting_officer=confirmer)


def _second_officer(post: Post, borrower: Officer) -> Officer:
    """An officer of the post other than the borrower (one is assigned if it has none)."""
    for assignment in post.assignments.exclude(officer=borrower).select_related("officer"):
        if serves_at_post(assignment.officer, post.id):
            return assignment.officer
    officer = org_actions.do_create_officer(
        acting_officer=None,
        username=f"second-{post.station.code.lower()}-{post.code.lower()}",
        full_name="確認 担当",
        rank=Rank.JUNSA,
    )
    org_actions.do_assign(
        officer,
        acting_officer=None,
        role=Role.BEAT_OFFICER,
        post=post,
        valid_from=borrower.current_assignments()[0].valid_from,
        end_current=False,
    )
    return officer


def device_walk_ids(household: Household, borrower: Officer) -> dict[str, int]:
    """For junkai.web.tests.test_access_walk: a device of the household's post carrying its
    beat, confirmed out, and a card conflict kept from it on the household."""
    post = household.post
    checkout = checked_out(
        post, household.beat, borrower, _second_officer(post, borrower), label="WALK-01"
    )
    card = household.cards.filter(status=CardStatus.ACTIVE).first()
    version = card.version if card is not None else None
    data: dict[str, object] = dict(cards.snapshot(card)) if card is not None else {}
    household_actions.do_save_card(
        household,
        {**data, "remarks": "交番で補正"},
        acting_officer=borrower,
        expected_version=version,
    )
    change = actions.Change(
        client_id="walk-1",
        kind="card",
        household_id=household.id,
        card={**data, "remarks": "端末で補正"},
        version=version,
    )
    result = actions.do_push(checkout, acting_officer=borrower, changes=[change])
    assert result.results[0]["status"] == "conflict", result.results
    return {
        "device_id": checkout.device_id,
        "device_checkout_id": checkout.id,
        "conflict_id": CardConflict.objects.get(checkout=checkout).id,
    }
