from __future__ import annotations

from django.urls import URLPattern, path

from junkai.planning import views_routes

urlpatterns: list[URLPattern] = [
    path("routes/", views_routes.route_new, name="route_new"),
    path("routes/today/", views_routes.route_today, name="route_today"),
    path("routes/sheet.pdf", views_routes.route_sheet, name="route_sheet"),
]
