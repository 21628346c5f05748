from __future__ import annotations

from django.urls import path

from junkai.devices import views, views_offline

urlpatterns = [
    path(
        "devices/conflicts/<int:conflict_id>/",
        views.card_conflict,
        name="device_card_conflict",
    ),
    path("devices/<int:device_id>/loss/", views.device_loss_new, name="device_loss_new"),
    path("devices/<int:device_id>/revoke/", views.device_revoke, name="device_revoke"),
    path("devices/posts/<int:post_id>/new/", views.device_new, name="device_new"),
    # The offline app (issue 18): shell, service worker and manifest under one scope.
    path("offline/", views_offline.offline_app, name="offline_app"),
    path("offline/sw.js", views_offline.offline_service_worker, name="offline_sw"),
    path("offline/manifest.webmanifest", views_offline.offline_manifest, name="offline_manifest"),
    path("offline/session/", views_offline.offline_session, name="offline_session"),
    path("offline/take-out/", views_offline.offline_take_out, name="offline_take_out"),
]
