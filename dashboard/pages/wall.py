"""``/``: the wall screen (一屏观全城) for a 1920×1080 or 3840×2160 wall in kiosk mode.

Everything sits on a fixed 1920×1080 canvas that ``assets/scale.js`` scales to the window. The geometry of
the map is sent once, with the page; after that a refresh sends only what changed:

- the browser asks for a refresh every second through a gate (``onescreen.gate`` in wall.js) that lets one
  request run at a time, so a slow server is never asked again before it answered;
- the server reads aggregates for the drill-down scope (``components.wall_data``) and compares a hash per
  section with the hashes the browser already shows: unchanged sections are ``no_update`` and cost nothing
  on the wire; polygon colours travel as the GeoJSON ``hideout`` (a dict of node → level), restyled in the
  browser, never as geometry;
- "data as of" and the stale banner are computed in the browser from the time of the last good answer, so
  they turn red even when the server cannot answer at all (Redis down also means no session check), and
  clear by themselves when answers come back.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson
import redis
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from dash import ctx as dash_ctx
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from dashboard import ids, outage
from dashboard.auth.sessions import current_user
from dashboard.components import citymap, wall_cases, wall_entrances, wall_persons
from dashboard.components.alert_detail import detail_body, detail_shell
from dashboard.components.panels import (
    KPI_GRID,
    alert_feed,
    camera_page_class,
    camera_tiles,
    camera_wall,
    feed_items,
    heat_legend,
    heat_map,
    hourly_chart,
    kpi_block,
    kpi_grid,
    level_chips,
    open_alerts_class,
    panel,
)
from dashboard.components.shell import nav_bar
from dashboard.context import AppContext
from dashboard.i18n import LOCALES
from dashboard.pages.base import Page, register
from dashboard.readers.alerts import alert_detail
from dashboard.readers.entrances import entrance_reader
from dashboard.readers.wall import reader

log = logging.getLogger(__name__)

PATH = "/"
TITLE_KEY = "nav.wall"
LIVE_INTERVAL_MS = 1000   # refresh cadence; with the gate, at most one refresh in flight
STALE_AFTER_MS = 6000     # no good answer for this long: the stale banner


def header(ctx: AppContext) -> html.Header:
    t = ctx.t
    return html.Header(className="wall-header", children=[
        html.Div(className="wall-brand", children=[
            html.Div(className="wall-emblem"),
            html.Div([
                html.H1(center_name(ctx), className="wall-center-name"),
                html.Div(f"{t('app.title')} · {ctx.city.name}", className="wall-subtitle"),
            ]),
        ]),
        nav_bar(ctx, PATH, "nav wall-nav"),
        html.Div(className="wall-clock", children=[
            html.Div(className="wall-clock-row", children=[
                html.Span(id=ids.CLOCK_DATE, className="wall-date"),
                html.Span(id=ids.CLOCK_TIME, className="wall-time"),
            ]),
            html.Div(t("wall.data_down"), id=ids.DATA_AS_OF, className="data-as-of stale"),
        ]),
    ])


def center_name(ctx: AppContext) -> str:
    """The configured centre name; left at its default, the name of the city the registry holds (a generated
    preset such as ``nanchang`` names its own city, not the default's)."""
    configured = ctx.settings.dashboard.center_name
    default = type(ctx.settings.dashboard).model_fields["center_name"].default
    if configured != default or ctx.city.name == ctx.settings.city.name:
        return configured
    return ctx.t("wall.center_of", city=ctx.city.name)


def _client_config(ctx: AppContext) -> dict[str, Any]:
    t = ctx.t
    return {"tz": ctx.settings.city.timezone, "locale": LOCALES[ctx.settings.dashboard.language],
            "staleMs": STALE_AFTER_MS, "lang": ctx.settings.dashboard.language,
            "text": {"asOf": t("wall.data_as_of", time="{time}"), "stale": t("wall.data_stale", time="{time}"),
                     "down": t("wall.data_down"), "banner": t("wall.stale_banner", time="{time}"),
                     "bannerNever": t("wall.stale_banner_never"),
                     "modeAlert": t("map.mode_alert"), "modeDensity": t("map.mode_density")}}


def layout(ctx: AppContext) -> html.Div:
    """The whole canvas with geometry and empty live parts; the first refresh fills them within a second."""
    t = ctx.t
    home = citymap.home_scope(ctx)  # a scoped user's wall opens on, and stays within, its part of the city
    if home is not None and home not in ctx.city.nodes:  # added after this dashboard read the registry
        from dashboard.desk.layout import forbidden_layout

        return forbidden_layout(ctx, f"/ ({home})")
    _cells, _viewport, chain = citymap.drill_any(ctx.city, home)
    map_extra = [
        html.Div(citymap.breadcrumb(ctx, chain, home), id=ids.MAP_BREADCRUMB, className="breadcrumb"),
        citymap.layer_toggles(ctx),
        wall_cases.layer_toggle(ctx),  # cases (issue #14)
        html.Button(t("map.reset_home" if home else "map.reset"), id=ids.MAP_RESET, className="map-reset",
                    n_clicks=0),
    ]
    city_map = citymap.city_map(ctx, home)
    city_map.children = [*city_map.children, wall_persons.map_layer(ctx)]  # issue 15: key-person layer
    map_parts = [wall_cases.add_map_layer(city_map), citymap.empty_notice(ctx),
                 html.Div(citymap.scope_title(ctx, chain), id=ids.MAP_SCOPE_NAME, className="map-scope-name"),
                 None if ctx.city.empty else citymap.legend(ctx),
                 None if ctx.city.empty else html.Div(t("map.hint"), className="map-hint")]
    map_body = html.Div(className="map-frame " + " ".join(f"hide-{n}" for n in citymap.HIDDEN_LAYERS),
                        id="city-map-frame", children=[p for p in map_parts if p is not None])
    return html.Div(id=ids.WALL_CANVAS, className=f"wall {camera_page_class(ctx)}", children=[
        header(ctx),
        html.Div(id=ids.WALL_STALE, className="stale-banner hidden"),
        html.Main(className="wall-body", children=[
            html.Div(className="wall-col wall-left", children=[
                panel(t("panel.overview"), kpi_block(ctx, None), "panel-kpis"),
                panel(t("panel.alerts"), alert_feed(ctx), "panel-alerts"),
                wall_cases.case_panel(ctx),  # cases (issue #14): its own panel and refresh
            ]),
            html.Div(className="wall-col wall-main", children=[
                panel(ctx.city.name, map_body, "panel-map", extra=map_extra),
                panel(t("panel.cameras"), camera_wall(ctx), "panel-cameras",
                      extra=html.Span("", className="panel-count cam-page-label")),
            ]),
            html.Div(className="wall-col wall-right", children=[
                panel(t("panel.hourly"), html.Div(hourly_chart(ctx, None), id=ids.CHART_HOURLY), "panel-hourly"),
                wall_entrances.entrance_panel(ctx),  # issue 18: entrance counts of the scope
                wall_persons.persons_panel(ctx),  # issue 15
                panel(t("panel.heat"), html.Div(heat_map(ctx, None), id=ids.CHART_HEAT), "panel-heat",
                      extra=heat_legend(ctx)),  # issue 14: door events and cases
            ]),
        ]),
        detail_shell(ctx),
        dcc.Interval(id=ids.CLOCK_TICK, interval=1000),
        dcc.Interval(id=ids.LIVE_TICK, interval=LIVE_INTERVAL_MS),
        dcc.Store(id=ids.CLOCK_CONFIG, data=_client_config(ctx)),
        dcc.Store(id=ids.MAP_SCOPE, data=home),
        dcc.Store(id=ids.MAP_MODE, data="alert"),
        dcc.Store(id=ids.WALL_REQUEST),
        dcc.Store(id=ids.WALL_STATUS),
        dcc.Store(id=ids.WALL_HASHES, data={k: _digest(ctx.registry.current().version) for k in GEO_SECTIONS}),
        dcc.Store(id=ids.CAMERA_STATUS),
        dcc.Store(id=ids.CAMERA_SINK),
    ])


def _digest(value: Any) -> str:
    return hashlib.blake2b(orjson.dumps(value, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


GEO_SECTIONS = ("geo", "geo_districts")  # drawn with the page; sent again only after a city import
LIVE_OUTPUTS = (
    ("open", Output(ids.KPI_OPEN_ALERTS, "children")), ("open_cls", Output(ids.KPI_OPEN_ALERTS, "className")),
    ("levels", Output(ids.KPI_LEVELS, "children")), ("grid", Output(ids.KPI_GRID, "children")),
    ("feed", Output(ids.ALERT_FEED, "children")),
    ("hideout", Output(ids.MAP_COMMUNITIES, "hideout")), ("hideout_cells", Output(ids.MAP_CELLS, "hideout")),
    ("alerts", Output(ids.MAP_ALERTS, "data")), ("patrol", Output(ids.MAP_PATROL, "data")),
    ("devices", Output(ids.MAP_DEVICES, "data")),
    ("hourly", Output(ids.CHART_HOURLY, "children")), ("heat", Output(ids.CHART_HEAT, "children")),
    ("cams", Output(ids.CAMERA_WALL, "children")), ("cam_status", Output(ids.CAMERA_STATUS, "data")),
    ("entrances", Output(wall_entrances.BODY, "children")),  # issue 18
    # a city import: new geometry without a reload (the hash is the registry version)
    ("geo", Output(ids.MAP_COMMUNITIES, "data")), ("geo_districts", Output(ids.MAP_DISTRICTS, "data")),
)


def live_sections(ctx: AppContext, data: dict[str, Any], scope: str | None, mode: str) -> dict[str, Any]:
    """Section name -> (hash key source, builder) for the data read this refresh (None: keep what is shown)."""
    k = data["kpi"]
    sec: dict[str, Any] = {}
    if "open" in k:
        sec["open"] = (k["open"], lambda: k["open"])
        sec["open_cls"] = (k["open"], lambda: open_alerts_class(k["open"]))
    if "levels" in k:
        sec["levels"] = (k["levels"], lambda: level_chips(ctx, k["levels"]))
    grid = {key: k.get(key) for key, _unit, _cls in KPI_GRID}
    grid.update({f"{key}_parts": k.get(f"{key}_parts") for key, _unit, _cls in KPI_GRID})
    sec["grid"] = (grid, lambda: kpi_grid(ctx, grid))
    if data["feed"] is not None:
        sec["feed"] = (data["feed"], lambda: feed_items(ctx, data["feed"]))
    if data["colors"] is not None:
        density = data["density"] or {}
        hide = {"mode": mode, "level": data["colors"], "density": density,
                "dmax": max(density.values(), default=0), "sel": scope}
        sec["hideout"] = (hide, lambda: hide)
        sec["hideout_cells"] = (hide, lambda: hide)
    names = ctx.city.nodes
    if data["alert_points"] is not None:
        sec["alerts"] = (data["alert_points"], lambda: citymap.points(data["alert_points"], "alert", ctx.t, names))
    if data["patrol"] is not None:
        pts = data["patrol"]["points"]
        sec["patrol"] = (pts, lambda: citymap.points(pts, "patrol", ctx.t, names))
    if data["devices"] is not None:
        sec["devices"] = (data["devices"]["points"], lambda: citymap.points(data["devices"]["points"], None, ctx.t,
                                                                            names))
    if data["hourly"] is not None:
        sec["hourly"] = (data["hourly"], lambda: hourly_chart(ctx, data["hourly"]))
    if data["heat"] is not None:
        sec["heat"] = (data["heat"], lambda: heat_map(ctx, data["heat"]))
    if data["cameras"] is not None:
        tiles, registered = data["cameras"]["tiles"], data["cameras"]["registered"]
        sec["cams"] = ([c["id"] for c in tiles] or registered, lambda: camera_tiles(ctx, tiles, registered))
        status = {c["id"]: c["online"] for c in tiles}
        sec["cam_status"] = (status, lambda: status)
    if "entrances" in data:  # issue 18; absent: the read failed, keep what is shown
        ent = data["entrances"]
        now = ctx.now()
        sec["entrances"] = ((ent, now.hour), lambda: wall_entrances.entrance_body(ctx, ent, now))
    view = ctx.city
    version = ctx.registry.current().version
    sec["geo"] = (version, lambda: view.communities)
    sec["geo_districts"] = (version, lambda: view.districts)
    return sec


def register_callbacks(app: Dash, ctx: AppContext) -> None:
    """Clock and staleness (browser), gated live refresh (server), drill-down, colour mode, alert detail."""
    wall_persons.register_callbacks(app, ctx)  # issue 15: the key-person panel, on its own slow interval
    wall_cases.register(app, ctx)  # cases (issue #14)
    app.clientside_callback(
        ClientsideFunction(namespace="onescreen", function_name="clock"),
        Output(ids.CLOCK_TIME, "children"), Output(ids.CLOCK_DATE, "children"),
        Output(ids.DATA_AS_OF, "children"), Output(ids.DATA_AS_OF, "className"),
        Output(ids.WALL_STALE, "children"), Output(ids.WALL_STALE, "className"),
        Input(ids.CLOCK_TICK, "n_intervals"), State(ids.CLOCK_CONFIG, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="onescreen", function_name="gate"),
        Output(ids.WALL_REQUEST, "data"),
        Input(ids.LIVE_TICK, "n_intervals"), Input(ids.MAP_SCOPE, "data"), Input(ids.MAP_MODE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="onescreen", function_name="done"),
        Output(ids.CAMERA_SINK, "data"),
        Input(ids.WALL_STATUS, "data"), Input(ids.CAMERA_STATUS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="onescreen", function_name="mode"),
        Output(ids.MAP_MODE, "data"), Output(ids.MAP_MODE_BUTTON, "children"),
        Input(ids.MAP_MODE_BUTTON, "n_clicks"), State(ids.CLOCK_CONFIG, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        *[o for _name, o in LIVE_OUTPUTS], Output(ids.WALL_STATUS, "data"), Output(ids.WALL_HASHES, "data"),
        Input(ids.WALL_REQUEST, "data"),
        State(ids.MAP_SCOPE, "data"), State(ids.MAP_MODE, "data"), State(ids.WALL_HASHES, "data"),
        prevent_initial_call=True,
    )
    def refresh(req: Any, scope: str | None, mode: str | None, shown: dict[str, str] | None) -> tuple[Any, ...]:
        """Read the scope's aggregates; send only the sections whose hash differs from what is shown."""
        home = citymap.home_scope(ctx)
        if home is not None and home not in ctx.city.nodes:
            raise PreventUpdate  # the layout said so; never fall back to the whole city
        scope = citymap.clamp_scope(ctx.city, home, scope or None)
        data = reader(ctx).read(scope, home)
        try:
            data["entrances"] = entrance_reader(ctx).read(scope)  # issue 18
        except redis.RedisError as exc:
            outage.report("redis", exc)  # one WARNING per outage, not one per refresh
            data["ok"] = False
        except SQLAlchemyError as exc:  # the registry snapshot could not be read
            outage.report("database", exc)
            data["ok"] = False
        sections = live_sections(ctx, data, scope, mode or "alert")
        shown = dict(shown or {})
        out: list[Any] = []
        for name, _o in LIVE_OUTPUTS:
            if name not in sections:
                out.append(no_update)
                continue
            key, build = sections[name]
            h = _digest(key)
            if shown.get(name) == h:
                out.append(no_update)
            else:
                shown[name] = h
                out.append(build())
        status = {"ok": data["ok"], "at": ctx.now().strftime("%H:%M:%S"), "req": (req or {}).get("n")}
        return (*out, status, shown)

    marker_layers = (ids.MAP_DEVICES, ids.MAP_PATROL, ids.MAP_ALERTS)

    @app.callback(
        Output(ids.MAP_CELLS, "data"), Output(ids.CITY_MAP, "viewport"),
        Output(ids.MAP_BREADCRUMB, "children"), Output(ids.MAP_SCOPE, "data"),
        Output(ids.MAP_LABELS, "data"), Output(ids.MAP_SCOPE_NAME, "children"),
        Input(ids.MAP_COMMUNITIES, "n_clicks"), Input(ids.MAP_CELLS, "n_clicks"),
        Input(ids.MAP_RESET, "n_clicks"), Input({"type": ids.MAP_CRUMB, "node": ALL}, "n_clicks"),
        *[Input(layer, "n_clicks") for layer in marker_layers],
        State(ids.MAP_COMMUNITIES, "clickData"), State(ids.MAP_CELLS, "clickData"), State(ids.MAP_SCOPE, "data"),
        *[State(layer, "clickData") for layer in marker_layers],
        prevent_initial_call=True,
    )
    def drill_down(_community_n: int, _cell_n: int, _reset: int, _crumbs: Any, _dev_n: Any, _pat_n: Any,
                   _alert_n: Any, community_click: Any, cell_click: Any, scope: str | None,
                   *marker_clicks: Any) -> tuple[Any, ...]:
        """Click on an area, a cluster or a marker: one level down towards it; breadcrumb or reset: back up."""
        trig = dash_ctx.triggered_id
        home = citymap.home_scope(ctx)
        if trig in marker_layers:
            target = citymap.next_scope(ctx.city, scope, citymap.clicked_node(
                marker_clicks[marker_layers.index(trig)]))
        elif trig == ids.MAP_RESET:
            target = home
        elif isinstance(trig, dict) and trig.get("type") == ids.MAP_CRUMB:
            if not (dash_ctx.triggered and dash_ctx.triggered[0].get("value")):
                return (no_update,) * 6  # a crumb re-rendered, not clicked
            target = trig.get("node") or None
        elif trig == ids.MAP_CELLS:
            target = citymap.clicked_node(cell_click) or scope
        else:
            target = citymap.next_scope(ctx.city, scope, citymap.clicked_node(community_click))
        target = citymap.clamp_scope(ctx.city, home, target)
        cells, viewport, chain = citymap.drill_any(ctx.city, target)
        return (cells, viewport, citymap.breadcrumb(ctx, chain, home), target,
                citymap.labels(ctx.city, ctx.registry.index.label, target), citymap.scope_title(ctx, chain))

    @app.callback(
        Output(ids.ALERT_DETAIL, "className"), Output(f"{ids.ALERT_DETAIL}-body", "children"),
        Input({"type": ids.FEED_ITEM, "id": ALL}, "n_clicks"), Input(ids.ALERT_DETAIL_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
    def show_detail(_clicks: Any, _close: int) -> tuple[Any, Any]:
        """A click on a feed item opens its detail (evidence frame and history); the close button hides it."""
        trig = dash_ctx.triggered_id
        if trig == ids.ALERT_DETAIL_CLOSE:
            return "alert-detail hidden", no_update
        if not (isinstance(trig, dict) and dash_ctx.triggered and dash_ctx.triggered[0].get("value")):
            return no_update, no_update  # the feed re-rendered, nothing was clicked
        try:
            found = alert_detail(ctx, current_user(), trig["id"])
        except SQLAlchemyError as exc:
            log.warning("wall: alert detail unavailable: %s", exc.__class__.__name__)
            found = False
        return "alert-detail", detail_body(ctx, trig["id"], found)


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=10, layout=layout,
                     register_callbacks=register_callbacks))
