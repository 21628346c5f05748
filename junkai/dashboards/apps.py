from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "junkai.dashboards"
    label = "dashboards"
    verbose_name = "進捗状況"

    def ready(self) -> None:
        # A task waiting in 要対応 explains opening its household's card (no purpose asked).
        from junkai.access.purposes import register_task_at_hand
        from junkai.dashboards.pending import task_at_hand

        register_task_at_hand(task_at_hand)
