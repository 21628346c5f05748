"""The session's officer, read with his assignments valid today in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from junkai.org.models import Officer, load_officer


class OfficerBackend(ModelBackend):
    """Django's ModelBackend (passwords, permissions) whose `get_user` — run on every request
    with a session — also loads the assignments valid today: the session hash check and the
    scope both need them, and they came in a second query on every page."""

    def get_user(self, user_id: Any) -> Officer | None:
        found = load_officer({"pk": user_id})
        if found is None:
            return None
        officer = found[0]
        return officer if self.user_can_authenticate(officer) else None
