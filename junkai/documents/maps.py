"""第2号様式 世帯分布略図 and 第3号様式 アパート等居住分布略図, drawn from the records.

第2号: one landscape A4 page per 町名 and 組・班, with the form's heading boxes (町名, 組・班,
整理番号 ～). Households with a position (lat/lon) are projected onto the page; those without
are laid out in street order (丁目・番地・号) along ruled streets. Each door is a small house
with its 整理番号 and the 世帯主's surname (a business: its name); an apartment building is one
block with its name and the range of its 整理番号. Labels that would overlap are pushed apart
and keep a leader line to their true position.

第3号: one page per building, its floors (top floor uppermost) × rooms, each room with the
household living there, its 整理番号 and whether its card is held.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from io import BytesIO

from reportlab.pdfgen.canvas import Canvas

from junkai.documents.pdf import (
    FONT,
    MM,
    boxes_width,
    draw_boxes,
    draw_fitted,
    draw_footer,
    draw_title,
    new_canvas,
)
from junkai.households.models import Building, Household, HouseholdKind, HouseholdStatus

MARGIN = 12 * MM
METRES_PER_DEGREE = 111_320.0
MAX_PT_PER_METRE = 3.0
KEY_MAP_W = 48 * MM
KEY_MAP_H = 40 * MM
BLOCK_PAD = 7.0  # points around a block's doors


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """「2組」<「10組」, 「3-2」<「3-10」: numbers compare as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", text or "")
        if part
    )


def street_key(h: Household) -> tuple[object, ...]:
    return (
        natural_key(h.chome),
        natural_key(h.banchi),
        natural_key(h.go),
        h.building_id or 0,
        natural_key(h.room),
        h.map_number or 0,
        h.id,
    )


def short_name(h: Household) -> str:
    """The surname of a home's 世帯主 (「鈴木 蒼真」→「鈴木」); a business's whole name."""
    name = (h.name or "").strip()
    if h.kind == HouseholdKind.BUSINESS:
        return name
    return re.split(r"[\s\u3000]", name)[0] if name else ""


def number_range(numbers: Iterable[int | None]) -> str:
    found = sorted(n for n in numbers if n is not None)
    if not found:
        return ""
    return str(found[0]) if found[0] == found[-1] else f"{found[0]}～{found[-1]}"


@dataclass
class Mark:
    """One thing drawn on the sketch: a door, or an apartment building with its doors."""

    number: str
    name: str
    business: bool
    building: bool
    households: list[Household]
    lat: float | None = None
    lon: float | None = None
    # Layout, in points.
    width: float = 0.0
    height: float = 0.0
    ax: float = 0.0  # anchor: the true position
    ay: float = 0.0
    x: float = 0.0  # label centre after pushing apart
    y: float = 0.0
    banchi: str = ""
    chome: str = ""
    zoom: float = 1.0

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


def marks_for(households: Sequence[Household]) -> list[Mark]:
    """Doors in street order; the rooms of one building become one mark."""
    marks: list[Mark] = []
    by_building: dict[int, Mark] = {}
    for h in sorted(households, key=street_key):
        lat = float(h.latitude) if h.latitude is not None else None
        lon = float(h.longitude) if h.longitude is not None else None
        if h.building_id is not None and h.building is not None:
            mark = by_building.get(h.building_id)
            if mark is None:
                mark = Mark(
                    "", h.building.name, False, True, [], lat, lon, banchi=h.banchi,
                    chome=h.chome,
                )  # fmt: skip
                by_building[h.building_id] = mark
                marks.append(mark)
            mark.households.append(h)
            if mark.lat is None and lat is not None:
                mark.lat, mark.lon = lat, lon
            continue
        number = str(h.map_number) if h.map_number is not None else "―"
        name = short_name(h)
        if h.status == HouseholdStatus.VACANT:
            name = f"{name}（空）" if name else "（空き家）"
        business = h.kind == HouseholdKind.BUSINESS
        marks.append(
            Mark(number, name, business, False, [h], lat, lon, banchi=h.banchi, chome=h.chome)
        )
    for mark in by_building.values():
        mark.number = number_range(h.map_number for h in mark.households) or "―"
        mark.name = f"{mark.name}（{len(mark.households)}戸）"
    return marks


def _size(canvas: Canvas, mark: Mark, zoom: float = 1.0) -> None:
    mark.zoom = zoom
    number_width = canvas.stringWidth(mark.number, FONT, 8) + 5
    name_width = canvas.stringWidth(mark.name, FONT, 6) + 2
    mark.width = max(number_width, name_width, 16.0) * zoom
    mark.height = 21.0 * zoom


def _push_apart(marks: list[Mark], frame: tuple[float, float, float, float]) -> None:
    """Move overlapping labels apart (a few rounds of pairwise pushes), inside the frame."""
    left, bottom, right, top = frame
    gap = 3.0
    for _ in range(120):
        moved = False
        for i, a in enumerate(marks):
            for b in marks[i + 1 :]:
                ox = (a.width + b.width) / 2 + gap - abs(a.x - b.x)
                oy = (a.height + b.height) / 2 + gap - abs(a.y - b.y)
                if ox <= 0 or oy <= 0:
                    continue
                moved = True
                if ox < oy:
                    shift = ox / 2 * (1 if a.x >= b.x else -1) or ox / 2
                    a.x += shift
                    b.x -= shift
                else:
                    shift = oy / 2 * (1 if a.y >= b.y else -1) or oy / 2
                    a.y += shift
                    b.y -= shift
        for m in marks:
            m.x = min(max(m.x, left + m.width / 2), right - m.width / 2)
            m.y = min(max(m.y, bottom + m.height / 2), top - m.height / 2)
        if not moved:
            break


def _draw_leader(canvas: Canvas, mark: Mark) -> None:
    """A label pushed away from its door keeps a line to the door's true position."""
    if math.hypot(mark.x - mark.ax, mark.y - mark.ay) > 6:
        canvas.setStrokeGray(0.55)
        canvas.setLineWidth(0.4)
        canvas.line(mark.ax, mark.ay, mark.x, mark.y)
        canvas.setStrokeGray(0)
        canvas.circle(mark.ax, mark.ay, 1.2, stroke=0, fill=1)


def _draw_mark(canvas: Canvas, mark: Mark) -> None:
    x, y = mark.x, mark.y
    z = mark.zoom
    house_h = 11.0 * z
    left = x - mark.width / 2
    base = y + mark.height / 2 - house_h
    canvas.setLineWidth(0.7)
    if mark.building:
        canvas.setFillGray(0.85)
        canvas.rect(left, base, mark.width, house_h, stroke=1, fill=1)
        canvas.setFillGray(0)
    else:
        # A house: a box under a roof line.
        canvas.setFillGray(0.8 if mark.business else 1)
        canvas.rect(left, base, mark.width, house_h - 2.5 * z, stroke=1, fill=1)
        canvas.setFillGray(0)
        path = canvas.beginPath()
        path.moveTo(left - 1, base + house_h - 2.5 * z)
        path.lineTo(x, base + house_h + 1 * z)
        path.lineTo(left + mark.width + 1, base + house_h - 2.5 * z)
        canvas.drawPath(path, stroke=1, fill=0)
    draw_fitted(
        canvas, mark.number, left + 1, base + 2 * z, mark.width - 2, size=8 * z, align="center"
    )
    if mark.name:
        canvas.setFillGray(1)
        canvas.rect(left, base - 8.5 * z, mark.width, 7.5 * z, stroke=0, fill=1)
        canvas.setFillGray(0)
    draw_fitted(canvas, mark.name, left, base - 7 * z, mark.width, size=6 * z, align="center")


Projector = Callable[[float, float], tuple[float, float]]


def _project(
    marks: list[Mark], frame: tuple[float, float, float, float]
) -> tuple[float, Projector]:
    """Place located marks by lat/lon (equirectangular about their centre); points per metre,
    and the projection (lon, lat) → page for the outline and the landmarks."""
    left, bottom, right, top = frame
    lat0 = sum(m.lat or 0 for m in marks) / len(marks)
    k = math.cos(math.radians(lat0)) * METRES_PER_DEGREE
    xs = [(m.lon or 0) * k for m in marks]
    ys = [(m.lat or 0) * METRES_PER_DEGREE for m in marks]
    pad = 18.0
    span_x = max(max(xs) - min(xs), 1.0)
    span_y = max(max(ys) - min(ys), 1.0)
    scale = min(
        (right - left - 2 * pad) / span_x, (top - bottom - 2 * pad) / span_y, MAX_PT_PER_METRE
    )
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    mid_x, mid_y = (left + right) / 2, (bottom + top) / 2

    def to_page(lon: float, lat: float) -> tuple[float, float]:
        return mid_x + (lon * k - cx) * scale, mid_y + (lat * METRES_PER_DEGREE - cy) * scale

    for m in marks:
        m.ax, m.ay = to_page(m.lon or 0, m.lat or 0)
        m.x, m.y = m.ax, m.ay
    return scale, to_page


COMPASS = ("東", "北東", "北", "北西", "西", "南西", "南", "南東")


def _distance(metres: float) -> str:
    """How far, as a map's reader says it: 約 350 m; from 1 km in km (約 1.2 km, 約 47 km: a
    駐在所's beat can run tens of kilometres along a valley)."""
    if metres < 995:
        return f"{round(metres, -1):,.0f} m"
    if metres < 9_950:
        return f"{metres / 1000:.1f} km"
    return f"{metres / 1000:,.0f} km"


def _compass(dx: float, dy: float) -> str:
    """The direction of (dx, dy) on the page (north up) in eight points: 「北東」."""
    angle = math.degrees(math.atan2(dy, dx)) % 360
    return COMPASS[round(angle / 45) % 8]


def _inside(x: float, y: float, frame: tuple[float, float, float, float], pad: float = 0) -> bool:
    left, bottom, right, top = frame
    return left + pad < x < right - pad and bottom + pad < y < top - pad


def _orientation(
    canvas: Canvas,
    page: MapPage,
    located: list[Mark],
    to_page: Projector,
    frame: tuple[float, float, float, float],
    scale: float,
) -> list[PlacedBlock]:
    """What to orient by, under the doors, from the outline and the addresses: each 番 (街区)
    as a grey block around its doors (the white between blocks is the streets) named in the
    street under it — the neighbouring blocks of other 組・班 too, lighter; each 丁目 named
    large; the beat's outline (受持区の境界); and the post: on the page where it stands, else
    an arrow at the edge with its direction and distance."""
    left, bottom, right, top = frame
    canvas.saveState()
    path = canvas.beginPath()
    path.rect(left, bottom, right - left, top - bottom)
    canvas.clipPath(path, stroke=0, fill=0)
    # The blocks (番) as light grey shapes: the white between them is the streets. Each is
    # named in the street under it — this page's darker, the neighbouring blocks lighter.
    own = {(page.town, m.chome, m.banchi) for m in located if m.banchi}
    placed: list[PlacedBlock] = []
    for b in page.blocks:
        x0, y0 = to_page(b.west, b.south)
        x1, y1 = to_page(b.east, b.north)
        x0, y0, x1, y1 = x0 - BLOCK_PAD, y0 - BLOCK_PAD, x1 + BLOCK_PAD, y1 + BLOCK_PAD
        if x1 < left or x0 > right or y1 < bottom or y0 > top:
            continue
        placed.append((b, x0, y0, x1, y1))
        canvas.setFillGray(0.9 if (b.town, b.chome, b.banchi) in own else 0.94)
        canvas.roundRect(x0, y0, x1 - x0, y1 - y0, 4, stroke=0, fill=1)
    canvas.setStrokeGray(0.45)
    canvas.setLineWidth(1.6)
    canvas.setDash(6, 3)
    for ring in page.outline:
        points = [to_page(float(lon), float(lat)) for lon, lat, *_ in ring]
        if len(points) > 1:
            outline = canvas.beginPath()
            outline.moveTo(*points[0])
            for point in points[1:]:
                outline.lineTo(*point)
            canvas.drawPath(outline, stroke=1, fill=0)
    canvas.setDash()
    canvas.setStrokeGray(0)
    canvas.restoreState()
    return placed


def _over_doors(
    canvas: Canvas,
    page: MapPage,
    located: list[Mark],
    placed: list[PlacedBlock],
    to_page: Projector,
    frame: tuple[float, float, float, float],
    scale: float,
    notes_at: tuple[float, float] | None = None,
) -> None:
    """Drawn after the doors, placed where no door's label covers them: each block's name in
    the street under it and its doors (this page's darker, the neighbouring ones lighter),
    each 丁目's name above its doors, and the post (an arrow at the edge when it is off the
    page, with its direction and distance from the page's middle)."""
    left, bottom, right, top = frame
    lowest: dict[tuple[str, str], float] = {}
    for m in located:
        key = (m.chome, m.banchi)
        lowest[key] = min(lowest.get(key, math.inf), m.y - m.height / 2)
    canvas.saveState()
    for b, x0, y0, x1, _y1 in placed:
        mine = b.town == page.town and (b.chome, b.banchi) in lowest
        size = 7.5 if mine else 6.5
        text = b.label if b.town == page.town else f"{b.town}{b.label}"
        width = canvas.stringWidth(text, FONT, size)
        x = min(max((x0 + x1) / 2, left + width / 2 + 2), right - width / 2 - 2)
        base = min(y0, lowest.get((b.chome, b.banchi), math.inf)) if mine else y0
        y = base - size - 1
        if y < bottom + 2:
            continue
        canvas.setFillGray(1)
        canvas.rect(x - width / 2 - 1, y - 1.5, width + 2, size + 1.5, stroke=0, fill=1)
        canvas.setFillGray(0.25 if mine else 0.5)
        canvas.setFont(FONT, size)
        canvas.drawCentredString(x, y, text)
    # 丁目: named large in the street above its blocks on this page (below them at the top).
    areas: dict[tuple[str, str], list[float]] = {}
    for b, x0, y0, x1, y1 in placed:
        if not b.chome:
            continue
        area = areas.setdefault((b.town, b.chome), [x0, y0, x1, y1])
        area[0], area[1] = min(area[0], x0), min(area[1], y0)
        area[2], area[3] = max(area[2], x1), max(area[3], y1)
    for m in located:
        found = areas.get((page.town, m.chome))
        if found is not None:  # above (below) its doors' labels too
            found[1] = min(found[1], m.y - m.height / 2 - 10)
            found[3] = max(found[3], m.y + m.height / 2)
    canvas.setFillGray(0.5)
    canvas.setFont(FONT, 13)
    for (town, chome), (x0, y0, _x1, y1) in areas.items():
        x = max(x0, left + 4)
        y = y1 + 4 if y1 + 17 < top else y0 - 16
        canvas.drawString(x, min(max(y, bottom + 4), top - 15), f"{town}{chome}丁目")
    canvas.setFillGray(0)
    cx, cy = (left + right) / 2, (bottom + top) / 2
    for name, lon, lat in page.landmarks:
        x, y = to_page(lon, lat)
        if _inside(x, y, frame):
            canvas.setLineWidth(1)
            canvas.rect(x - 4, y - 4, 8, 8, stroke=1, fill=1)
            canvas.setFont(FONT, 8)
            canvas.drawString(x + 6, y - 3, name)
            continue
        # Off the page: an arrow on the edge, towards it, with how far from the page's middle.
        dx, dy = x - cx, y - cy
        reach = min(
            (right - left) / 2 / abs(dx) if dx else math.inf,
            (top - bottom) / 2 / abs(dy) if dy else math.inf,
        )
        ex, ey = cx + dx * reach * 0.97, cy + dy * reach * 0.97
        ux, uy = dx / math.hypot(dx, dy), dy / math.hypot(dx, dy)
        arrow = canvas.beginPath()
        arrow.moveTo(ex, ey)
        arrow.lineTo(ex - 12 * ux - 5 * uy, ey - 12 * uy + 5 * ux)
        arrow.lineTo(ex - 12 * ux + 5 * uy, ey - 12 * uy - 5 * ux)
        arrow.close()
        canvas.drawPath(arrow, stroke=0, fill=1)
        where = f"{_compass(dx, dy)}へ約{_distance(math.hypot(dx, dy) / scale)}"
        if notes_at is not None:
            # Beside the page, under the key map: no door's label is covered.
            nx, ny = notes_at
            canvas.setFont(FONT, 8)
            canvas.drawString(nx, ny - 10, f"■ {name}")
            canvas.setFont(FONT, 7.5)
            canvas.drawString(nx + 8, ny - 20, f"図の中央から{where}")
            notes_at = (nx, ny - 28)
            continue
        text = f"{name}（{where}）"
        canvas.setFont(FONT, 8)
        width = canvas.stringWidth(text, FONT, 8)
        tx = min(max(ex - 16 * ux - width / 2, left + 3), right - width - 3)
        ty = min(max(ey - 22 * uy - 3, bottom + 3), top - 11)
        canvas.setFillGray(1)
        canvas.rect(tx - 2, ty - 2, width + 4, 11, stroke=0, fill=1)
        canvas.setFillGray(0)
        canvas.drawString(tx, ty, text)
    canvas.restoreState()


def _key_map(
    canvas: Canvas,
    page: MapPage,
    shown: list[Mark],
    box: tuple[float, float, float, float],
) -> None:
    """受持区内の位置: the whole beat small (its outline and the post), this page's area as a
    grey box in it, so a page of one 組 says where in the beat it lies."""
    left, bottom, right, top = box
    points = [(float(p[0]), float(p[1])) for ring in page.outline for p in ring]
    points += [(lon, lat) for _, lon, lat in page.landmarks]
    lons = [m.lon or 0 for m in shown]
    lats = [m.lat or 0 for m in shown]
    area = (min(lons), min(lats), max(lons), max(lats))
    points += [(area[0], area[1]), (area[2], area[3])]
    lat0 = sum(p[1] for p in points) / len(points)
    k = math.cos(math.radians(lat0))
    xs = [p[0] * k for p in points]
    ys = [p[1] for p in points]
    title = 12.0
    scale = min(
        (right - left - 10) / max(max(xs) - min(xs), 1e-6),
        (top - bottom - title - 10) / max(max(ys) - min(ys), 1e-6),
    )
    ox = (left + right) / 2 - (max(xs) + min(xs)) / 2 * scale
    oy = (bottom + top - title) / 2 - (max(ys) + min(ys)) / 2 * scale

    def at(lon: float, lat: float) -> tuple[float, float]:
        return ox + lon * k * scale, oy + lat * scale

    canvas.saveState()
    canvas.setLineWidth(0.8)
    canvas.setFillGray(1)
    canvas.rect(left, bottom, right - left, top - bottom, stroke=1, fill=1)
    canvas.setFillGray(0)
    canvas.setFont(FONT, 7.5)
    canvas.drawString(left + 4, top - 9, "受持区内の位置")
    canvas.setStrokeGray(0.35)
    canvas.setDash(3, 2)
    for ring in page.outline:
        ring_points = [at(float(p[0]), float(p[1])) for p in ring]
        if len(ring_points) > 1:
            path = canvas.beginPath()
            path.moveTo(*ring_points[0])
            for point in ring_points[1:]:
                path.lineTo(*point)
            canvas.drawPath(path, stroke=1, fill=0)
    canvas.setDash()
    x0, y0 = at(area[0], area[1])
    x1, y1 = at(area[2], area[3])
    canvas.setFillGray(0.55)
    canvas.rect(x0 - 2, y0 - 2, max(x1 - x0, 0) + 4, max(y1 - y0, 0) + 4, stroke=0, fill=1)
    canvas.setFillGray(0)
    canvas.setStrokeGray(0)
    for name, lon, lat in page.landmarks:
        x, y = at(lon, lat)
        canvas.rect(x - 2.5, y - 2.5, 5, 5, stroke=1, fill=1)
        canvas.setFont(FONT, 6.5)
        label_width = canvas.stringWidth(name, FONT, 6.5)
        tx = x + 4 if x + 4 + label_width < right - 2 else x - 4 - label_width
        canvas.drawString(tx, y - 2, name)
    canvas.restoreState()


def _street_zoom(
    canvas: Canvas, marks: list[Mark], frame: tuple[float, float, float, float]
) -> float:
    """The largest zoom (≤ 2) at which the street-order rows still fit the frame."""
    left, bottom, right, top = frame
    for tenth in range(20, 9, -1):
        zoom = tenth / 10
        for m in marks:
            _size(canvas, m, zoom)
        usable = right - left - 16
        total = sum(m.width + 12 for m in marks)
        rows = math.ceil(total / usable) + 1
        if rows * (46.0 * zoom) + 32 <= top - bottom:
            return zoom
    for m in marks:
        _size(canvas, m, 1.0)
    return 1.0


def _street_order(
    canvas: Canvas, marks: list[Mark], frame: tuple[float, float, float, float]
) -> None:
    """No positions: doors left to right in street order along ruled streets, a gap and the
    番地 under the street where the 番地 changes."""
    left, bottom, right, top = frame
    zoom = marks[0].zoom if marks else 1.0
    row_height = 46.0 * zoom
    x = left + 8
    street_y = top - 12 - 20.0 * zoom
    previous = None
    chome: str | None = None
    canvas.setFont(FONT, 6.5)
    rows: list[float] = [street_y]
    for m in marks:
        if previous is not None and m.banchi != previous:
            x += 8
        if x + m.width > right - 8:
            x = left + 8
            street_y -= row_height
            rows.append(street_y)
        m.x = m.ax = x + m.width / 2
        m.y = m.ay = street_y + 4 + m.height / 2
        if m.banchi != previous or x == left + 8:
            canvas.setFillGray(0.35)
            # The 丁目 where it changes (or a street begins), then the 番地: the addresses
            # are what there is to orient by when no position was recorded.
            new_chome = m.chome != chome or x == left + 8
            where_label = f"{m.chome}丁目" if m.chome and new_chome else ""
            canvas.drawString(x, street_y - 8, f"{where_label}{m.banchi}番" if m.banchi else "")
            canvas.setFillGray(0)
        previous = m.banchi
        chome = m.chome
        x += m.width + 4
    canvas.setStrokeGray(0.5)
    canvas.setLineWidth(2.2)
    for y in rows:
        if y > bottom:
            canvas.line(left + 4, y, right - 4, y)
    canvas.setStrokeGray(0)


def _scale_bar(canvas: Canvas, scale: float, x: float, y: float) -> None:
    metres = 10.0
    for step in (10, 20, 50, 100, 200, 500, 1000):
        if step * scale <= 120:
            metres = float(step)
    length = metres * scale
    canvas.setLineWidth(1)
    canvas.line(x - length, y, x, y)
    canvas.line(x - length, y - 2, x - length, y + 2)
    canvas.line(x, y - 2, x, y + 2)
    canvas.setFont(FONT, 7)
    canvas.drawCentredString(x - length / 2, y + 4, f"{metres:.0f} m")


def _north(canvas: Canvas, x: float, y: float) -> None:
    path = canvas.beginPath()
    path.moveTo(x, y + 14)
    path.lineTo(x - 4, y)
    path.lineTo(x + 4, y)
    path.close()
    canvas.drawPath(path, stroke=1, fill=1)
    canvas.setFont(FONT, 8)
    canvas.drawCentredString(x, y + 16, "N")


@dataclass
class MapPage:
    town: str
    block_group: str
    households: list[Household] = field(default_factory=list)
    # To orient by: the beat's outline rings ([lon, lat] points) and named points (the post).
    outline: list[list[list[float]]] = field(default_factory=list)
    landmarks: list[tuple[str, float, float]] = field(default_factory=list)
    # Every 番 (街区) of the beat with a position: (町名, 丁目, 番, lon, lat) at the middle of
    # its doors, so that the blocks around this page's doors are named too.
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Block:
    """A 番 (街区) of the beat: the box around its doors' positions."""

    town: str
    chome: str
    banchi: str
    west: float
    south: float
    east: float
    north: float

    @property
    def label(self) -> str:
        """「1丁目2番」 in a town of 丁目; 「1008番地」 in a 大字 (a 駐在所's rural beat)."""
        return f"{self.chome}丁目{self.banchi}番" if self.chome else f"{self.banchi}番地"


#: A block on the page: the Block and its box in points (x0, y0, x1, y1), padded.
PlacedBlock = tuple[Block, float, float, float, float]


def blocks_of(points: Iterable[tuple[str, str, str, float, float]]) -> list[Block]:
    """(町名, 丁目, 番, lon, lat) of doors → one Block per 番, the box around its doors."""
    boxes: dict[tuple[str, str, str], list[float]] = {}
    for town, chome, banchi, lon, lat in points:
        if not banchi:
            continue
        box = boxes.setdefault((town, chome, banchi), [lon, lat, lon, lat])
        box[0], box[1] = min(box[0], lon), min(box[1], lat)
        box[2], box[3] = max(box[2], lon), max(box[3], lat)
    return [Block(town, chome, banchi, *box) for (town, chome, banchi), box in boxes.items()]


def render_household_map(pages: list[MapPage], *, unit: str, footer: str) -> bytes:
    buffer = BytesIO()
    canvas = new_canvas(buffer, title="世帯分布略図", landscape=True)
    width, height = canvas._pagesize
    top = height - MARGIN
    for number, page in enumerate(pages, start=1):
        draw_title(canvas, "世帯分布略図", "第2号様式", top=top)
        marks = marks_for(page.households)
        numbers = number_range(h.map_number for h in page.households)
        lo, _, hi = numbers.partition("～")
        cells = [
            ("町名", page.town, 42 * MM),
            ("組・班", page.block_group or "（なし）", 20 * MM),
            ("整理番号", f"{lo} ～ {hi or lo}" if lo else "", 28 * MM),
        ]
        canvas.setLineWidth(1.2)
        draw_boxes(canvas, cells, x=width - MARGIN - boxes_width(canvas, cells), top=top - 11 * MM)
        canvas.setFont(FONT, 9)
        canvas.drawString(MARGIN, top - 17 * MM, f"{unit}　{len(page.households)}世帯")
        frame = (MARGIN, 16 * MM, width - MARGIN, top - 21 * MM)
        canvas.setLineWidth(1)
        canvas.rect(frame[0], frame[1], frame[2] - frame[0], frame[3] - frame[1])
        inner = (frame[0] + 4, frame[1] + 30, frame[2] - 4, frame[3] - 4)
        located = [m for m in marks if m.located]
        unlocated = [m for m in marks if not m.located]
        for m in marks:
            _size(canvas, m, 1.5 if len(located) <= 30 else 1.25 if len(located) <= 60 else 1.0)
        if unlocated and not located:
            _street_zoom(canvas, unlocated, inner)
        scale = None
        key_box = None
        blocks: list[PlacedBlock] = []
        if located:
            strip = 0.0 if not unlocated else 60.0
            projected = (inner[0], inner[1] + strip, inner[2], inner[3])
            if page.outline or page.landmarks:
                # A column at the left for 受持区内の位置 (the key map).
                key_box = (inner[0], inner[3] - KEY_MAP_H, inner[0] + KEY_MAP_W, inner[3])
                projected = (inner[0] + KEY_MAP_W + 6, *projected[1:])
            scale, to_page = _project(located, projected)
            blocks = _orientation(canvas, page, located, to_page, projected, scale)
            _push_apart(located, projected)
        if unlocated:
            if located:
                strip_frame = (inner[0], inner[1], inner[2], inner[1] + 56)
                canvas.setDash(2, 2)
                canvas.line(inner[0], inner[1] + 58, inner[2], inner[1] + 58)
                canvas.setDash()
                canvas.setFont(FONT, 7)
                canvas.drawString(inner[0] + 2, inner[1] + 50, "位置未登録（番地順）")
                _street_order(
                    canvas,
                    unlocated,
                    (strip_frame[0], strip_frame[1], strip_frame[2], strip_frame[3] + 14),
                )
            else:
                _street_order(canvas, unlocated, inner)
        for m in marks:
            _draw_leader(canvas, m)  # under every label
        for m in marks:
            _draw_mark(canvas, m)
        if located and scale is not None:
            notes_at = (key_box[0] + 2, key_box[1] - 6) if key_box is not None else None
            _over_doors(canvas, page, located, blocks, to_page, projected, scale, notes_at)
        # Legend, scale and north.
        canvas.setFont(FONT, 7)
        legend = (
            "凡例　白の家形：世帯（整理番号・世帯主）　灰色の家形：事業所等"
            "　灰色の横長の枠：アパート等（整理番号の範囲・戸数）"
        )
        if located and blocks:
            legend += "　薄い灰色の区画：番（街区。間の白地が道路）"
        if not located:
            legend += "　位置の登録がないため番地順に配置"
        canvas.drawString(frame[0] + 4, frame[1] + 6, legend)
        if key_box is not None:
            _key_map(canvas, page, located, key_box)
        if scale is not None:
            _scale_bar(canvas, scale, frame[2] - 30, frame[1] + 8)
            _north(canvas, frame[2] - 14, frame[3] - 22)
        draw_footer(canvas, footer, page=number, pages=len(pages))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- 第3号様式 -------------------------------------------------------------------------


@dataclass
class Room:
    label: str
    household: Household | None
    card: str  # 「索引 12」, 「未把握」, or ""


def _room_label(floor: int, number: int) -> str:
    return f"{floor}{number:02d}"


def render_building_map(
    building: Building,
    households: list[Household],
    cards: dict[int, str],
    *,
    footer: str,
) -> bytes:
    """Floors × rooms; `cards` maps a household id to its card mark (「索引 12」)."""
    buffer = BytesIO()
    rooms = max(building.rooms_per_floor, 1)
    floors = max(building.floors, 1)
    landscape = rooms > 4
    canvas = new_canvas(buffer, title="アパート等居住分布略図", landscape=landscape)
    width, height = canvas._pagesize
    top = height - MARGIN
    draw_title(canvas, "アパート等居住分布略図", "第3号様式", top=top)
    by_room: dict[str, Household] = {}
    others: list[Household] = []
    grid = {_room_label(f, r) for f in range(1, floors + 1) for r in range(1, rooms + 1)}
    for h in sorted(households, key=street_key):
        if h.room in grid and h.room not in by_room:
            by_room[h.room] = h
        else:
            others.append(h)
    cells = [
        ("名称", building.name, 55 * MM),
        ("町名", building.town, 30 * MM),
        (
            "組・班",
            ", ".join(
                sorted({h.block_group for h in households if h.block_group}, key=natural_key)
            ),
            18 * MM,
        ),
        ("整理番号", number_range(h.map_number for h in households).replace("～", " ～ "), 24 * MM),
    ]
    canvas.setLineWidth(1.2)
    right_cells = cells[2:]
    draw_boxes(
        canvas, right_cells, x=width - MARGIN - boxes_width(canvas, right_cells), top=top - 12 * MM
    )
    draw_boxes(canvas, cells[:2], x=MARGIN, top=top - 12 * MM)
    canvas.setFont(FONT, 9)
    canvas.drawString(
        MARGIN,
        top - 25 * MM,
        f"所在地 {building.address}　{floors}階建・各階{rooms}室　入居 {len(households)}世帯"
        + (f"　管理人等 {building.manager_contact}" if building.manager_contact else ""),
    )
    # The grid: floor labels at the left, top floor uppermost.
    grid_top = top - 30 * MM
    reserve = 12 * MM + (len(others) + 1) * 4.5 * MM if others else 12 * MM
    grid_bottom = max(16 * MM + reserve, 40 * MM)
    label_w = 12 * MM
    cell_w = (width - 2 * MARGIN - label_w) / rooms
    cell_h = min((grid_top - grid_bottom) / floors, 28 * MM)
    canvas.setLineWidth(0.8)
    for f in range(floors, 0, -1):
        row_top = grid_top - (floors - f) * cell_h
        canvas.setFillGray(0.92)
        canvas.rect(MARGIN, row_top - cell_h, label_w, cell_h, stroke=1, fill=1)
        canvas.setFillGray(0)
        draw_fitted(
            canvas, f"{f}階", MARGIN, row_top - cell_h / 2 - 3, label_w, size=10, align="center"
        )
        for r in range(1, rooms + 1):
            x = MARGIN + label_w + (r - 1) * cell_w
            label = _room_label(f, r)
            occupant = by_room.get(label)
            canvas.setFillGray(1 if occupant is not None else 0.96)
            canvas.rect(x, row_top - cell_h, cell_w, cell_h, stroke=1, fill=1)
            canvas.setFillGray(0)
            size = min(9.0, cell_h / 4.2)
            draw_fitted(
                canvas, f"{label}号室", x + 2, row_top - size - 1, cell_w / 2, size=size * 0.85
            )
            if occupant is None:
                draw_fitted(
                    canvas,
                    "（空室）",
                    x + 2,
                    row_top - cell_h / 2 - 3,
                    cell_w - 4,
                    size=size,
                    align="center",
                )
                continue
            number = f"整理 {occupant.map_number}" if occupant.map_number is not None else ""
            draw_fitted(
                canvas,
                number,
                x + cell_w / 2,
                row_top - size - 1,
                cell_w / 2 - 3,
                size=size * 0.85,
                align="right",
            )
            draw_fitted(
                canvas,
                occupant.name or "（氏名未記入）",
                x + 2,
                row_top - cell_h / 2 - size / 3,
                cell_w - 4,
                size=size * 1.15,
                align="center",
            )
            draw_fitted(
                canvas,
                cards.get(occupant.id, ""),
                x + 2,
                row_top - cell_h + 3,
                cell_w - 4,
                size=size * 0.8,
                align="center",
            )
    if others:
        y = grid_bottom - 8 * MM
        canvas.setFont(FONT, 9)
        canvas.drawString(MARGIN, y, "上記の部屋割りにない部屋の世帯")
        for h in others:
            y -= 4.5 * MM
            text = f"{h.room or '部屋番号なし'}　{h.name or '（氏名未記入）'}　整理番号 {h.map_number or '―'}　{cards.get(h.id, '')}"
            draw_fitted(canvas, text, MARGIN + 4 * MM, y, width - 2 * MARGIN, size=8.5)
    draw_footer(canvas, footer, page=1, pages=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
