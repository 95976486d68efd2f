"""The wall's key-person panel and map layer (issue 15): counts by colour, 在控率, overdue visits, and the
communities shaded by their key persons' highest level — never a person's position on the wall.

Kept apart from the wall's live refresh (``pages/wall.py``, ``wall_data``): key-person figures change in minutes,
not seconds, so the panel has its own slow interval and one small SQL read per scope, cached for
``CACHE_S``. 在控率 (in control) = red and orange persons seen by a device (their sightings, re-routed by the
alert engine as ``watch`` events, in ``event_archive``) or visited within ``persons.in_control_hours``, out of
all red and orange persons of the scope. The map layer is hidden until its toggle is pressed (it would hide the
alert colours under it); ``assets/wall_persons.js`` styles it from the ``hideout`` (community → level).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import dash_leaflet as dl
from dash import Dash, Input, Output, dcc, html
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.components.panels import panel
from dashboard.context import AppContext
from onescreen.db.models import WatchPerson
from persons import queries
from persons.cadence import LEVELS, Cadence, visit_due

PANEL = "wall-persons"
TICK = "wall-persons-tick"
LAYER = "city-map-persons"
IN_CONTROL = "wall-persons-in-control"
OVERDUE = "wall-persons-overdue"
CACHE_S = 10.0
_cache: dict[Any, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def summary(session: Session, communities: set[str] | None, now: datetime, cadence: Cadence,
            hours: float) -> dict[str, Any]:
    """Counts by level, overdue visits, 在控率 parts and the highest level per community, for one scope."""
    rows = [(p, lv, c) for p, lv, c in session.execute(
        select(WatchPerson.person_id, WatchPerson.level, WatchPerson.home_community_id)).all()
        if communities is None or c in communities]
    last = queries.last_visits(session)
    counts = {lv: 0 for lv in LEVELS}
    highest: dict[str, str] = {}
    overdue = 0
    for person, level, community in rows:
        counts[level] = counts.get(level, 0) + 1
        overdue += visit_due(level, last.get(person), now, cadence).overdue
        cur = highest.get(community)
        if cur is None or LEVELS.index(level) < LEVELS.index(cur):
            highest[community] = level
    ctl = queries.in_control(session, now, hours, communities)
    return {"counts": counts, "overdue": overdue, "highest": highest, **ctl}


def _scoped(ctx: AppContext) -> dict[str, Any]:
    from dashboard.auth.sessions import current_user
    from dashboard.desk.data import visible_communities

    scope = visible_communities(ctx, current_user())
    key = None if scope is None else frozenset(scope)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_S:
            return hit[1]
    with Session(ctx.engine) as db:
        data = summary(db, scope, datetime.now(UTC), Cadence.from_settings(ctx.settings.persons),
                       ctx.settings.persons.in_control_hours)
    with _lock:
        _cache[key] = (time.monotonic(), data)
    return data


def _chips(ctx: AppContext, counts: dict[str, int] | None) -> list[html.Div]:
    return [html.Div(className=f"level-chip level-{lv}", children=[
        html.Span(ctx.t(f"level.{lv}"), className="level-name"),
        html.Span("—" if counts is None else str(counts.get(lv, 0)), className="level-count",
                  id=f"{PANEL}-{lv}"),
    ]) for lv in LEVELS]


def _rate(d: dict[str, Any] | None) -> str:
    if d is None or not d.get("watched"):
        return "—"
    return f"{100 * d['in_control'] / d['watched']:.0f}%"


def persons_panel(ctx: AppContext) -> html.Section:
    t = ctx.t
    body = html.Div(className="persons-block", children=[
        html.Div(_chips(ctx, None), id=PANEL + "-levels", className="persons-levels"),
        html.Div(className="persons-kpis", children=[
            html.Div([html.Div("—", id=IN_CONTROL, className="kpi-value"),
                      html.Div(t("wall.persons.in_control"), className="kpi-label")], className="kpi"),
            html.Div([html.Div("—", id=OVERDUE, className="kpi-value"),
                      html.Div(t("wall.persons.overdue"), className="kpi-label")], className="kpi"),
        ]),
        dcc.Interval(id=TICK, interval=int(CACHE_S * 1000)),
    ])
    toggle = html.Button(t("wall.persons.layer"), id=PANEL + "-toggle", className="persons-toggle")
    return html.Div(panel(t("wall.persons.title"), body, "panel-persons", extra=toggle), id=PANEL,
                    className="panel-persons-wrap")


def map_layer(ctx: AppContext) -> dl.Pane:
    """Communities filled by their key persons' highest level (hidden until toggled on; wall_persons.css)."""
    return dl.Pane(name="os-persons", children=[
        dl.GeoJSON(id=LAYER, data=ctx.city.communities, style={"variable": "onescreen.persons.area"},
                   interactive=False, hideout={"levels": {}}),
    ])


def register_callbacks(app: Dash, ctx: AppContext) -> None:
    @app.callback(Output(PANEL + "-levels", "children"), Output(IN_CONTROL, "children"),
                  Output(OVERDUE, "children"), Output(LAYER, "hideout"), Input(TICK, "n_intervals"))
    def refresh(_n: int | None) -> tuple[Any, ...]:
        d = _scoped(ctx)
        return _chips(ctx, d["counts"]), _rate(d), str(d["overdue"]), {"levels": d["highest"]}
