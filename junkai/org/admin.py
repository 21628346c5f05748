"""The Django admin: for superusers only (no one else has is_staff). Read-mostly by design:
changes to assignments belong to the audited pages and actions."""

from __future__ import annotations

from django.contrib import admin

from junkai.org.models import Assignment, Beat, Officer, Post, Station


@admin.register(Station)
class StationAdmin(admin.ModelAdmin[Station]):
    list_display = ["code", "name"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ["code", "name", "kind", "station", "single_officer"]


@admin.register(Beat)
class BeatAdmin(admin.ModelAdmin[Beat]):
    list_display = ["code", "name", "post"]


@admin.register(Officer)
class OfficerAdmin(admin.ModelAdmin[Officer]):
    list_display = ["username", "full_name", "rank", "staff_number", "is_active"]
    search_fields = ["username", "full_name", "staff_number"]
    exclude = ["password", "user_permissions", "groups"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin[Assignment]):
    list_display = ["officer", "role", "station", "post", "valid_from", "valid_to"]
    list_filter = ["role", "station"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
