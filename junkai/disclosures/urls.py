from __future__ import annotations

from django.urls import path

from junkai.disclosures import views

urlpatterns = [
    path("data-uses/", views.data_use_register, name="data_use_register"),
    path("data-uses/new/", views.data_use_new, name="data_use_new"),
    path("data-uses/<int:data_use_id>/", views.data_use_detail, name="data_use_detail"),
    path("data-uses/<int:data_use_id>/verify/", views.data_use_verify, name="data_use_verify"),
    path("data-uses/<int:data_use_id>/approve/", views.data_use_approve, name="data_use_approve"),
    path("data-uses/<int:data_use_id>/refuse/", views.data_use_refuse, name="data_use_refuse"),
    path("data-uses/<int:data_use_id>/release/", views.data_use_release, name="data_use_release"),
    path("agency-requests/", views.agency_request_register, name="agency_requests"),
    path("agency-requests/new/", views.agency_request_new, name="agency_request_new"),
    path(
        "agency-requests/<int:agency_request_id>/",
        views.agency_request_detail,
        name="agency_request_detail",
    ),
    path(
        "agency-requests/<int:agency_request_id>/document/",
        views.agency_request_document,
        name="agency_request_document",
    ),
    path(
        "agency-requests/<int:agency_request_id>/upload/",
        views.agency_request_upload,
        name="agency_request_upload",
    ),
    path(
        "agency-requests/<int:agency_request_id>/decide/",
        views.agency_request_decide,
        name="agency_request_decide",
    ),
    path(
        "agency-requests/<int:agency_request_id>/release/",
        views.agency_request_release,
        name="agency_request_release",
    ),
    path(
        "households/<int:household_id>/disclosures/",
        views.disclosure_accounting,
        name="disclosure_accounting",
    ),
    path("misuse/", views.misuse_flags, name="misuse_flags"),
    path("misuse/<int:misuse_flag_id>/", views.misuse_flag_detail, name="misuse_flag"),
    path(
        "misuse/<int:misuse_flag_id>/review/",
        views.misuse_flag_review,
        name="misuse_flag_review",
    ),
]
