"""Plans, dedicated days, the schedule policy, handover and concern follow-up (planning pages)."""

from __future__ import annotations

from django.urls import path, register_converter

from junkai.visits import views_monthly_plans as views


class YearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):04d}"


class MonthConverter:
    """1 or 2 digits in (2025-6 and 2025-06 both work); written back as 06."""

    regex = "[0-9]{1,2}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):02d}"


register_converter(YearConverter, "planyear")
register_converter(MonthConverter, "planmonth")

urlpatterns = [
    path("policy/", views.schedule_policy, name="schedule_policy"),
    path("plan/", views.monthly_plan_current, name="monthly_plan_current"),
    path("plan/<planyear:year>-<planmonth:month>/", views.monthly_plan, name="monthly_plan"),
    path("org/dedicated-days/", views.dedicated_days_index, name="dedicated_days_index"),
    path(
        "org/officers/<int:officer_id>/dedicated-days/",
        views.dedicated_days,
        name="dedicated_days",
    ),
    path("beats/<int:beat_id>/handover/", views.handover, name="handover"),
    path("concerns/", views.concern_list, name="concerns"),
    path("concerns/<int:concern_id>/", views.concern_detail, name="concern"),
]
