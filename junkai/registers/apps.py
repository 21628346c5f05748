from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "junkai.registers"
    label = "registers"
    verbose_name = "簿冊・持出確認簿・保管庫・巡視点検"
