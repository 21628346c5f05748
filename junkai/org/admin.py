"""The Django admin: for superusers only (no one else has is_staff), and read-only for the
organisation: every change to it is an action with its audit event (the organisation pages,
`import-org`, `import-officers`), never a row saved behind the audit log's back."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model

from junkai.org.models import Assignment, Beat, Officer, Post, Station

M = TypeVar("M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Station)
class StationAdmin(ReadOnlyAdmin[Station]):
    list_display = ["code", "name"]


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin[Post]):
    list_display = ["code", "name", "kind", "station", "single_officer"]


@admin.register(Beat)
class BeatAdmin(ReadOnlyAdmin[Beat]):
    list_display = ["code", "name", "post"]


@admin.register(Officer)
class OfficerAdmin(ReadOnlyAdmin[Officer]):
    list_display = ["username", "full_name", "rank", "staff_number", "is_active"]
    search_fields = ["username", "full_name", "staff_number"]
    exclude = ["password", "user_permissions", "groups"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin[Assignment]):
    list_display = ["officer", "role", "station", "post", "valid_from", "valid_to"]
    list_filter = ["role", "station"]
