"""Errors every layer raises: the domain's refusals, with their Japanese message."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class PermissionDeniedError(PermissionDenied):
    """The acting officer may not do this; the message (Japanese) says why.

    A PermissionDenied, so a page that does not catch it answers 403."""
