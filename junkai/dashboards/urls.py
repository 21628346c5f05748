from __future__ import annotations

from django.urls import path

from junkai.dashboards import views, views_pending

urlpatterns = [
    path("todo/", views_pending.todo, name="todo"),
    path("todo/count/", views_pending.todo_count, name="todo_count"),
    path("dashboard/", views.dashboard_index, name="dashboard"),
    path("dashboard/hq/", views.hq_dashboard, name="dashboard_hq"),
    path("dashboard/stations/<int:station_id>/", views.station_dashboard, name="dashboard_station"),
    path(
        "dashboard/stations/<int:station_id>/report.xlsx",
        views.monthly_report,
        {"fmt": "xlsx"},
        name="dashboard_report_xlsx",
    ),
    path(
        "dashboard/stations/<int:station_id>/report.pdf",
        views.monthly_report,
        {"fmt": "pdf"},
        name="dashboard_report_pdf",
    ),
    path("dashboard/posts/<int:post_id>/", views.post_dashboard, name="dashboard_post"),
    path("dashboard/beats/<int:beat_id>/", views.beat_dashboard, name="dashboard_beat"),
]
