from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "junkai.accounts"
    label = "accounts"
    verbose_name = "サインイン・トークン"

    def ready(self) -> None:
        # Sign-in success and failure reach the audit log through Django's auth signals.
        from junkai.accounts import signals  # noqa: F401
