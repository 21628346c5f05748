from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "junkai.ops"
    label = "ops"
    verbose_name = "運用（定期処理・バックアップ）"
