from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "junkai.visits"
    label = "visits"
    verbose_name = "巡回連絡の実施・計画"
