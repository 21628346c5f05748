"""A day's route kept (巡回経路): the stops in the order planned, with their times, so that the
officer finds it again during the day. A stop is done once a visit to its household is recorded
that day (面接・不在・拒否 are all recorded): the tick is read from the visits, never kept twice."""

from __future__ import annotations

from django.db import models

from junkai.households.models import Household
from junkai.org.models import Officer


class KeptRoute(models.Model):
    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="+")
    day = models.DateField("実施日")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    mode = models.CharField("移動手段", max_length=8)
    start_time = models.CharField("出発", max_length=5)
    end_time = models.CharField("帰着", max_length=5)
    start_label = models.CharField("出発・帰着地点", max_length=200)
    start_lat = models.FloatField()
    start_lon = models.FloatField()
    distance_m = models.PositiveIntegerField("総距離（m）")
    duration_s = models.PositiveIntegerField("所要（秒）")
    return_m = models.PositiveIntegerField("帰着までの距離（m）")

    class Meta:
        verbose_name = verbose_name_plural = "保存した巡回経路"
        indexes = [models.Index(fields=["officer", "day", "-created_at"])]

    def __str__(self) -> str:
        return f"巡回経路 #{self.pk}"


class KeptStop(models.Model):
    route = models.ForeignKey(KeptRoute, on_delete=models.CASCADE, related_name="stops")
    number = models.PositiveSmallIntegerField("順")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    arrival = models.CharField("到着", max_length=5)
    start = models.CharField("開始", max_length=5)
    wait_min = models.PositiveIntegerField(default=0)
    leg_m = models.PositiveIntegerField(default=0)
    leg_min = models.PositiveIntegerField(default=0)
    preferred = models.CharField("訪問希望", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "巡回経路の訪問先"
        ordering = ["route", "number"]
        constraints = [
            models.UniqueConstraint(fields=["route", "number"], name="kept_stop_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.route_id}-{self.number}"
