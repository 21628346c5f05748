"""Reads of devices and their checkouts: the registers' scope (the post's devices are its
registers), 404 alike for absent and out of scope, every refusal recorded."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from junkai.access.records import deny
from junkai.access.roles import register_scope
from junkai.devices.models import CardConflict, Device, DeviceCheckout
from junkai.org.models import Officer


def devices_visible_to(officer: Officer | Any) -> QuerySet[Device]:
    where = register_scope(officer)
    return Device.objects.none() if where is None else Device.objects.filter(where)


def device_checkouts_visible_to(officer: Officer | Any) -> QuerySet[DeviceCheckout]:
    posts = devices_visible_to(officer).values("post_id")
    return DeviceCheckout.objects.filter(device__post_id__in=posts)


def access_device(officer: Officer, device_id: int) -> Device:
    device = (
        devices_visible_to(officer)
        .select_related("post", "post__station")
        .filter(id=device_id)
        .first()
    )
    if device is None:
        raise deny(officer, "devices.device", device_id)
    return device


def access_device_checkout(officer: Officer, checkout_id: int) -> DeviceCheckout:
    """A device checkout of a post in the officer's scope; 404 otherwise."""
    checkout = (
        device_checkouts_visible_to(officer)
        .select_related(
            "entry", "entry__post", "entry__post__station", "device", "beat", "beat__post"
        )
        .filter(id=checkout_id)
        .first()
    )
    if checkout is None:
        raise deny(officer, "devices.devicecheckout", checkout_id)
    return checkout


def access_card_conflict(officer: Officer, conflict_id: int) -> CardConflict:
    """A device's conflicting correction, for an officer who may write the household's post
    (the one who resolves it); 404 alike otherwise."""
    posts = devices_visible_to(officer).values("post_id")
    conflict = (
        CardConflict.objects.filter(id=conflict_id, household__post_id__in=posts)
        .select_related("household", "card", "submitted_by", "checkout")
        .first()
    )
    if conflict is None:
        raise deny(officer, "devices.cardconflict", conflict_id)
    return conflict
