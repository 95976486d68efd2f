"""`/patrol` (巡逻督查): supervision of the patrol units. Live positions against posts (on post / off post /
silent) with each unit's last hour of track; spot checks (抽查) of a unit picked at random or by choice, with
its post, position, distance and the nearest camera's latest frame, and the checklist saved to SQL; history
and per-unit statistics; the 1-3-5 response-time report per unit or district, exportable as CSV.
"""

from __future__ import annotations

import random

import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html, no_update

from dashboard.auth.sessions import current_user
from dashboard.context import AppContext
from dashboard.desk import actions, data, reports
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import dropdown, fmt_m, fmt_secs, fmt_time, name_of
from dashboard.pages.base import Page, register

PATH = "/patrol"
TITLE_KEY = "nav.patrol"
P = "desk-patrol-"
CHECKS = ("on_post", "on_route", "uniform", "equipment")  # the checklist (text key desk.patrol.check.<item>)


def layout(ctx: AppContext):
    t = ctx.t
    live = html.Section(className="desk-panel", children=[
        html.H2(t("desk.patrol.live")),
        dcc.Graph(id=P + "map", config={"displayModeBar": False}, style={"height": "360px"}),
        html.Div(id=P + "units"),
    ])
    spot = html.Section(className="desk-panel", children=[
        html.H2(t("desk.patrol.spot")),
        html.Div(className="desk-row", children=[
            dropdown(ctx, id=P + "unit", className="desk-select", placeholder=t("desk.patrol.pick_unit"),
                         style={"minWidth": "240px"}),
            html.Button(t("desk.patrol.random"), id=P + "random", className="desk-btn secondary", n_clicks=0),
        ]),
        html.Div(id=P + "spot-info", className="desk-spot-info"),
        dcc.Checklist(id=P + "checks", options=[{"label": " " + t(f"desk.patrol.check.{c}"), "value": c}
                                                 for c in CHECKS], value=[], className="desk-checklist"),
        html.Div(className="desk-field", children=[
            html.Label(t("desk.col.note"), htmlFor=P + "note"),
            dcc.Textarea(id=P + "note", className="desk-textarea", maxLength=2000)]),
        html.Button(t("desk.patrol.save"), id=P + "save", className="desk-btn", n_clicks=0),
        html.Div(id=P + "msg", className="desk-msg"),
    ])
    history = html.Section(className="desk-panel", children=[
        html.H2(t("desk.patrol.history")), html.Div(id=P + "history"), html.H3(t("desk.patrol.per_unit")),
        html.Div(id=P + "stats"),
    ])
    report = html.Section(className="desk-panel", children=[
        html.H2(t("desk.patrol.report")),
        html.Div(className="desk-filters", children=[
            html.Div([html.Label(t("desk.patrol.by")), dropdown(ctx, id=P + "by", options=[
                {"label": t("desk.patrol.by_unit"), "value": "unit"},
                {"label": t("desk.patrol.by_district"), "value": "district"}],
                value="unit", clearable=False, className="desk-select")]),
            html.Div([html.Label(t("desk.patrol.period")), dropdown(ctx, id=P + "days", options=[
                {"label": t(f"desk.period.{d}d"), "value": d} for d in (1, 7, 30)],
                value=7, clearable=False, className="desk-select")]),
            html.A(t("desk.patrol.csv"), id=P + "csv", className="desk-btn secondary",
                   href="/api/patrol/report.csv"),
        ]),
        html.Div(id=P + "report"),
    ])
    return desk_page(ctx, PATH, TITLE_KEY, dcc.Interval(id=P + "tick", interval=5000),
                     html.Div(className="desk-grid", children=[html.Div([live, report]), html.Div([spot, history])]),
                     class_name="desk-wide")


def _figure(ctx: AppContext, states: list[data.UnitState], tracks: dict) -> go.Figure:
    fig = go.Figure()
    xs, ys = data.community_outlines(ctx, current_user())
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                             line={"width": 1, "color": "rgba(56,200,255,0.25)"}))
    posts = [u for u in states if u.post_lat is not None]
    fig.add_trace(go.Scatter(x=[u.post_lon for u in posts], y=[u.post_lat for u in posts], mode="markers",
                             name=ctx.t("desk.col.post"), text=[u.post_name for u in posts],
                             marker={"symbol": "circle-open", "size": 14, "color": "#3ddc84"}))
    for uid, fixes in tracks.items():
        if len(fixes) > 1:
            fig.add_trace(go.Scatter(x=[f[1] for f in fixes], y=[f[0] for f in fixes], mode="lines",
                                     line={"width": 1, "color": "rgba(56,200,255,0.45)"}, showlegend=False,
                                     hoverinfo="skip"))
    colors = {"on_post": "#3ddc84", "off_post": "#ff9f1a", "silent": "#ff4d4f", "no_position": "#ff4d4f",
              "off_shift": "#7d8ca3"}
    fixed = [u for u in states if u.lat is not None]
    fig.add_trace(go.Scatter(x=[u.lon for u in fixed], y=[u.lat for u in fixed], mode="markers+text",
                             name=ctx.t("desk.col.unit"),
                             text=[u.unit_id for u in fixed], textposition="top center",
                             textfont={"color": "#d6ecff", "size": 11},
                             marker={"size": 9, "color": [colors[u.state] for u in fixed]}))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="#04101f", showlegend=False, font={"color": "#7f9dbd"},
                      xaxis={"showgrid": False, "zeroline": False, "showticklabels": False},
                      yaxis={"showgrid": False, "zeroline": False, "showticklabels": False, "scaleanchor": "x"})
    return fig


def _units_table(ctx: AppContext, states: list[data.UnitState]) -> html.Table:
    t = ctx.t
    rows = [html.Tr([html.Th(t(k)) for k in ("desk.col.unit", "desk.col.post", "desk.col.status",
                                             "desk.col.distance_to_post", "desk.patrol.last_fix")])]
    for u in states:
        rows.append(html.Tr([html.Td(f"{u.unit_id} {u.name}"), html.Td(u.post_name or "—"),
                             html.Td(name_of(ctx, "desk.state", u.state), className=f"state-{u.state}"),
                             html.Td(fmt_m(u.distance_m), className="num"),
                             html.Td(t("desk.ago", age=fmt_secs(ctx, u.age_s)) if u.age_s is not None else "—",
                                     className="num")],
                            **{"data-unit-id": u.unit_id, "data-state": u.state}))
    return html.Table(rows, className="desk-table", id=P + "units-table")


def _spot_info(ctx: AppContext, unit_id: str | None, tick: int | None):
    t = ctx.t
    if not unit_id:
        return html.P(t("desk.patrol.spot_hint"), className="desk-muted")
    u = next((s for s in data.unit_states(ctx, current_user()) if s.unit_id == unit_id), None)
    if u is None:
        return html.P(t("desk.patrol.out_of_scope"), className="desk-msg error")
    lat, lon = (u.lat, u.lon) if u.lat is not None else (u.post_lat, u.post_lon)
    cam = data.nearest_camera(ctx, lat, lon) if lat is not None else None
    kv = [(t("desk.col.post"), u.post_name or "—"), (t("desk.col.status"), name_of(ctx, "desk.state", u.state)),
          (t("desk.patrol.position"),
           f"{u.lat:.5f}, {u.lon:.5f}" if u.lat is not None else t("desk.state.no_position")),
          (t("desk.col.distance_to_post"), fmt_m(u.distance_m)),
          (t("desk.patrol.camera"), t("desk.patrol.camera_at", name=cam[0].name, distance=fmt_m(cam[1])) if cam
           else "—")]
    return html.Div(id=P + "spot-body", **{"data-unit-id": u.unit_id}, children=[
        html.Dl([x for k, v in kv for x in (html.Dt(k), html.Dd(v))], className="desk-kv"),
        _picture(ctx, cam[0].id, tick) if cam else None,
    ])


def _picture(ctx: AppContext, camera_id: str, tick: int | None):
    """The camera's latest frame (no broken image when it has none yet)."""
    from onescreen import names

    if not ctx.redis.exists(names.camera_snapshot(camera_id)):
        return html.Div(ctx.t("desk.patrol.no_picture"), className="desk-nopic")
    return html.Img(src=f"/api/patrol/cameras/{camera_id}/snapshot.jpg?t={tick or 0}", className="desk-evidence-img",
                    alt=ctx.t("desk.patrol.picture_alt"))


def _history(ctx: AppContext):
    t = ctx.t
    user = current_user()
    rows = [html.Tr([html.Th(t(k)) for k in (
        "desk.col.time", "desk.col.unit", "desk.state.on_post", "desk.patrol.col.route", "desk.col.uniform",
        "desk.col.equipment", "desk.col.distance_to_post", "desk.patrol.col.checked_by", "desk.col.note")])]
    yes = lambda v: "✓" if v else "✗"
    checks = reports.spot_checks(ctx, user, 20)
    for r in checks:
        rows.append(html.Tr([html.Td(fmt_time(ctx, r.at, True)), html.Td(r.unit_id), html.Td(yes(r.on_post)),
                             html.Td(yes(r.on_route)), html.Td(yes(r.uniform)), html.Td(yes(r.equipment)),
                             html.Td(fmt_m(r.distance_m), className="num"), html.Td(r.checked_by),
                             html.Td(r.note or "")], **{"data-spot-check-id": str(r.id)}))
    stats = [html.Tr([html.Th(t(k)) for k in (
        "desk.col.unit", "desk.patrol.col.checks", "desk.patrol.col.on_post_rate", "desk.col.uniform",
        "desk.col.equipment", "desk.patrol.col.last")])]
    for s in reports.spot_check_stats(ctx, user):
        n = s["checks"]
        stats.append(html.Tr([html.Td(s["unit_id"]), html.Td(n, className="num"),
                              html.Td(f"{100 * s['on_post'] / n:.0f}%", className="num"),
                              html.Td(f"{s['uniform']}/{n}", className="num"),
                              html.Td(f"{s['equipment']}/{n}", className="num"), html.Td(fmt_time(ctx, s["last"], True))]))
    listed = (html.Table(rows, className="desk-table", id=P + "history-table") if checks
              else html.P(t("desk.patrol.no_checks"), className="desk-muted"))
    return listed, html.Table(stats, className="desk-table")


def _report(ctx: AppContext, by: str, days: float) -> html.Table:
    rows = [html.Tr([html.Th(ctx.t(f"desk.patrol.col.{c}")) for c in (
        "key", "alerts", "ack_in_time", "ack_avg", "dispatch_in_time", "dispatch_avg", "on_scene_in_time",
        "on_scene_avg")])]
    for r in reports.response_report(ctx, current_user(), by, days):
        rows.append(html.Tr([html.Td(f"{r['key']} {r['name']}" if r["name"] != r["key"] else r["key"]),
                             html.Td(r["alerts"], className="num"),
                             html.Td(f"{r['ack_within_1min']}/{r['alerts']}", className="num"),
                             html.Td(fmt_secs(ctx, r["ack_avg_s"]), className="num"),
                             html.Td(f"{r['dispatch_within_3min']}/{r['alerts']}", className="num"),
                             html.Td(fmt_secs(ctx, r["dispatch_avg_s"]), className="num"),
                             html.Td(f"{r['on_scene_within_5min']}/{r['alerts']}", className="num"),
                             html.Td(fmt_secs(ctx, r["on_scene_avg_s"]), className="num")]))
    return html.Table(rows, className="desk-table", id=P + "report-table")


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "map", "figure"), Output(P + "units", "children"), Output(P + "unit", "options"),
                  Input(P + "tick", "n_intervals"))
    def live(_tick):
        states = data.unit_states(ctx, current_user())
        tracks = data.tracks(ctx, {u.unit_id for u in states})
        options = [{"label": f"{u.unit_id} {u.name}", "value": u.unit_id} for u in states]
        return _figure(ctx, states, tracks), _units_table(ctx, states), options

    @app.callback(Output(P + "unit", "value"), Input(P + "random", "n_clicks"), prevent_initial_call=True)
    def pick(_n):
        """A surprise check is of a unit that should be at its post now: one on shift, at random."""
        on_duty = [u.unit_id for u in data.unit_states(ctx, current_user()) if u.state != "off_shift"]
        return random.choice(on_duty) if on_duty else no_update

    @app.callback(Output(P + "spot-info", "children"), Input(P + "unit", "value"), Input(P + "tick", "n_intervals"))
    def spot(unit_id, tick):
        return _spot_info(ctx, unit_id, tick)

    @app.callback(Output(P + "msg", "children"), Output(P + "msg", "className"), Output(P + "checks", "value"),
                  Output(P + "note", "value"),
                  Input(P + "save", "n_clicks"), State(P + "unit", "value"), State(P + "checks", "value"),
                  State(P + "note", "value"), prevent_initial_call=True)
    def save(_n, unit_id, checks, note):
        checks = set(checks or [])
        try:
            row = actions.save_spot_check(ctx, current_user(), unit_id, actions.Checklist(
                "on_post" in checks, "on_route" in checks, "uniform" in checks, "equipment" in checks, note))
        except actions.DeskError as exc:
            return exc.text(ctx), "desk-msg error", no_update, no_update
        return ctx.t("desk.patrol.saved", id=row, unit=unit_id), "desk-msg ok", [], ""

    @app.callback(Output(P + "history", "children"), Output(P + "stats", "children"),
                  Input(P + "msg", "children"), Input(P + "tick", "n_intervals"))
    def history(_msg, _tick):
        return _history(ctx)

    @app.callback(Output(P + "report", "children"), Output(P + "csv", "href"),
                  Input(P + "by", "value"), Input(P + "days", "value"), Input(P + "tick", "n_intervals"))
    def report(by, days, _tick):
        return _report(ctx, by, float(days)), f"/api/patrol/report.csv?by={by}&days={days}"


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=40, layout=layout, register_callbacks=register_callbacks))
