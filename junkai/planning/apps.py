from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "junkai.planning"
    label = "planning"
    verbose_name = "受持区地図・巡回経路"
