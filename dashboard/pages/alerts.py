"""`/alerts` (告警处置): the operator desk. Queue with filters, an alert's evidence and history, every
lifecycle action with a note (``alerts.store.act`` via ``dashboard.desk.actions``), dispatch with the nearest
on-duty units suggested, silences with expiry. Operators, supervisors and admins (``dashboard.auth.access``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import store
from dashboard.auth.sessions import current_user
from dashboard.context import AppContext
from dashboard.desk import actions, data
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import (
    RULES_ZH,
    STATUS_ZH,
    fmt_m,
    fmt_secs,
    fmt_time,
    level_badge,
    point_map,
    status_badge,
    timeline,
)
from dashboard.pages.base import Page, register
from onescreen.db.models import Alert, AlertSnapshot

PATH = "/alerts"
TITLE_KEY = "nav.alerts"
P = "desk-alerts-"
ACTIONS = (("ack", "确认"), ("dispatch", "派警"), ("on_scene", "到场"), ("resolve", "处置完毕"), ("close", "归档"))
HOURS = [{"label": "1 小时", "value": 1}, {"label": "24 小时", "value": 24}, {"label": "7 天", "value": 168},
         {"label": "30 天", "value": 720}]


def _opts(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"label": v, "value": k} for k, v in mapping.items()]


def _areas(ctx: AppContext) -> list[dict[str, str]]:
    user = current_user()
    scope = data.visible_communities(ctx, user)
    reg = data.registry(ctx)
    out = []
    for d in reg.nodes_at("district"):
        communities = [c for c in reg.descendants(d, "community") if scope is None or c in scope]
        if scope is None:
            out.append({"label": reg.node(d).name, "value": d})
        out += [{"label": "　" + reg.node(c).name, "value": c} for c in communities]
    return out


def layout(ctx: AppContext):
    filters = html.Div(className="desk-filters", children=[
        html.Div([html.Label("级别"), dcc.Dropdown(id=P + "level", options=_opts(
            {"red": "红色", "orange": "橙色", "yellow": "黄色"}), multi=True, className="desk-select")]),
        html.Div([html.Label("规则"), dcc.Dropdown(id=P + "rule", options=_opts(RULES_ZH), multi=True,
                                                  className="desk-select")]),
        html.Div([html.Label("状态"), dcc.Dropdown(id=P + "status", options=_opts(STATUS_ZH), multi=True,
                                                  value=["open", "acknowledged", "dispatched", "on_scene",
                                                         "resolved"], className="desk-select")],
                 style={"minWidth": "260px"}),
        html.Div([html.Label("区域"), dcc.Dropdown(id=P + "area", options=_areas(ctx) if current_user() else [],
                                                  className="desk-select")], style={"minWidth": "180px"}),
        html.Div([html.Label("时间"), dcc.Dropdown(id=P + "hours", options=HOURS, value=24, clearable=False,
                                                  className="desk-select")]),
    ])
    queue = html.Section(className="desk-panel", children=[
        html.H2("告警队列"), filters, html.Div(id=P + "table"),
    ])
    detail = html.Section(className="desk-panel", children=[
        html.H2("告警详情"), html.Div(id=P + "detail", children=html.P("点击队列中的告警查看详情", className="desk-muted")),
        html.H3("处置"),
        html.Div(className="desk-field", children=[
            html.Label("派警单元（按距离推荐在岗单元）", htmlFor=P + "unit"),
            dcc.Dropdown(id=P + "unit", className="desk-select", placeholder="默认：责任单元"),
        ]),
        html.Div(className="desk-field", children=[
            html.Label("处置说明", htmlFor=P + "note"),
            dcc.Textarea(id=P + "note", className="desk-textarea", maxLength=2000),
        ]),
        html.Div(className="desk-row", children=[
            html.Button(label, id=P + "btn-" + name, className="desk-btn", n_clicks=0) for name, label in ACTIONS
        ]),
        html.Div(id=P + "msg", className="desk-msg"),
        html.H3("静默（值班领导）"),
        html.Div(className="desk-row", children=[
            dcc.Input(id=P + "silence-minutes", type="number", min=1, max=10080, value=60,
                      className="desk-input", style={"width": "90px"}),
            html.Span("分钟", className="desk-muted"),
            html.Button("静默此告警条件", id=P + "btn-silence", className="desk-btn secondary", n_clicks=0),
        ]),
    ])
    return desk_page(ctx, PATH, TITLE_KEY,
                     dcc.Store(id=P + "selected"), dcc.Interval(id=P + "tick", interval=3000),
                     html.Div(className="desk-grid", children=[queue, detail]), class_name="desk-wide")


def _query(ctx: AppContext, levels, rules, statuses, area, hours) -> list[Alert]:
    user = current_user()
    scope = data.visible_communities(ctx, user)
    reg = data.registry(ctx)
    q = select(Alert).where(Alert.alert_id.is_not(None)).order_by(Alert.opened_at.desc()).limit(200)
    if levels:
        q = q.where(Alert.level.in_(levels))
    if rules:
        q = q.where(Alert.rule.in_(rules))
    if statuses:
        q = q.where(Alert.status.in_(statuses))
    if hours:
        q = q.where(Alert.opened_at >= datetime.now(UTC) - timedelta(hours=float(hours)))
    if area:
        node = reg.node(area)
        if node is not None and node.level == "district":
            q = q.where(Alert.district_id == area)
        else:
            q = q.where(Alert.community_id == area)
    with Session(ctx.engine) as db:
        rows = db.execute(q).scalars().all()
        db.expunge_all()
    return [a for a in rows if scope is None or a.community_id in scope]


def _place(ctx: AppContext, a: Alert) -> str:
    reg = data.registry(ctx)
    names = [reg.node(n).name for n in (a.community_id, a.cell_id) if n and reg.node(n)]
    return " · ".join(names) or "—"


def _table(ctx: AppContext, alerts: list[Alert], selected: str | None) -> html.Table:
    head = html.Tr([html.Th(h) for h in ("编号", "级别", "规则", "对象", "位置", "状态", "发生", "单元")])
    rows = [head]
    for a in alerts:
        rows.append(html.Tr(
            id={"type": P + "row", "alert": a.alert_id}, n_clicks=0, **{"data-alert-id": a.alert_id},
            className="selectable selected" if a.alert_id == selected else "selectable",
            children=[html.Td(a.alert_id), html.Td(level_badge(a.level)), html.Td(RULES_ZH.get(a.rule, a.rule)),
                      html.Td(data.mask_text(a.subject_id)), html.Td(_place(ctx, a)),
                      html.Td([status_badge(a.status),
                               html.Span("已升级", className="tag-escalated") if a.escalated_at else None]),
                      html.Td(fmt_time(ctx, a.opened_at, True)), html.Td(a.assignee or "—")]))
    if len(rows) == 1:
        rows.append(html.Tr(html.Td("没有符合条件的告警", colSpan=8, className="desk-muted")))
    return html.Table(rows, className="desk-table", id=P + "queue")


def _evidence(ctx: AppContext, a: Alert, has_snapshot: bool) -> list[Any]:
    ev = a.evidence or {}
    out: list[Any] = []
    if has_snapshot:
        out.append(html.Img(src=f"/api/alerts/{a.alert_id}/snapshot.jpg", className="desk-evidence-img",
                            alt="触发时画面"))
    facts = []
    for key, label in (("persons", "人数"), ("max_persons", "峰值人数"), ("dwell_s", "停留(秒)"),
                       ("distance_m", "离岗距离(m)"), ("distinct", "人数"), ("since", "起始")):
        if key in ev and not isinstance(ev[key], (dict, list)):
            facts += [html.Dt(label), html.Dd(str(ev[key]))]
    if ev.get("escalated") or a.escalated_at:
        facts += [html.Dt("升级"), html.Dd(f"已升级至值班领导 {fmt_time(ctx, a.escalated_at)}")]
    if facts:
        out.append(html.Dl(facts, className="desk-kv"))
    events = ev.get("door_events") or ev.get("events") or []
    if isinstance(events, list) and events:
        rows = [html.Tr([html.Th(h) for h in ("时间", "门禁", "人员", "方向", "结果")])]
        for e in events[-10:]:
            if isinstance(e, dict):
                ts = e.get("ts")
                when = (fmt_time(ctx, datetime.fromtimestamp(ts / 1000, UTC)) if isinstance(ts, (int, float))
                        else str(ts or "—"))
                rows.append(html.Tr([html.Td(when), html.Td(e.get("door_id", "—")),
                                     html.Td(data.mask_person(e.get("person_id"))), html.Td(e.get("direction", "")),
                                     html.Td(e.get("result", ""))]))
        out += [html.H3("门禁记录"), html.Table(rows, className="desk-table")]
    return out


def _detail(ctx: AppContext, alert_id: str | None):
    if not alert_id:
        return html.P("点击队列中的告警查看详情", className="desk-muted")
    user = current_user()
    with Session(ctx.engine) as db:
        a = store.get(db, alert_id)
        if a is None or not data.in_scope(ctx, user, a.community_id):
            return html.P("告警不存在或不在管辖范围", className="desk-msg error")
        history = store.history(db, a, ctx.settings.city.timezone)
        has_snapshot = db.get(AlertSnapshot, a.id) is not None
        doc = store.to_contract(a, ctx.settings.city.timezone)
        near = data.nearest_units(ctx, a.lat, a.lon, user, n=3)
        clocks = doc["clocks"]
        kv = [("编号", a.alert_id), ("规则", RULES_ZH.get(a.rule, a.rule)), ("级别", level_badge(a.level)),
              ("状态", status_badge(a.status)), ("位置", _place(ctx, a)), ("对象", data.mask_text(a.subject_id)),
              ("发生", fmt_time(ctx, a.opened_at, True)), ("责任单元", a.route_unit or "—"),
              ("派警单元", a.assignee or "—"),
              ("1-3-5", f"确认 {fmt_secs(clocks['ack_s'])} · 派警 {fmt_secs(clocks['dispatch_s'])} · "
                        f"到场 {fmt_secs(clocks['on_scene_s'])}")]
        pts = [(a.lat, a.lon, "alert", a.alert_id)] + [(u.lat, u.lon, "unit", f"{u.unit_id} {fmt_m(d)}")
                                                        for u, d in near]
        return html.Div(id=P + "detail-body", **{"data-alert-id": a.alert_id, "data-status": a.status}, children=[
            html.Dl([x for k, v in kv for x in (html.Dt(k), html.Dd(v))], className="desk-kv"),
            html.H3("证据"), *(_evidence(ctx, a, has_snapshot) or [html.P("无", className="desk-muted")]),
            html.H3("位置"), point_map(pts),
            html.H3("处置记录（审计）"), timeline(ctx, history),
        ])


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "table", "children"),
                  Input(P + "tick", "n_intervals"), Input(P + "level", "value"), Input(P + "rule", "value"),
                  Input(P + "status", "value"), Input(P + "area", "value"), Input(P + "hours", "value"),
                  Input(P + "msg", "children"), State(P + "selected", "data"))
    def refresh(_tick, levels, rules, statuses, area, hours, _msg, selected):
        """The queue, newest first (at most 200), cut to the user's scope."""
        return _table(ctx, _query(ctx, levels, rules, statuses, area, hours), selected)

    @app.callback(Output(P + "selected", "data"), Input({"type": P + "row", "alert": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def select(clicks):
        trig = callback_context.triggered_id
        if not trig or not any(c for c in clicks if c):
            return no_update
        value = callback_context.triggered[0].get("value") if callback_context.triggered else None
        return trig["alert"] if value else no_update

    @app.callback(Output(P + "detail", "children"), Output(P + "unit", "options"),
                  Input(P + "selected", "data"), Input(P + "msg", "children"), Input(P + "tick", "n_intervals"))
    def detail(alert_id, _msg, _tick):
        trig = callback_context.triggered_id
        body = _detail(ctx, alert_id)
        if trig == P + "tick" and not alert_id:
            return no_update, no_update
        options: Any = no_update
        if trig != P + "tick" and alert_id:
            with Session(ctx.engine) as db:
                a = store.get(db, alert_id)
                lat, lon = (a.lat, a.lon) if a else (None, None)
            options = [{"label": f"{u.unit_id} {u.name} · {fmt_m(d)}", "value": u.unit_id}
                       for u, d in data.nearest_units(ctx, lat, lon, current_user(), n=5)]
        return body, options

    @app.callback(Output(P + "msg", "children"), Output(P + "msg", "className"), Output(P + "note", "value"),
                  *[Input(P + "btn-" + name, "n_clicks") for name, _ in ACTIONS],
                  Input(P + "btn-silence", "n_clicks"),
                  State(P + "selected", "data"), State(P + "note", "value"), State(P + "unit", "value"),
                  State(P + "silence-minutes", "value"), prevent_initial_call=True)
    def act(*args):
        alert_id, note, unit, minutes = args[-4:]
        trig = callback_context.triggered_id
        if not trig:
            return no_update, no_update, no_update
        user = current_user()
        if not alert_id:
            return "请先在队列中选择一条告警", "desk-msg error", no_update
        action = trig[len(P + "btn-"):]
        try:
            if action == "silence":
                until = actions.silence(ctx, user, alert_id, minutes, note)
                return f"已静默至 {fmt_time(ctx, until, True)}", "desk-msg ok", ""
            doc = actions.perform(ctx, user, alert_id, action, note, unit if action == "dispatch" else None)
        except actions.DeskError as exc:
            return str(exc), "desk-msg error", no_update
        return f"{alert_id}：{STATUS_ZH.get(doc['status'], doc['status'])}", "desk-msg ok", ""


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=20, layout=layout, register_callbacks=register_callbacks))
