"""The wall's side panels: KPIs, the live alert feed and the camera wall.

Each builder is pure (context in, components out) so the later live versions only swap the data source:
``alert-feed`` items will carry ``data-alert-id`` and the camera tiles an ``<img>`` of
``/api/cameras/<id>/snapshot.jpg`` once those endpoints exist.
"""

from __future__ import annotations

import math
from typing import Any

from dash import html

from dashboard import ids
from dashboard.context import AppContext
from dashboard.registry import CameraTile

MAX_CAMERA_TILES = 16  # 4 x 4 is the densest grid still readable from the operators' desks


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
         value_class: str = "kpi-value") -> html.Div:
    value_props = {"id": value_id} if value_id else {}
    return html.Div(className=f"kpi {class_name}".strip(), children=[
        html.Div(str(value), className=value_class, **value_props),
        html.Div(label, className="kpi-label"),
    ])


def kpi_block(ctx: AppContext, open_alerts: int | None) -> html.Div:
    """Open alerts (``kpi-open-alerts``, live) and the registry's counts."""
    t, city = ctx.t, ctx.city
    return html.Div(className="kpi-block", children=[
        _kpi(t("kpi.open_alerts"), "—" if open_alerts is None else open_alerts, ids.KPI_OPEN_ALERTS,
             "kpi-main", open_alerts_class(open_alerts)),
        html.Div(className="kpi-grid", children=[
            _kpi(t("kpi.districts"), city.count("district")),
            _kpi(t("kpi.communities"), city.count("community")),
            _kpi(t("kpi.cells"), city.count("cell")),
            _kpi(t("kpi.cameras"), city.cameras_total),
        ]),
    ])


def alert_feed(ctx: AppContext) -> html.Ul:
    """``alert-feed``: newest alerts first; for now only the "no alerts" placeholder item."""
    return html.Ul(id=ids.ALERT_FEED, className="alert-feed", children=[
        html.Li(ctx.t("alerts.empty"), className="alert-item alert-empty"),
    ])


def _camera_tile(ctx: AppContext, cam: CameraTile) -> html.Div:
    return html.Div(className="cam-tile", **{"data-camera-id": cam.id}, children=[
        html.Div(html.Span(ctx.t("camera.no_picture"), className="cam-nosignal"), className="cam-picture"),
        html.Div(className="cam-caption", children=[
            html.Span(cam.name, className="cam-name"), html.Span(cam.id, className="cam-id"),
        ]),
    ])


def camera_grid(n: int) -> tuple[int, int]:
    """Columns and rows of the camera strip: one row up to 6 cameras (at least 4 columns so a lone tile
    stays tile-sized), then two rows."""
    if n <= 6:
        return max(4, n), 1
    cols = math.ceil(n / 2)
    return cols, 2


def camera_wall(ctx: AppContext) -> html.Div:
    """``camera-wall``: one 16:9 tile per streamed camera (at most MAX_CAMERA_TILES)."""
    cams = ctx.city.streamed[:MAX_CAMERA_TILES]
    if not cams:
        return html.Div(id=ids.CAMERA_WALL, className="camera-wall camera-wall-empty",
                        children=html.Div(ctx.t("camera.none"), className="cam-none"))
    cols, _rows = camera_grid(len(cams))
    return html.Div(id=ids.CAMERA_WALL, className="camera-wall",
                    style={"gridTemplateColumns": f"repeat({cols}, minmax(0, 1fr))"},
                    children=[_camera_tile(ctx, cam) for cam in cams])
