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


def map_layers(ctx: AppContext) -> list[Any]:
    """Leaflet children: optional intranet tiles, then communities, district outlines, drilled cells."""
    city = ctx.city
    layers: list[Any] = []
    if ctx.settings.dashboard.tile_url:
        layers.append(dl.TileLayer(url=ctx.settings.dashboard.tile_url, attribution=""))
    # One pane per level fixes the stacking (communities < cells < district outlines < labels; z-index in
    # wall.css) and gives each level a stable CSS hook (.leaflet-os-communities-pane path) for tests.
    layers += [
        dl.Pane(name="os-communities", children=[
            dl.GeoJSON(id=ids.MAP_COMMUNITIES, data=city.communities, style=COMMUNITY_STYLE,
                       hoverStyle=HOVER_FN),
        ]),
        dl.Pane(name="os-cells", children=[
            dl.GeoJSON(id=ids.MAP_CELLS, data=feature_collection([]), style=CELL_STYLE, hoverStyle=HOVER_FN),
        ]),
        dl.Pane(name="os-districts", children=[
            dl.GeoJSON(id=ids.MAP_DISTRICTS, data=city.districts, style=DISTRICT_STYLE, interactive=False,
                       onEachFeature=LABEL_FN),
        ]),
    ]
    return layers


def city_map(ctx: AppContext) -> dl.Map:
    """The ``city-map`` element (CONTRACT §4), fitted to the city's extent."""
    return dl.Map(
        id=ids.CITY_MAP,
        children=map_layers(ctx),
        bounds=ctx.city.bounds or FALLBACK_BOUNDS,
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


def breadcrumb(ctx: AppContext, chain: list[NodeInfo]) -> list[Any]:
    """全市 › district › community, the last one highlighted."""
    items: list[Any] = [html.Span(ctx.t("map.city"), className="crumb" if chain else "crumb current")]
    for i, node in enumerate(chain):
        if node.level == "city":
            continue
        items.append(html.Span("›", className="crumb-sep"))
        items.append(html.Span(node.name, className="crumb current" if i == len(chain) - 1 else "crumb"))
    return items


def drill(city: CityView, node_id: str | None) -> tuple[dict[str, Any], dict[str, Any], list[NodeInfo]]:
    """Cells to draw, viewport to fly to and breadcrumb chain for a focused node (None: whole city)."""
    node = city.nodes.get(node_id or "")
    if node is None or node.id not in city.node_bounds:
        bounds = city.bounds or FALLBACK_BOUNDS
        return feature_collection([]), _viewport(bounds), []
    cells = city.cells_of(node.id) if node.level == "community" else feature_collection([])
    return cells, _viewport(city.node_bounds[node.id]), city.path(node.id)


def _viewport(bounds: Bounds) -> dict[str, Any]:
    return {"bounds": bounds, "transition": "flyToBounds",
            "options": {"padding": FIT_PADDING, "duration": 0.6}}


def clicked_node(click: dict[str, Any] | None) -> str | None:
    """Node id from a dash-leaflet GeoJSON ``clickData`` (the clicked feature)."""
    if not click:
        return None
    return (click.get("properties") or {}).get("id") or click.get("id")
