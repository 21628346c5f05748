from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "junkai.demo"
    label = "demo"
    verbose_name = "デモ・合成データ"
