"""Beat outlines and post positions for the demo station, so its maps look right at once.

Each beat's outline is the convex hull of its households pushed out by a margin (wider in a
駐在所's rural beat); each post stands at the middle of its beats' households. Built through
the org actions (audited, source デモ); beats and posts that already have theirs are left alone.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from junkai.households.models import Household
from junkai.lib import geometry
from junkai.org import actions
from junkai.org.models import Beat, Post, PostKind, Station


def build_demo_outlines(station: Station) -> int:
    """Give the station's beats outlines and its posts positions; returns how many outlines."""
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for beat_id, lon, lat in Household.objects.filter(
        station=station, latitude__isnull=False, longitude__isnull=False
    ).values_list("beat_id", "longitude", "latitude"):
        if lon is not None and lat is not None:
            points[beat_id].append((float(lon), float(lat)))
    made = 0
    by_post: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for beat in Beat.objects.filter(post__station=station).select_related("post"):
        beat_points = points.get(beat.id, [])
        by_post[beat.post_id].extend(beat_points)
        if beat.outline or not beat_points:
            continue
        pad = 250.0 if beat.post.kind == PostKind.CHUZAISHO else 70.0
        outline = geometry.padded_hull(beat_points, pad_m=pad)
        actions.do_save_beat_outline(beat, outline, acting_officer=None, source="デモ")
        made += 1
    for post in Post.objects.filter(station=station, latitude__isnull=True):
        post_points = by_post.get(post.id)
        if not post_points:
            continue
        # The household nearest the middle: a post stands on a street, not in a field.
        lon0 = sum(p[0] for p in post_points) / len(post_points)
        lat0 = sum(p[1] for p in post_points) / len(post_points)
        near = min(post_points, key=lambda p: (p[0] - lon0) ** 2 + (p[1] - lat0) ** 2)
        actions.do_set_post_location(
            post,
            acting_officer=None,
            latitude=Decimal(f"{near[1] + 0.0002:.6f}"),
            longitude=Decimal(f"{near[0]:.6f}"),
        )
    return made
