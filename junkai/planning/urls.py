from __future__ import annotations

from django.urls import URLPattern, path

from junkai.planning import views

urlpatterns: list[URLPattern] = [
    path("beats/<int:beat_id>/map/", views.beat_map, name="beat_map"),
    path("beats/<int:beat_id>/outline/", views.beat_outline, name="beat_outline"),
    path("beats/outlines/import/", views.outline_import, name="outline_import"),
]
