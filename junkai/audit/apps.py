from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "junkai.audit"
    label = "audit"
    verbose_name = "監査記録"
