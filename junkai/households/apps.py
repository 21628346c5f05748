from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "junkai.households"
    label = "households"
    verbose_name = "世帯・巡回連絡カード"
