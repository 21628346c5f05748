from __future__ import annotations

from django.urls import path

from junkai.devices import views

urlpatterns = [
    path(
        "devices/conflicts/<int:conflict_id>/",
        views.card_conflict,
        name="device_card_conflict",
    ),
    path("devices/<int:device_id>/loss/", views.device_loss_new, name="device_loss_new"),
]
