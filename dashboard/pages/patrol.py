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
from dashboard.desk.widgets import STATE_ZH, fmt_m, fmt_secs, fmt_time
from dashboard.pages.base import Page, register

PATH = "/patrol"
TITLE_KEY = "nav.patrol"
P = "desk-patrol-"
CHECKS = [{"label": " 在岗", "value": "on_post"}, {"label": " 按线路巡逻", "value": "on_route"},
          {"label": " 着装规范", "value": "uniform"}, {"label": " 装备齐全", "value": "equipment"}]


def layout(ctx: AppContext):
    live = html.Section(className="desk-panel", children=[
        html.H2("在岗态势（近 1 小时轨迹）"),
        dcc.Graph(id=P + "map", config={"displayModeBar": False}, style={"height": "360px"}),
        html.Div(id=P + "units"),
    ])
    spot = html.Section(className="desk-panel", children=[
        html.H2("抽查"),
        html.Div(className="desk-row", children=[
            dcc.Dropdown(id=P + "unit", className="desk-select", placeholder="选择巡逻单元",
                         style={"minWidth": "240px"}),
            html.Button("随机抽取", id=P + "random", className="desk-btn secondary", n_clicks=0),
        ]),
        html.Div(id=P + "spot-info", className="desk-spot-info"),
        dcc.Checklist(id=P + "checks", options=CHECKS, value=[], className="desk-checklist"),
        html.Div(className="desk-field", children=[
            html.Label("备注", htmlFor=P + "note"), dcc.Textarea(id=P + "note", className="desk-textarea",
                                                              maxLength=2000)]),
        html.Button("保存抽查记录", id=P + "save", className="desk-btn", n_clicks=0),
        html.Div(id=P + "msg", className="desk-msg"),
    ])
    history = html.Section(className="desk-panel", children=[
        html.H2("抽查记录与统计"), html.Div(id=P + "history"), html.H3("按单元统计"), html.Div(id=P + "stats"),
    ])
    report = html.Section(className="desk-panel", children=[
        html.H2("1-3-5 响应时效"),
        html.Div(className="desk-filters", children=[
            html.Div([html.Label("统计口径"), dcc.Dropdown(id=P + "by", options=[
                {"label": "按巡逻单元", "value": "unit"}, {"label": "按街道/乡镇", "value": "district"}],
                value="unit", clearable=False, className="desk-select")]),
            html.Div([html.Label("时间范围"), dcc.Dropdown(id=P + "days", options=[
                {"label": "1 天", "value": 1}, {"label": "7 天", "value": 7}, {"label": "30 天", "value": 30}],
                value=7, clearable=False, className="desk-select")]),
            html.A("导出 CSV", id=P + "csv", className="desk-btn secondary", href="/api/patrol/report.csv"),
        ]),
        html.Div(id=P + "report"),
    ])
    return desk_page(ctx, PATH, TITLE_KEY, dcc.Interval(id=P + "tick", interval=5000),
                     html.Div(className="desk-grid", children=[html.Div([live, report]), html.Div([spot, history])]),
                     class_name="desk-wide")


def _figure(states: list[data.UnitState], tracks: dict) -> go.Figure:
    fig = go.Figure()
    posts = [u for u in states if u.post_lat is not None]
    fig.add_trace(go.Scatter(x=[u.post_lon for u in posts], y=[u.post_lat for u in posts], mode="markers",
                             name="岗位", text=[u.post_name for u in posts],
                             marker={"symbol": "circle-open", "size": 14, "color": "#3ddc84"}))
    for uid, fixes in tracks.items():
        if len(fixes) > 1:
            fig.add_trace(go.Scatter(x=[f[1] for f in fixes], y=[f[0] for f in fixes], mode="lines",
                                     line={"width": 1, "color": "rgba(56,200,255,0.45)"}, showlegend=False,
                                     hoverinfo="skip"))
    colors = {"on_post": "#3ddc84", "off_post": "#ff9f1a", "silent": "#ff4d4f", "no_position": "#ff4d4f"}
    fixed = [u for u in states if u.lat is not None]
    fig.add_trace(go.Scatter(x=[u.lon for u in fixed], y=[u.lat for u in fixed], mode="markers+text", name="单元",
                             text=[u.unit_id for u in fixed], textposition="top center",
                             textfont={"color": "#d6ecff", "size": 11},
                             marker={"size": 9, "color": [colors[u.state] for u in fixed]}))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="#04101f", showlegend=False, font={"color": "#7f9dbd"},
                      xaxis={"showgrid": False, "zeroline": False, "showticklabels": False},
                      yaxis={"showgrid": False, "zeroline": False, "showticklabels": False, "scaleanchor": "x"})
    return fig


def _units_table(states: list[data.UnitState]) -> html.Table:
    rows = [html.Tr([html.Th(h) for h in ("单元", "岗位", "状态", "距岗位", "定位时间")])]
    for u in states:
        rows.append(html.Tr([html.Td(f"{u.unit_id} {u.name}"), html.Td(u.post_name or "—"),
                             html.Td(STATE_ZH.get(u.state, u.state), className=f"state-{u.state}"),
                             html.Td(fmt_m(u.distance_m), className="num"),
                             html.Td(f"{fmt_secs(u.age_s)}前" if u.age_s is not None else "—", className="num")],
                            **{"data-unit-id": u.unit_id, "data-state": u.state}))
    return html.Table(rows, className="desk-table", id=P + "units-table")


def _spot_info(ctx: AppContext, unit_id: str | None, tick: int | None):
    if not unit_id:
        return html.P("随机抽取或选择一个巡逻单元", className="desk-muted")
    u = next((s for s in data.unit_states(ctx, current_user()) if s.unit_id == unit_id), None)
    if u is None:
        return html.P("该单元不在管辖范围", className="desk-msg error")
    lat, lon = (u.lat, u.lon) if u.lat is not None else (u.post_lat, u.post_lon)
    cam = data.nearest_camera(ctx, lat, lon) if lat is not None else None
    kv = [("岗位", u.post_name or "—"), ("状态", STATE_ZH.get(u.state, u.state)),
          ("位置", f"{u.lat:.5f}, {u.lon:.5f}" if u.lat is not None else "无定位"),
          ("距岗位", fmt_m(u.distance_m)), ("最近摄像机", f"{cam[0].name}（{fmt_m(cam[1])}）" if cam else "—")]
    return html.Div(id=P + "spot-body", **{"data-unit-id": u.unit_id}, children=[
        html.Dl([x for k, v in kv for x in (html.Dt(k), html.Dd(v))], className="desk-kv"),
        _picture(ctx, cam[0].id, tick) if cam else None,
    ])


def _picture(ctx: AppContext, camera_id: str, tick: int | None):
    """The camera's latest frame (no broken image when it has none yet)."""
    from onescreen import names

    if not ctx.redis.exists(names.camera_snapshot(camera_id)):
        return html.Div("该摄像机暂无画面", className="desk-nopic")
    return html.Img(src=f"/api/patrol/cameras/{camera_id}/snapshot.jpg?t={tick or 0}", className="desk-evidence-img",
                    alt="最近摄像机画面")


def _history(ctx: AppContext):
    user = current_user()
    rows = [html.Tr([html.Th(h) for h in ("时间", "单元", "在岗", "线路", "着装", "装备", "距岗位", "检查人", "备注")])]
    yes = lambda v: "✓" if v else "✗"
    checks = reports.spot_checks(ctx, user, 20)
    for r in checks:
        rows.append(html.Tr([html.Td(fmt_time(ctx, r.at, True)), html.Td(r.unit_id), html.Td(yes(r.on_post)),
                             html.Td(yes(r.on_route)), html.Td(yes(r.uniform)), html.Td(yes(r.equipment)),
                             html.Td(fmt_m(r.distance_m), className="num"), html.Td(r.checked_by),
                             html.Td(r.note or "")], **{"data-spot-check-id": str(r.id)}))
    stats = [html.Tr([html.Th(h) for h in ("单元", "抽查次数", "在岗率", "着装", "装备", "最近")])]
    for s in reports.spot_check_stats(ctx, user):
        n = s["checks"]
        stats.append(html.Tr([html.Td(s["unit_id"]), html.Td(n, className="num"),
                              html.Td(f"{100 * s['on_post'] / n:.0f}%", className="num"),
                              html.Td(f"{s['uniform']}/{n}", className="num"),
                              html.Td(f"{s['equipment']}/{n}", className="num"), html.Td(fmt_time(ctx, s["last"], True))]))
    return (html.Table(rows, className="desk-table", id=P + "history-table") if checks
            else html.P("暂无抽查记录", className="desk-muted")), html.Table(stats, className="desk-table")


def _report(ctx: AppContext, by: str, days: float) -> html.Table:
    rows = [html.Tr([html.Th(h) for h in ("单元/区域", "告警", "确认≤1分", "平均确认", "派警≤3分", "平均派警",
                                          "到场≤5分", "平均到场")])]
    for r in reports.response_report(ctx, current_user(), by, days):
        rows.append(html.Tr([html.Td(f"{r['key']} {r['name']}" if r["name"] != r["key"] else r["key"]),
                             html.Td(r["alerts"], className="num"),
                             html.Td(f"{r['ack_within_1min']}/{r['alerts']}", className="num"),
                             html.Td(fmt_secs(r["ack_avg_s"]), className="num"),
                             html.Td(f"{r['dispatch_within_3min']}/{r['alerts']}", className="num"),
                             html.Td(fmt_secs(r["dispatch_avg_s"]), className="num"),
                             html.Td(f"{r['on_scene_within_5min']}/{r['alerts']}", className="num"),
                             html.Td(fmt_secs(r["on_scene_avg_s"]), className="num")]))
    return html.Table(rows, className="desk-table", id=P + "report-table")


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "map", "figure"), Output(P + "units", "children"), Output(P + "unit", "options"),
                  Input(P + "tick", "n_intervals"))
    def live(_tick):
        states = data.unit_states(ctx, current_user())
        tracks = data.tracks(ctx, {u.unit_id for u in states})
        options = [{"label": f"{u.unit_id} {u.name}", "value": u.unit_id} for u in states]
        return _figure(states, tracks), _units_table(states), options

    @app.callback(Output(P + "unit", "value"), Input(P + "random", "n_clicks"), State(P + "unit", "options"),
                  prevent_initial_call=True)
    def pick(_n, options):
        return random.choice(options)["value"] if options else no_update

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
            return str(exc), "desk-msg error", no_update, no_update
        return f"抽查记录已保存（#{row}，{unit_id}）", "desk-msg ok", [], ""

    @app.callback(Output(P + "history", "children"), Output(P + "stats", "children"),
                  Input(P + "msg", "children"), Input(P + "tick", "n_intervals"))
    def history(_msg, _tick):
        return _history(ctx)

    @app.callback(Output(P + "report", "children"), Output(P + "csv", "href"),
                  Input(P + "by", "value"), Input(P + "days", "value"), Input(P + "tick", "n_intervals"))
    def report(by, days, _tick):
        return _report(ctx, by, float(days)), f"/api/patrol/report.csv?by={by}&days={days}"


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=40, layout=layout, register_callbacks=register_callbacks))
