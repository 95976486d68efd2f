"""The wall's side panels: KPIs, the live alert feed and the camera wall.

Each builder is pure (context in, data in, components out); the data come from ``wall_data.WallReader``.
Charts are plain HTML blocks (no plotly: its 4.8 MB bundle would cost seconds of the wall's cold load).
``alert-feed`` items carry ``data-alert-id``; camera tiles get their frames from
``/api/cameras/<id>/snapshot.jpg`` (wall.js, about once a second, only for the page on show). The camera
wall's page size is ``dashboard.camera_page_size``: 4 tiles in a strip under the map, or 9 in a 3×3 block
(the class ``cams-9`` on the canvas gives that block more of the map's column, in wall.css).
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard import ids
from dashboard.context import AppContext

MAX_CAMERA_TILES = 36  # pages of ``camera_page_size`` tiles (4 or 9), cycled by wall.js


def panel(title: str, body: Any, class_name: str = "", extra: Any = None) -> html.Section:
    """A framed panel with a title bar (the one look every wall block shares)."""
    head = [html.H2(title, className="panel-title")]
    if extra is not None:
        head.append(html.Div(extra, className="panel-extra"))
    return html.Section(className=f"panel {class_name}".strip(), children=[
        html.Div(head, className="panel-head"), html.Div(body, className="panel-body"),
    ])


def open_alerts_class(count: int | None) -> str:
    """The open-alert figure glows red only when something is open."""
    return "kpi-value hot" if count else "kpi-value"


def _kpi(label: str, value: Any, value_id: str | None = None, class_name: str = "",
         value_class: str = "kpi-value", tip: str | None = None) -> html.Div:
    """One figure with its label; ``tip`` (the tooltip) says exactly what it counts."""
    value_props = {"id": value_id} if value_id else {}
    return html.Div(className=f"kpi {class_name}".strip(), title=tip, children=[
        html.Div(str(value), className=value_class, **value_props),
        html.Div(label, className="kpi-label"),
    ])


def kpi_block(ctx: AppContext, open_alerts: int | None) -> html.Div:
    """Open alerts (``kpi-open-alerts``) with the count per colour, then the rates; filled by the live refresh."""
    t = ctx.t
    return html.Div(className="kpi-block", children=[
        _kpi(t("kpi.open_alerts"), "—" if open_alerts is None else open_alerts, ids.KPI_OPEN_ALERTS,
             "kpi-main", open_alerts_class(open_alerts), t("kpi.open_alerts.tip")),
        html.Div(level_chips(ctx, None), id=ids.KPI_LEVELS, className="kpi-levels"),
        html.Div(kpi_grid(ctx, {}), id=ids.KPI_GRID, className="kpi-grid"),
    ])


def level_chips(ctx: AppContext, levels: dict[str, int] | None) -> list[html.Div]:
    """Open alerts per colour: red, orange, yellow."""
    return [html.Div(className=f"level-chip level-{lv}", title=ctx.t("kpi.level.tip", level=ctx.t(f"level.{lv}")),
                     children=[
        html.Span(ctx.t(f"level.{lv}"), className="level-name"),
        html.Span("—" if levels is None else str(levels.get(lv, 0)), className="level-count"),
    ]) for lv in ("red", "orange", "yellow")]


def _fmt(value: Any, suffix: str = "") -> str:
    return "—" if value is None else f"{value:g}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def kpi_grid(ctx: AppContext, k: dict[str, Any]) -> list[html.Div]:
    """Events today, camera online rate (在线率), patrol on-post rate (在岗率), 1-3-5, resolution (化解率)."""
    t = ctx.t
    return [_kpi(t(f"kpi.{key}"), _fmt(k.get(key), suffix), class_name=f"kpi-{cls}", tip=_tip(t, key, k))
            for key, suffix, cls in KPI_GRID]


# key in the reader's ``kpi`` dict, unit, CSS class. A new figure is one more row here, its texts
# ``kpi.<key>`` and ``kpi.<key>.tip`` in wall_texts.py, and its value in the reader's ``_kpis``.
KPI_GRID: tuple[tuple[str, str, str], ...] = (
    ("events_today", "", "events"), ("camera_coverage", "%", "camera-coverage"),
    ("camera_online", "%", "camera-online"), ("camera_good", "%", "camera-good"), ("patrol_rate", "%", "patrol-rate"),
    ("rapid_rate", "%", "rapid-rate"), ("resolution_rate", "%", "resolution-rate"),
)


def _tip(t: Any, key: str, k: dict[str, Any]) -> str:
    """The KPI's definition, with its parts when the reader gave them (``<key>_parts``: counted, of total)."""
    parts = k.get(f"{key}_parts")
    tip = t(f"kpi.{key}.tip")
    return tip + (t("kpi.parts", n=f"{parts[0]:,}", total=f"{parts[1]:,}") if parts else "")


def alert_feed(ctx: AppContext) -> html.Ul:
    """``alert-feed``: the most urgent alerts first (filled by the live refresh); "no alerts" until then."""
    return html.Ul(id=ids.ALERT_FEED, className="alert-feed", children=feed_items(ctx, []))


def place_name(ctx: AppContext, a: dict[str, Any]) -> str:
    """Community · cell names of an alert's place (ids when the registry does not know them)."""
    nodes = ctx.city.nodes
    parts = [nodes[n].name if n in nodes else n for n in (a.get("community"), a.get("cell")) if n]
    return " · ".join(parts) or (a.get("district") or "")


def feed_items(ctx: AppContext, feed: Any) -> list[html.Li]:
    """The feed's items: ``dashboard.components.wall_feed`` (order, marks, ages, the "还有 N 条" line)."""
    from dashboard.components.wall_feed import feed_items as build

    return build(ctx, feed)


def hourly_chart(ctx: AppContext, h: dict[str, Any] | None) -> html.Div:
    """Events per hour today (bars) against yesterday (ghost bars), plain HTML: no chart library to load."""
    t = ctx.t
    today = (h or {}).get("today", [])
    yday = (h or {}).get("yesterday", [])
    top = max([1, *today, *yday])
    bars = []
    for hour in range(24):
        y = yday[hour] if hour < len(yday) else 0
        v = today[hour] if hour < len(today) else None
        bars.append(html.Div(className="hbar", title=f"{hour:02d}:00  {t('chart.today')} {v if v is not None else '—'}"
                                                      f" / {t('chart.yesterday')} {y}", children=[
            html.Div(className="hbar-y", style={"height": f"{100 * y / top:.1f}%"}),
            html.Div(className="hbar-t", style={"height": f"{100 * (v or 0) / top:.1f}%"}) if v is not None else None,
            html.Span(f"{hour:02d}" if hour % 3 == 0 else "", className="hbar-label"),
        ]))
    legend = [html.Span(t("chart.today"), className="legend legend-today"),
              html.Span(t("chart.yesterday"), className="legend legend-yday"),
              html.Span(f"{sum(today)} / {sum(yday)}", className="legend legend-sum")]
    return html.Div(className="hourly", children=[html.Div(legend, className="chart-legend"),
                                                  html.Div(bars, className="hbars")])


def heat_map(ctx: AppContext, heat: dict[str, Any] | None) -> html.Div:
    """Hour-of-day × district (or × day inside a district) over 7 days: the colour is door events, a dot marks
    an hour with cases reported (issue 14: events run to hundreds an hour, cases to a few a day, so a sum would
    hide the cases; the dot grows with their number); each cell's tooltip gives both figures."""
    t = ctx.t
    rows = (heat or {}).get("rows", [])
    cases = (heat or {}).get("cases") or [[0] * 24 for _r in rows]
    top = max([1, *(v for _r, vals in rows for v in vals)])
    nodes = ctx.city.nodes
    out = []
    for (key, vals), case_vals in zip(rows, cases):
        label = nodes[key].name if key in nodes else f"{key[4:6]}-{key[6:8]}" if len(key) == 8 else key
        cells = [html.Div(className="heat-cell", title=t("heat.cell.tip", where=label, hour=f"{h:02d}", events=v,
                                                           cases=c),
                          style={"backgroundColor": f"rgba(255, 122, 61, {0.08 + 0.92 * v / top:.2f})"},
                          children=None if not c else html.Span(className=f"heat-case heat-case-{min(c, 3)}",
                                                                **{"data-cases": c}))
                 for h, (v, c) in enumerate(zip(vals, case_vals))]
        out.append(html.Div([html.Div(label, className="heat-label"), *cells], className="heat-row"))
    axis = [html.Div("", className="heat-label")] + [
        html.Div(f"{h:02d}" if h % 6 == 0 else "", className="heat-axis") for h in range(24)]
    return html.Div([*out, html.Div(axis, className="heat-row heat-axis-row")], className="heat")


def heat_legend(ctx: AppContext) -> html.Div:
    """The heat map's key in its panel head: the dot is cases (the tooltip says what colour and dot count)."""
    t = ctx.t
    return html.Div(className="heat-legend", title=t("heat.legend.tip"), children=[
        html.Span(className="heat-case heat-case-2"), html.Span(t("heat.cases")),
    ])


def _camera_tile(ctx: AppContext, cam: dict[str, Any], page: int) -> html.Div:
    state = "on" if cam.get("online") else "off"
    # cam-body: no box of its own (display: contents) until the tile is enlarged; then it is the overlay and
    # the tile keeps its slot in the grid, so the other tiles of the page stay where they are
    return html.Div(className=f"cam-tile cam-{state}", **{"data-camera-id": cam["id"], "data-page": page}, children=[
        html.Div(className="cam-body", children=[
            html.Div(className="cam-picture", children=[
                html.Img(className="cam-img", alt=""),
                html.Span(ctx.t("camera.no_picture"), className="cam-nosignal"),
                html.Span(className="cam-dot"),
            ]),
            html.Div(className="cam-caption", children=[
                html.Span(cam["name"], className="cam-name"), html.Span(cam["id"], className="cam-id"),
            ]),
        ]),
    ])


def camera_page_class(ctx: AppContext) -> str:
    """``cams-4`` or ``cams-9`` on the wall canvas: how wall.css lays out the camera wall and the map's column."""
    return f"cams-{ctx.settings.dashboard.camera_page_size}"


def camera_tiles(ctx: AppContext, cams: list[dict[str, Any]], registered: int | None = None) -> list[Any]:
    """Streamed cameras of the scope, each tagged with its page (wall.js shows one page at a time). None
    streamed: says so, with the number of cameras the scope has registered (never another area's pictures)."""
    if not cams:
        text = ctx.t("camera.none") if registered is None else ctx.t("camera.none_in_scope", n=f"{registered:,}")
        return [html.Div(text, className="cam-none")]
    size = ctx.settings.dashboard.camera_page_size
    return [_camera_tile(ctx, cam, i // size) for i, cam in enumerate(cams)]


def camera_wall(ctx: AppContext) -> html.Div:
    """``camera-wall``: live frames of the streamed cameras in scope, 4 or 9 per page, cycling (wall.js); empty
    until the first refresh names the scope's own cameras."""
    return html.Div(id=ids.CAMERA_WALL, className="camera-wall", children=[], **{"data-pages": 1})
