from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "junkai.disclosures"
    label = "disclosures"
    verbose_name = "利用確認簿・照会・不適正利用の兆候"
