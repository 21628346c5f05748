from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "junkai.web"
    label = "web"
    verbose_name = "画面"
