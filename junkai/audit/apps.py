from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "junkai.audit"
    label = "audit"
    verbose_name = "監査記録"

    def ready(self) -> None:
        from junkai.audit import signals  # noqa: F401  (sign-in events)
