from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "junkai.documents"
    label = "documents"
    verbose_name = "様式の印刷・略図"
