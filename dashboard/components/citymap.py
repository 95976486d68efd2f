"""The city map: grid polygons on a dark canvas, drilled down from the city to one community's cells.

Offline by design (DESIGN: closed networks): Leaflet draws the registry's GeoJSON as vectors with no
tile layer, so nothing is fetched from outside; an intranet tile server is added only when
``dashboard.tile_url`` is set. Districts are outlines with labels, communities are the clickable fills,
and the cells of one community appear when it is clicked (a city of ~1,000 cells stays light on the wall).
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import html

from dashboard import ids
from dashboard.context import AppContext
from dashboard.registry import Bounds, CityView, NodeInfo, feature_collection

# Districts have no fill, so a click inside one falls through to the community below it.
DISTRICT_STYLE = {"color": "#38c8ff", "weight": 2.4, "opacity": 0.95, "fill": False}
COMMUNITY_STYLE = {"color": "#1f6fa3", "weight": 1, "opacity": 0.9, "fillColor": "#0d3a5c",
                   "fillOpacity": 0.55}
CELL_STYLE = {"color": "#8fe9ff", "weight": 0.8, "opacity": 0.9, "dashArray": "4 3",
              "fillColor": "#1b6d99", "fillOpacity": 0.25}
FALLBACK_BOUNDS: Bounds = [[26.55, 118.05], [26.75, 118.30]]  # only used to give Leaflet a view when empty
FIT_PADDING = [24, 24]

# Functions defined in assets/wall.js (resolved by dash-leaflet from window.onescreen.map).
LABEL_FN = {"variable": "onescreen.map.label"}
HOVER_FN = {"variable": "onescreen.map.hover"}
AREA_FN = {"variable": "onescreen.map.area"}      # fill colour from the hideout (alert level or density)
POINT_FN = {"variable": "onescreen.map.point"}    # circle marker by kind/state (cameras, doors, units, alerts)
NAME_FN = {"variable": "onescreen.map.name"}      # an area's name at its label point (not interactive)
HIDDEN_LAYERS = ("doors",)  # off at start: hundreds of doors would drown the alerts; one click shows them
MARKER_LAYERS = (("alerts", "map.layer_alerts"), ("patrol", "map.layer_patrol"),
                 ("cameras", "map.layer_cameras"), ("doors", "map.layer_doors"))


def map_layers(ctx: AppContext, cells: dict[str, Any] | None = None, home: str | None = None) -> list[Any]:
    """Leaflet children: optional intranet tiles, then communities, district outlines, drilled cells."""
    city = ctx.city
    layers: list[Any] = []
    if ctx.settings.dashboard.tile_url:
        layers.append(dl.TileLayer(url=ctx.settings.dashboard.tile_url, attribution=""))
    # One pane per level fixes the stacking (communities < cells < district outlines < labels; z-index in
    # wall.css) and gives each level a stable CSS hook (.leaflet-os-communities-pane path) for tests.
    layers += [
        dl.Pane(name="os-communities", children=[
            dl.GeoJSON(id=ids.MAP_COMMUNITIES, data=city.communities, style=AREA_FN, hoverStyle=HOVER_FN,
                       hideout=empty_hideout()),
        ]),
        dl.Pane(name="os-cells", children=[
            dl.GeoJSON(id=ids.MAP_CELLS, data=cells or feature_collection([]), style=AREA_FN,
                       hoverStyle=HOVER_FN, hideout=empty_hideout()),
        ]),
        dl.Pane(name="os-districts", children=[
            dl.GeoJSON(id=ids.MAP_DISTRICTS, data=city.districts, style=DISTRICT_STYLE, interactive=False,
                       onEachFeature=LABEL_FN),
        ]),
        # Names of the drilled area's parts, under the markers and never clickable (NAME_FN).
        dl.Pane(name="os-labels", children=[
            dl.GeoJSON(id=ids.MAP_LABELS, data=labels(city, ctx.registry.index.label, home),
                       pointToLayer=NAME_FN, interactive=False),
        ]),
        # Markers and clusters above every polygon, the alerts above them all (their own pane): the most
        # urgent is never hidden. Each GeoJSON gets its data from the live refresh (wall.py); a click on any
        # of them drills to its node, like a click on the area under it.
        dl.Pane(name="os-markers", children=[
            dl.GeoJSON(id=ids.MAP_DEVICES, data=feature_collection([]), pointToLayer=POINT_FN),
            dl.GeoJSON(id=ids.MAP_PATROL, data=feature_collection([]), pointToLayer=POINT_FN),
        ]),
        dl.Pane(name="os-alerts", children=[
            dl.GeoJSON(id=ids.MAP_ALERTS, data=feature_collection([]), pointToLayer=POINT_FN),
        ]),
    ]
    return layers


def empty_hideout(mode: str = "alert") -> dict[str, Any]:
    """What the area style function reads: colour mode, highest open level and density per node."""
    return {"mode": mode, "level": {}, "density": {}, "dmax": 0, "sel": None}


def points(rows: list[list[Any]], kind: str | None = None, t: Any = None,
           names: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compact rows (``readers.wall``) as point features, each with a tooltip ``tip`` in the screen's language
    and the grid ``node`` a click on it drills to (so a marker never swallows a click meant for its area).

    - alerts ``[id, lat, lon, level, rule, at, n, node, silenced]``: ``at`` the label point standing in for
      coordinates the alert does not have (dashed ring), ``n`` alerts sharing it (one marker, their number on it),
      ``silenced`` a silence covers it (静默中 in the tooltip, a muted ring);
    - patrol ``[id, lat, lon, state, cell]``; cameras/doors ``[id, lat, lon, kind, on, cell]``;
    - clusters ``[node, lat, lon, "<kind>_cluster", on, n]``: ``on`` of ``n`` online (patrol: on post).
    """
    t = t or (lambda key, **_kw: key)
    names = names or {}
    feats = []
    for row in rows:
        k = row[3] if str(row[3]).endswith("_cluster") else kind or row[3]
        props: dict[str, Any] = {"id": row[0], "kind": k}
        if k == "alert":
            n = row[6] if len(row) > 6 else 1
            silenced = bool(row[8]) if len(row) > 8 else False  # a silence covers it: marked, never hidden
            props.update(level=row[3], rule=row[4], node=row[7] if len(row) > 7 else None, silenced=silenced,
                         tip=" · ".join([t(f"rule.{row[4]}"), t(f"level.{row[3]}")]
                                        + ([t("feed.silenced")] if silenced else [])
                                        + ([t("map.tip_alerts_here", n=n)] if n > 1 else [])))
            if len(row) > 5 and row[5]:
                props["at"] = row[5]
                props["n"] = n  # alerts sharing that label point (one marker)
        elif k == "patrol":
            props.update(state=row[3], node=row[4] if len(row) > 4 else None,
                         tip=f"{row[0]} · {t('wall.patrol.' + row[3])}")
        elif k.endswith("_cluster"):
            name = names[row[0]].name if row[0] in names else row[0]
            props.update(node=row[0], on=row[4], n=row[5],
                         tip=t(f"map.tip_{k}", name=name, on=row[4], n=row[5]))
        else:
            props.update(on=row[4], node=row[5] if len(row) > 5 else None,
                         tip=f"{t('map.kind_' + k)} {row[0]} · {t('map.device_on' if row[4] else 'map.device_off')}")
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [row[2], row[1]]},
                      "properties": props})
    return feature_collection(feats)


def labels(city: CityView, label_points: dict[str, tuple[float, float]], node_id: str | None) -> dict[str, Any]:
    """Names of the areas one level below the drilled node (a district's communities, a community's cells; a
    cell shows its siblings), at their label points: at the city level the district outlines carry theirs."""
    node = city.nodes.get(node_id or "")
    if node is None:
        return feature_collection([])
    parent = node.parent_id if node.level == "cell" else node.id
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [label_points[n.id][1],
                                                                               label_points[n.id][0]]},
              "properties": {"id": n.id, "name": n.name, "level": n.level, "sel": n.id == node.id}}
             for n in sorted(city.nodes.values(), key=lambda n: n.id)
             if n.parent_id == parent and n.id in label_points]
    return feature_collection(feats)


def legend(ctx: AppContext) -> html.Div:
    """What the colours and marker kinds mean, compact, in a corner of the map."""
    t = ctx.t

    def item(cls: str, key: str) -> html.Span:
        return html.Span([html.I(className=f"lg-sw {cls}"), t(key)], className="lg-item")

    return html.Div(id=ids.MAP_LEGEND, className="map-legend", children=[
        html.Div([item("lg-area-red", "level.red"), item("lg-area-orange", "level.orange"),
                  item("lg-area-yellow", "level.yellow"), item("lg-area-green", "map.legend_quiet")],
                 className="lg-row"),
        html.Div([item("lg-alert", "map.legend_alert"), item("lg-alert-at", "map.legend_alert_at"),
                  item("lg-cluster", "map.legend_cluster")], className="lg-row"),
        html.Div([item("lg-patrol-on", "wall.patrol.on_post"), item("lg-patrol-moving", "wall.patrol.moving"),
                  item("lg-patrol-off", "wall.patrol.off")], className="lg-row"),
        html.Div([item("lg-cam-on", "map.legend_camera_on"), item("lg-cam-off", "map.legend_camera_off"),
                  item("lg-door", "map.layer_doors")], className="lg-row"),
    ])


def layer_toggles(ctx: AppContext) -> html.Div:
    """Buttons that show/hide the marker layers (pure CSS, in the browser) and switch the colour mode."""
    t = ctx.t
    buttons = [html.Button(t(key), className="layer-toggle" if name in HIDDEN_LAYERS else "layer-toggle on",
                           **{"data-layer": name}) for name, key in MARKER_LAYERS]
    buttons.append(html.Button(t("map.mode_alert"), id=ids.MAP_MODE_BUTTON, n_clicks=0, className="mode-toggle"))
    return html.Div(buttons, className="map-toggles")


def city_map(ctx: AppContext, home: str | None = None) -> dl.Map:
    """The ``city-map`` element (CONTRACT §4), fitted to the city's extent, or to the user's home scope."""
    cells, viewport, _chain = drill_any(ctx.city, home)
    return dl.Map(
        id=ids.CITY_MAP,
        children=map_layers(ctx, cells, home),
        bounds=viewport["bounds"] if home else ctx.city.bounds or FALLBACK_BOUNDS,
        boundsOptions={"padding": FIT_PADDING},
        zoomControl=False,
        attributionControl=False,
        zoomSnap=0.1,
        # Not tracking the view back into Dash props: nothing reads it, and dash-leaflet's tracker
        # dereferences the ``center`` prop, which a bounds-fitted map does not have.
        trackViewport=False,
        className="city-map",
        style={"width": "100%", "height": "100%"},
    )


def empty_notice(ctx: AppContext) -> html.Div | None:
    """Over the map when the registry is empty: what is missing and the commands that load a city."""
    if not ctx.city.empty:
        return None
    t = ctx.t
    children: list[Any] = [
        html.Div(t("map.empty_title"), className="map-empty-title"),
        html.Div(t("map.empty_hint"), className="map-empty-hint"),
        html.Code(t("map.empty_cmd"), className="map-empty-cmd"),
        html.Div(t("map.empty_demo"), className="map-empty-hint"),
    ]
    if ctx.city.error:
        children.append(html.Div(ctx.city.error, className="map-empty-error"))
    return html.Div(children, className="map-empty")


def breadcrumb(ctx: AppContext, chain: list[NodeInfo], home: str | None = None) -> list[Any]:
    """全市 › district › community › cell, each a button back to that level, the last one highlighted; the
    levels above a scoped user's home are shown for orientation but cannot be clicked."""
    above = {n.id for n in ctx.city.path(home)[:-1]} | {""} if home else set()

    def crumb(text: str, node_id: str, current: bool) -> html.Button:
        locked = node_id in above
        return html.Button(text, id={"type": ids.MAP_CRUMB, "node": node_id}, disabled=locked,
                           className="crumb" + (" current" if current else "") + (" locked" if locked else ""))

    items: list[Any] = [crumb(ctx.t("map.city"), "", not chain)]
    for i, node in enumerate(chain):
        if node.level == "city":
            continue
        items += [html.Span("›", className="crumb-sep"), crumb(node.name, node.id, i == len(chain) - 1)]
    return items


def scope_title(ctx: AppContext, chain: list[NodeInfo]) -> str:
    """The drilled area's own name over the map (the whole city's name at the top)."""
    return chain[-1].name if chain else ctx.city.name


def home_scope(ctx: AppContext) -> str | None:
    """Where the signed-in user's wall opens and the node it never goes above: the user's scope node (None:
    the whole city). A scope the registry no longer holds stays as it is, so the wall shows nothing."""
    from dashboard.auth.sessions import current_user

    user = current_user()
    scope = user.scope_node_id if user is not None else None
    node = ctx.city.nodes.get(scope or "")
    return None if scope is None or (node is not None and node.level == "city") else scope


def clamp_scope(city: CityView, home: str | None, target: str | None) -> str | None:
    """``target`` if it lies within ``home`` (None: anywhere), else ``home``: what the browser asks for is
    never trusted beyond the user's scope."""
    if home is None:
        return target
    if target is not None and home in {n.id for n in city.path(target)}:
        return target
    return home


def next_scope(city: CityView, scope: str | None, clicked: str | None) -> str | None:
    """One step down the tree towards the clicked polygon: city → its district → community → cell."""
    node = city.nodes.get(clicked or "")
    if node is None:
        return scope
    chain = [n.id for n in city.path(node.id)]
    if scope is None or scope not in chain:
        scope_level = "city"
    else:
        scope_level = city.nodes[scope].level
    order = ("city", "district", "community", "cell")
    want = order[min(order.index(scope_level) + 1, 3)] if scope_level in order else "district"
    for nid in chain:
        if city.nodes[nid].level == want:
            return nid
    return node.id


def drill(city: CityView, node_id: str | None) -> tuple[dict[str, Any], dict[str, Any], list[NodeInfo]]:
    """Cells to draw, viewport to fly to and breadcrumb chain for a focused node (None: whole city)."""
    node = city.nodes.get(node_id or "")
    if node is None or node.id not in city.node_bounds:
        bounds = city.bounds or FALLBACK_BOUNDS
        return feature_collection([]), _viewport(bounds), []
    cells = city.cells_of(node.id) if node.level == "community" else feature_collection([])
    return cells, _viewport(city.node_bounds[node.id]), city.path(node.id)


def drill_any(city: CityView, node_id: str | None) -> tuple[dict[str, Any], dict[str, Any], list[NodeInfo]]:
    """Like ``drill`` but a cell shows its community's cells and flies to the cell."""
    node = city.nodes.get(node_id or "")
    if node is not None and node.level == "cell" and node.parent_id:
        cells, viewport, _chain = drill(city, node.parent_id)
        feats = [f for f in cells["features"] if f["id"] == node.id]
        if feats:
            from dashboard.registry import geometry_bounds

            b = geometry_bounds([feats[0]["geometry"]])
            if b:
                viewport = _viewport(b)
        return cells, viewport, city.path(node.id)
    return drill(city, node_id)


def _viewport(bounds: Bounds) -> dict[str, Any]:
    return {"bounds": bounds, "transition": "flyToBounds",
            "options": {"padding": FIT_PADDING, "duration": 0.6}}


def clicked_node(click: dict[str, Any] | None) -> str | None:
    """Node id from a dash-leaflet GeoJSON ``clickData`` (the clicked feature): an area's own id, or the node a
    marker or cluster stands in (its ``node``)."""
    if not click:
        return None
    props = click.get("properties") or {}
    return props.get("node") or props.get("id") or click.get("id")
