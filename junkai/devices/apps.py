from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "junkai.devices"
    label = "devices"
    verbose_name = "端末（オフラインでの持出し）"
