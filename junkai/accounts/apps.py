from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "junkai.accounts"
    label = "accounts"
    verbose_name = "サインイン・トークン"
