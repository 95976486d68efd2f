"""``/``: the wall screen (一屏观全城) for a 1920×1080 or 3840×2160 wall in kiosk mode.

Everything sits on a fixed 1920×1080 canvas that ``assets/scale.js`` scales to the window, so the layout
is designed once in pixels and looks the same on every wall. The clock runs in the browser (clientside
callback); live figures come from Redis on a 2 s poll, and the "data as of" stamp says when they were
last read successfully, so a stale screen shows itself as stale instead of looking calm.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from dash import ClientsideFunction, Dash, Input, Output, State, ctx as dash_ctx, dcc, html, no_update

from dashboard import ids
from dashboard.components import citymap
from dashboard.components.panels import alert_feed, camera_wall, kpi_block, open_alerts_class, panel
from dashboard.components.shell import nav_bar
from dashboard.context import AppContext
from dashboard.i18n import LOCALES
from dashboard.pages.base import Page, register

log = logging.getLogger(__name__)

PATH = "/"
TITLE_KEY = "nav.wall"
LIVE_INTERVAL_MS = 2000


def _read_open_alerts(ctx: AppContext) -> int | None:
    try:
        return ctx.open_alert_count()
    except redis.RedisError as exc:
        log.warning("wall: open-alert count unavailable: %s", exc)
        return None


def _as_of(ctx: AppContext, ok_at: str | None, ok: bool) -> tuple[str, str]:
    """Text and class of the "data as of" stamp."""
    if ok and ok_at:
        return ctx.t("wall.data_as_of", time=ok_at), "data-as-of"
    if ok_at:
        return ctx.t("wall.data_stale", time=ok_at), "data-as-of stale"
    return ctx.t("wall.data_down"), "data-as-of stale"


def header(ctx: AppContext, as_of_text: str, as_of_class: str) -> html.Header:
    t = ctx.t
    return html.Header(className="wall-header", children=[
        html.Div(className="wall-brand", children=[
            html.Div(className="wall-emblem"),
            html.Div([
                html.H1(ctx.settings.dashboard.center_name, className="wall-center-name"),
                html.Div(f"{t('app.title')} · {ctx.settings.city.name}", className="wall-subtitle"),
            ]),
        ]),
        nav_bar(ctx, PATH, "nav wall-nav"),
        html.Div(className="wall-clock", children=[
            html.Div(className="wall-clock-row", children=[
                html.Span(id=ids.CLOCK_DATE, className="wall-date"),
                html.Span(id=ids.CLOCK_TIME, className="wall-time"),
            ]),
            html.Div(as_of_text, id=ids.DATA_AS_OF, className=as_of_class),
        ]),
    ])


def layout(ctx: AppContext) -> html.Div:
    """The whole canvas; live parts are filled at once and refreshed by the callbacks below."""
    t = ctx.t
    open_alerts = _read_open_alerts(ctx)
    ok_at = ctx.now().strftime("%H:%M:%S") if open_alerts is not None else None
    as_of_text, as_of_class = _as_of(ctx, ok_at, open_alerts is not None)
    _cells, _viewport, chain = citymap.drill(ctx.city, None)
    map_extra = [
        html.Div(citymap.breadcrumb(ctx, chain), id=ids.MAP_BREADCRUMB, className="breadcrumb"),
        html.Button(t("map.reset"), id=ids.MAP_RESET, className="map-reset", n_clicks=0),
    ]
    map_parts = [citymap.city_map(ctx), citymap.empty_notice(ctx),
                 None if ctx.city.empty else html.Div(t("map.hint"), className="map-hint")]
    map_body = html.Div(className="map-frame", children=[p for p in map_parts if p is not None])
    return html.Div(id=ids.WALL_CANVAS, className="wall", children=[
        header(ctx, as_of_text, as_of_class),
        html.Main(className="wall-body", children=[
            html.Div(className="wall-col wall-left", children=[
                panel(t("panel.overview"), kpi_block(ctx, open_alerts), "panel-kpis"),
                panel(t("panel.alerts"), alert_feed(ctx), "panel-alerts"),
            ]),
            html.Div(className="wall-col wall-main", children=[
                panel(ctx.settings.city.name, map_body, "panel-map", extra=map_extra),
                panel(t("panel.cameras"), camera_wall(ctx), "panel-cameras",
                      extra=html.Span(str(len(ctx.city.streamed)), className="panel-count")),
            ]),
        ]),
        dcc.Interval(id=ids.CLOCK_TICK, interval=1000),
        dcc.Interval(id=ids.LIVE_TICK, interval=LIVE_INTERVAL_MS),
        dcc.Store(id=ids.CLOCK_CONFIG, data={"tz": ctx.settings.city.timezone,
                                             "locale": LOCALES[ctx.settings.dashboard.language]}),
        dcc.Store(id=ids.DATA_AS_OF_STORE, data=ok_at),
    ])


def register_callbacks(app: Dash, ctx: AppContext) -> None:
    """Clock (in the browser), live KPIs (Redis poll) and map drill-down."""
    app.clientside_callback(
        ClientsideFunction(namespace="onescreen", function_name="clock"),
        Output(ids.CLOCK_TIME, "children"), Output(ids.CLOCK_DATE, "children"),
        Input(ids.CLOCK_TICK, "n_intervals"), State(ids.CLOCK_CONFIG, "data"),
    )

    @app.callback(
        Output(ids.KPI_OPEN_ALERTS, "children"), Output(ids.KPI_OPEN_ALERTS, "className"),
        Output(ids.DATA_AS_OF, "children"),
        Output(ids.DATA_AS_OF, "className"), Output(ids.DATA_AS_OF_STORE, "data"),
        Input(ids.LIVE_TICK, "n_intervals"), State(ids.DATA_AS_OF_STORE, "data"),
        prevent_initial_call=True,
    )
    def refresh_live(_n: int, last_ok: str | None) -> tuple[Any, Any, str, str, str | None]:
        """Re-read the live figures; on a Redis outage keep the last numbers and mark the stamp stale."""
        count = _read_open_alerts(ctx)
        if count is None:
            text, cls = _as_of(ctx, last_ok, ok=False)
            return no_update, no_update, text, cls, last_ok
        ok_at = ctx.now().strftime("%H:%M:%S")
        text, cls = _as_of(ctx, ok_at, ok=True)
        return count, open_alerts_class(count), text, cls, ok_at

    @app.callback(
        Output(ids.MAP_CELLS, "data"), Output(ids.CITY_MAP, "viewport"),
        Output(ids.MAP_BREADCRUMB, "children"),
        Input(ids.MAP_COMMUNITIES, "clickData"), Input(ids.MAP_RESET, "n_clicks"),
        prevent_initial_call=True,
    )
    def drill_down(click: dict[str, Any] | None, _reset: int) -> tuple[Any, Any, Any]:
        """A click on a community shows its cells; the reset button goes back to the whole city."""
        node_id = None if dash_ctx.triggered_id == ids.MAP_RESET else citymap.clicked_node(click)
        cells, viewport, chain = citymap.drill(ctx.city, node_id)
        return cells, viewport, citymap.breadcrumb(ctx, chain)


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=10, layout=layout,
                     register_callbacks=register_callbacks))
