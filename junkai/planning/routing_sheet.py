"""巡回経路表: the day's route on A4 for the officer's clipboard.

A header (day, officer, mode, start and return times, distance), a sketch of the route drawn
from the coordinates (no map tiles: the closed network has none to print), and one row per stop
with the arrival time, the address, the preferred times and boxes for the outcome. Households
that did not fit are listed with the reason. Every page carries the print footer.
"""

from __future__ import annotations

import math
from io import BytesIO

from reportlab.lib.colors import Color, black, white
from reportlab.pdfgen.canvas import Canvas

from junkai.documents.pdf import FONT, clip_text, draw_footer, footer_text, new_canvas
from junkai.lib.wareki import format_wareki
from junkai.org.models import Officer
from junkai.planning import routing
from junkai.planning.routing_plan import Route

MM = 72 / 25.4
MARGIN = 14 * MM
GREY = Color(0.55, 0.55, 0.55)
LIGHT = Color(0.92, 0.92, 0.92)
ROUTE_BLUE = Color(0.11, 0.31, 0.62)

#: (title, width in mm) of the table's columns; the address takes what is left.
COLUMNS = (
    ("順", 8),
    ("到着", 13),
    ("開始", 13),
    ("住所", 0),
    ("世帯主・事業所名", 28),
    ("区分", 21),
    ("訪問希望", 24),
    ("結果", 26),
)
ROW_H = 8.5 * MM


def _header(canvas: Canvas, route: Route, officer: Officer, top: float, width: float) -> float:
    canvas.setFont(FONT, 16)
    canvas.drawCentredString(width / 2, top, "巡回経路表")
    canvas.setFont(FONT, 9)
    y = top - 8 * MM
    hours, minutes = divmod(route.plan.duration_s // 60, 60)
    lines = (
        f"実施日 {format_wareki(route.day)}（{route.day:%Y-%m-%d}）　"
        f"受持警察官 {officer.get_rank_display()} {officer.full_name}",
        f"移動 {route.mode_label}（時速{route.params.speed_mps * 3.6:g}km・直線距離×"
        f"{route.params.detour:g}で推定）　1戸あたり{route.params.service_s // 60}分　"
        f"出発・帰着 {route.start_label}",
        f"出発 {route.start_time}　帰着予定 {route.end_time}　{len(route.stops)}戸　"
        f"総距離 約{route.plan.distance_m / 1000:.1f}km　所要 {hours}時間{minutes:02d}分",
    )
    for line in lines:
        canvas.drawString(MARGIN, y, line)
        y -= 5 * MM
    for note in route.notes:
        canvas.drawString(MARGIN, y, f"※ {note}")
        y -= 5 * MM
    return y


def _sketch(canvas: Canvas, route: Route, x: float, y: float, w: float, h: float) -> None:
    """The route drawn to scale (north up) with numbered stops; 発 marks the start."""
    canvas.saveState()
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.5)
    canvas.rect(x, y, w, h)
    canvas.setFont(FONT, 7)
    canvas.setFillColor(GREY)
    canvas.drawString(x + 2 * MM, y + h - 4 * MM, "経路略図（北が上）")
    points = [(route.start.lat, route.start.lon)] + [
        (float(s.household.latitude or 0), float(s.household.longitude or 0)) for s in route.stops
    ]
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    kx = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * kx, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    pad = 8 * MM
    scale = min((w - 2 * pad) / span_x, (h - 2 * pad) / span_y)
    cx = x + w / 2 - (min(lons) + max(lons)) / 2 * kx * scale
    cy = y + h / 2 - (min(lats) + max(lats)) / 2 * scale

    def at(p: tuple[float, float]) -> tuple[float, float]:
        return cx + p[1] * kx * scale, cy + p[0] * scale

    # A scale bar: 100 m, 500 m or 1 km, whichever is about a fifth of the box.
    metres_per_pt = 111_320 / scale
    bar_m = min((100, 200, 500, 1000, 2000, 5000), key=lambda m: abs(m / metres_per_pt - w / 5))
    bar = bar_m / metres_per_pt
    canvas.setStrokeColor(black)
    canvas.line(x + w - bar - 4 * MM, y + 4 * MM, x + w - 4 * MM, y + 4 * MM)
    canvas.setFillColor(black)
    label = f"{bar_m // 1000}km" if bar_m >= 1000 else f"{bar_m}m"
    canvas.drawRightString(x + w - 4 * MM, y + 5.5 * MM, label)

    tour = [*points, points[0]]
    canvas.setStrokeColor(ROUTE_BLUE)
    canvas.setLineWidth(1.2)
    path = canvas.beginPath()
    path.moveTo(*at(tour[0]))
    for p in tour[1:]:
        path.lineTo(*at(p))
    canvas.drawPath(path, stroke=1, fill=0)
    sx, sy = at(points[0])
    canvas.setFillColor(black)
    canvas.rect(sx - 3.2 * MM, sy - 3.2 * MM, 6.4 * MM, 6.4 * MM, fill=1, stroke=0)
    canvas.setFillColor(white)
    canvas.setFont(FONT, 8)
    canvas.drawCentredString(sx, sy - 1.2 * MM, "発")
    for stop, p in zip(route.stops, points[1:], strict=True):
        px, py = at(p)
        canvas.setFillColor(ROUTE_BLUE)
        canvas.circle(px, py, 2.6 * MM, fill=1, stroke=0)
        canvas.setFillColor(white)
        canvas.setFont(FONT, 6.5 if stop.number < 10 else 5.5)
        canvas.drawCentredString(px, py - 0.9 * MM, str(stop.number))
    canvas.restoreState()


def _table_head(canvas: Canvas, y: float, widths: list[float]) -> float:
    canvas.setFillColor(LIGHT)
    canvas.rect(MARGIN, y - 6 * MM, sum(widths), 6 * MM, fill=1, stroke=0)
    canvas.setFillColor(black)
    canvas.setFont(FONT, 8)
    x = MARGIN
    for (title, _), w in zip(COLUMNS, widths, strict=True):
        canvas.drawString(x + 1.2 * MM, y - 4.2 * MM, title)
        x += w
    return y - 6 * MM


def route_sheet_pdf(route: Route, officer: Officer) -> bytes:
    buffer = BytesIO()
    canvas = new_canvas(buffer, title="巡回経路表")
    width, height = canvas._pagesize
    footer = footer_text(officer)
    table_w = width - 2 * MARGIN
    fixed = sum(w for _, w in COLUMNS) * MM
    widths = [w * MM if w else table_w - fixed for _, w in COLUMNS]
    page = 1

    y = _header(canvas, route, officer, height - MARGIN - 4 * MM, width)
    if route.stops:
        sketch_h = 80 * MM
        _sketch(canvas, route, MARGIN, y - sketch_h - 2 * MM, table_w, sketch_h)
        y -= sketch_h + 6 * MM
    y = _table_head(canvas, y, widths)
    for stop in route.stops:
        if y - ROW_H < 24 * MM:
            draw_footer(canvas, footer, page=page)
            canvas.showPage()
            page += 1
            y = _table_head(canvas, height - MARGIN, widths)
        h = stop.household
        wait = f"（{stop.visit.wait_s // 60}分待ち）" if stop.visit.wait_s >= 60 else ""
        cells = [
            str(stop.number),
            routing.hhmm(stop.visit.arrival_s),
            routing.hhmm(stop.visit.start_s),
            h.address,
            h.name or "",
            h.get_category_display(),
            stop.preferred,
            "面接・不在・拒否",
        ]
        canvas.setFont(FONT, 8.5)
        x = MARGIN
        for index, (text, w) in enumerate(zip(cells, widths, strict=True)):
            size = 7.5 if index == 7 else 8.5
            canvas.setFont(FONT, size)
            canvas.drawString(
                x + 1.2 * MM, y - 5.5 * MM, clip_text(canvas, text, w - 2.4 * MM, size)
            )
            x += w
        if wait:
            canvas.setFont(FONT, 6)
            canvas.setFillColor(GREY)
            canvas.drawString(MARGIN + widths[0] + widths[1] + 1.2 * MM, y - 7.8 * MM, wait)
            canvas.setFillColor(black)
        canvas.setStrokeColor(GREY)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, y - ROW_H, MARGIN + table_w, y - ROW_H)
        y -= ROW_H
    canvas.setFont(FONT, 8.5)
    canvas.drawString(
        MARGIN,
        y - 6 * MM,
        f"帰着 {route.end_time}（最後の世帯から約{route.plan.return_m}m・"
        f"{(route.plan.return_s + 59) // 60}分）",
    )
    y -= 12 * MM
    if route.skipped:
        canvas.setFont(FONT, 10)
        canvas.drawString(MARGIN, y, f"経路に入らなかった世帯（{len(route.skipped)}件）")
        y -= 6 * MM
        canvas.setFont(FONT, 8.5)
        for skip in route.skipped:
            if y < 24 * MM:
                draw_footer(canvas, footer, page=page)
                canvas.showPage()
                page += 1
                y = height - MARGIN
                canvas.setFont(FONT, 8.5)
            text = f"・{skip.household.address}　{skip.reason}"
            canvas.drawString(MARGIN, y, clip_text(canvas, text, table_w, 8.5))
            y -= 5.5 * MM
    draw_footer(canvas, footer, page=page)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
