"""The wall's case panel (CONTRACT §4): ``kpi-open-cases``, ``kpi-overdue-cases`` and ``case-feed``, and the
cases layer of the city map (toggle 事件, one marker per open case coloured by level, overdue ringed).

Its own panel, map layer and one-second refresh, so the wall's map/KPI code stays untouched (one-line hooks in
``pages/wall.py``; the marker style is ``onescreen.cases.point`` in ``assets/wall_cases.js``). Scoped like everything on the wall: the signed-in user's scope (``cases.scope``), cut
further to the drill-down node (``MAP_SCOPE``: a district, community or cell). A new case shows within about
a second of its report: the data comes from ``readers.cases`` (SQL once per change for every wall of one user and
node, ``readers.changes``), a refresh costs one GET of the change counter.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import dash_leaflet as dl
import orjson
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from cases.places import places_for
from dashboard import ids
from dashboard.auth.sessions import current_user
from dashboard.components.panels import panel
from dashboard.context import AppContext
from dashboard.readers import cases as case_reader
from dashboard.registry import feature_collection

log = logging.getLogger(__name__)

KPI_OPEN_CASES = "kpi-open-cases"
KPI_OVERDUE_CASES = "kpi-overdue-cases"
CASE_FEED = "case-feed"
CASE_TICK = "wall-case-tick"
MAP_CASES = "city-map-cases"
CASE_SHOWN = "wall-case-shown"  # digest of what the panel shows: an unchanged second sends nothing
POINT_FN = {"variable": "onescreen.cases.point"}


def add_map_layer(city_map: dl.Map) -> dl.Map:
    """Put the (empty) cases layer on the city map; the refresh fills it."""
    city_map.children = [*city_map.children, dl.GeoJSON(id=MAP_CASES, data=feature_collection([]),
                                                        pointToLayer=POINT_FN)]
    return city_map


def layer_toggle(ctx: AppContext) -> html.Div:
    """The 事件 toggle, with the same behaviour as the map's other layer toggles (``hide-cases``)."""
    return html.Div(html.Button(ctx.t("map.layer.cases"), className="layer-toggle on", **{"data-layer": "cases"}),
                    className="map-toggles map-toggles-cases")


def _features(rows: list[list[Any]]) -> dict[str, Any]:
    return feature_collection([{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r[2], r[1]]},
                                "properties": {"id": r[0], "kind": "case", "level": r[3], "overdue": r[4]}}
                               for r in rows])


def case_panel(ctx: AppContext) -> html.Section:
    """Two figures and the feed, empty until the first refresh."""
    t = ctx.t
    body = html.Div(className="case-panel", children=[
        html.Div(className="case-kpis", children=[
            html.Div([html.Div("—", id=KPI_OPEN_CASES, className="kpi-value"),
                      html.Div(t("kpi.open_cases"), className="kpi-label")], className="kpi"),
            html.Div([html.Div("—", id=KPI_OVERDUE_CASES, className="kpi-value"),
                      html.Div(t("kpi.overdue_cases"), className="kpi-label")], className="kpi"),
        ]),
        html.Ul(id=CASE_FEED, className="alert-feed case-feed"),
        dcc.Interval(id=CASE_TICK, interval=1000),
        dcc.Store(id=CASE_SHOWN),
    ])
    return panel(t("panel.cases"), body, "panel-cases")


def _where(scope: str | None, places) -> tuple[list[str] | None, str | None]:
    """(communities, cell) of the map's drill-down node: None for the whole city."""
    if not scope:
        return None, None
    node = places.reg.node(scope)
    if node is None:
        return [], None
    if node.level == "community":
        return [node.id], None
    if node.level == "cell":
        return None, node.id
    return (list(places.reg.descendants(node.id, "community")) if node.level != "city" else None), None


def feed_item(ctx: AppContext, doc: dict[str, Any], places) -> html.Li:
    t = ctx.t
    lv = doc["display_level"]
    return html.Li(className=f"alert-item level-{lv}" + (" overdue" if doc["overdue"] else ""),
                   **{"data-case-id": doc["case_id"]}, children=[
        html.Span(t(f"level.{lv}"), className=f"alert-level level-{lv}"),
        html.Span(t(f"cases.cat.{doc['category']}"), className="alert-rule"),
        html.Span(t("cases.overdue") if doc["overdue"] else t(f"cases.st.{doc['status']}"), className="alert-status"),
        html.Span(places.name(doc["location"]["community_id"]), className="alert-place"),
        html.Span((doc["reported_at"] or "")[11:16], className="alert-time"),
    ])


def register(app: Dash, ctx: AppContext) -> None:
    """The panel's refresh: counts and feed for the user's scope and the map's drill-down node."""

    @app.callback(Output(KPI_OPEN_CASES, "children"), Output(KPI_OVERDUE_CASES, "children"),
                  Output(KPI_OVERDUE_CASES, "className"), Output(CASE_FEED, "children"), Output(MAP_CASES, "data"),
                  Output(CASE_SHOWN, "data"),
                  Input(CASE_TICK, "n_intervals"), State(ids.MAP_SCOPE, "data"), State(CASE_SHOWN, "data"))
    def refresh_cases(_n: int, scope: str | None, shown: str | None) -> tuple[Any, ...]:
        """Counts, feed and markers; nothing at all (HTTP 204) when they are what the page already shows, so
        a wall does not re-draw the panel and the map's case layer every second (issue #13)."""
        who = current_user()
        if who is None:
            return _unless_shown(shown, "none", ("—", "—", "kpi-value", [], no_update))
        try:
            places = places_for(ctx.engine)
            got = case_reader.wall_cases(ctx, who.id, scope, places, _where)
        except SQLAlchemyError as exc:
            log.warning("wall: cases unavailable: %s", exc.__class__.__name__)
            return _unless_shown(shown, "none", ("—", "—", "kpi-value", [], no_update))
        if got is None:
            return _unless_shown(shown, "none", ("—", "—", "kpi-value", [], no_update))
        digest = _digest(got)
        if digest == shown:
            raise PreventUpdate
        n, docs, marks = got["counts"], got["docs"], _features(got["points"])
        hot = "kpi-value hot" if n["overdue"] else "kpi-value"
        items = [feed_item(ctx, d, places) for d in docs]
        if not items:
            items = [html.Li(ctx.t("cases.none"), className="feed-empty")]
        return n["open"], n["overdue"], hot, items, marks, digest


def _digest(value: Any) -> str:
    return hashlib.blake2b(orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                                        default=str), digest_size=8).hexdigest()


def _unless_shown(shown: str | None, digest: str, out: tuple[Any, ...]) -> tuple[Any, ...]:
    if shown == digest:
        raise PreventUpdate
    return (*out, digest)
