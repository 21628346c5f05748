from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "junkai.dashboards"
    label = "dashboards"
    verbose_name = "進捗状況"
