from __future__ import annotations

from django.urls import path

from junkai.visits import views

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("households/<int:household_id>/visit/", views.visit_new, name="visit_new"),
    path("inbox/", views.inbox, name="inbox"),
    path(
        "inbox/refusals/<int:report_id>/acknowledge/",
        views.refusal_acknowledge,
        name="refusal_acknowledge",
    ),
    path("inbox/info/<int:info_id>/acknowledge/", views.info_acknowledge, name="info_acknowledge"),
    path(
        "households/<int:household_id>/night-approval/",
        views.night_request,
        name="night_request",
    ),
    path("inbox/night/<int:approval_id>/approve/", views.night_approve, name="night_approve"),
    path("inbox/night/<int:approval_id>/reject/", views.night_reject, name="night_reject"),
]
