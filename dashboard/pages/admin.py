"""`/admin` (系统管理): users (list, add, deactivate), camera health (online, fps, reconnects), rejected
messages with their reasons (``names.REJECTED``), events the alert engine dead-lettered
(``names.dead_letters``), the registry browser and the audit log. Admins only.
Camera credentials are never rendered: the registry rows shown are the credential-free RTSP URLs.
"""

from __future__ import annotations

from datetime import datetime

from dash import Input, Output, State, dcc, html, no_update
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import audit
from dashboard.auth.sessions import current_user
from dashboard.context import AppContext
from dashboard.desk import data
from dashboard.desk.actions import remote_addr
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import fmt_time
from dashboard.pages.base import Page, register
from onescreen import names
from onescreen.accounts import add_user
from onescreen.db.models import ROLES, AuditLog, User

PATH = "/admin"
TITLE_KEY = "nav.admin"
P = "desk-admin-"
LEVELS = [{"label": "街道/乡镇", "value": "district"}, {"label": "社区/村居", "value": "community"},
          {"label": "网格", "value": "cell"}, {"label": "摄像机", "value": "camera"}, {"label": "巡逻单元", "value": "unit"}]


def layout(ctx: AppContext):
    users = html.Section(className="desk-panel", children=[
        html.H2("用户"), html.Div(id=P + "users"),
        html.H3("新增用户"),
        html.Div(className="desk-filters", children=[
            html.Div([html.Label("用户名"), dcc.Input(id=P + "new-name", className="desk-input", maxLength=64)]),
            html.Div([html.Label("初始密码（≥8 位）"), dcc.Input(id=P + "new-pw", type="password",
                                                            className="desk-input", maxLength=1024)]),
            html.Div([html.Label("角色"), dcc.Dropdown(id=P + "new-role", className="desk-select",
                                                      options=[{"label": ctx.t(f"role.{r}"), "value": r}
                                                               for r in ROLES])]),
            html.Div([html.Label("管辖节点 ID（空=全市）"), dcc.Input(id=P + "new-scope", className="desk-input")]),
            html.Div([html.Label("巡逻单元 ID（执勤）"), dcc.Input(id=P + "new-unit", className="desk-input")]),
            html.Button("新增", id=P + "add", className="desk-btn", n_clicks=0),
        ]),
        html.Div(id=P + "msg", className="desk-msg"),
    ])
    cams = html.Section(className="desk-panel", children=[html.H2("摄像机状态"), html.Div(id=P + "cameras")])
    rejected = html.Section(className="desk-panel", children=[html.H2("拒收消息"), html.Div(id=P + "rejected")])
    dead = html.Section(className="desk-panel", children=[html.H2("死信事件（告警引擎无法处理）"),
                                                          html.Div(id=P + "dead")])
    registry = html.Section(className="desk-panel", children=[
        html.H2("城市登记信息"),
        dcc.Dropdown(id=P + "level", options=LEVELS, value="community", clearable=False, className="desk-select",
                     style={"maxWidth": "220px", "marginBottom": "8px"}),
        html.Div(id=P + "registry"),
    ])
    log = html.Section(className="desk-panel", children=[html.H2("操作审计"), html.Div(id=P + "audit")])
    return desk_page(ctx, PATH, TITLE_KEY, dcc.Interval(id=P + "tick", interval=5000),
                     html.Div(className="desk-grid", children=[html.Div([users, registry, log]),
                                                                html.Div([cams, rejected, dead])]),
                     class_name="desk-wide")


def _table(head: list[str], rows: list[list], table_id: str | None = None) -> html.Table:
    kw = {"id": table_id} if table_id else {}
    return html.Table([html.Tr([html.Th(h) for h in head])] + [html.Tr([html.Td(c) for c in r]) for r in rows],
                      className="desk-table", **kw)


def _users(ctx: AppContext) -> html.Table:
    with Session(ctx.engine) as db:
        rows = [[u.username, ctx.t(f"role.{u.role}"), u.scope_node_id or "全市", u.unit_id or "—",
                 "启用" if u.active else "停用", fmt_time(ctx, u.created_at, True)]
                for u in db.execute(select(User).order_by(User.username)).scalars()]
    return _table(["用户名", "角色", "管辖", "单元", "状态", "创建"], rows, P + "users-table")


def _cameras(ctx: AppContext) -> html.Table:
    rows = []
    for cam in data.registry(ctx).cameras(streamed_only=True):
        h = data.camera_health(ctx, cam.id)
        state = h.get("state") or ("online" if h.get("online") in ("1", "true", "True") else None) or "—"
        fps = h.get("fps") or h.get("measured_fps") or "—"
        rows.append([cam.id, cam.name, state, fps, h.get("reconnects", "—"),
                     cam.rtsp_url or "—"])  # the credential-free URL (CameraInfo keeps credentials apart)
    return _table(["编号", "名称", "状态", "帧率", "重连次数", "地址"], rows, P + "cameras-table")


def _rejected(ctx: AppContext):
    counts = ctx.redis.hgetall(names.REJECTED_COUNTS)
    recent = ctx.redis.xrevrange(names.REJECTED, count=50)
    rows = []
    for _, f in recent:
        rx = f.get("rx")
        when = fmt_time(ctx, datetime.fromtimestamp(int(rx) / 1000, ctx.tz), True) if rx else "—"
        rows.append([when, f.get("topic", ""), f.get("reason", ""), data.mask_text(f.get("detail", "")),
                     data.mask_text((f.get("payload") or "")[:120])])
    return [html.P("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "无", className="desk-muted"),
            _table(["接收时间", "主题", "原因", "说明", "内容（截断）"], rows, P + "rejected-table")]


def _dead_letters(ctx: AppContext):
    counts, recent = data.dead_letters(ctx)
    rows = []
    for f in recent:
        at = f.get("at")
        when = fmt_time(ctx, datetime.fromtimestamp(int(at) / 1000, ctx.tz), True) if at else "—"
        rows.append([when, f.get("stream", ""), f.get("id", ""),
                     data.mask_text(f"{f.get('error', '')}: {f.get('message', '')}"), f.get("where", ""),
                     f.get("attempts", ""), data.mask_text((f.get("d") or "")[:120])])
    return [html.P("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "无", className="desk-muted"),
            _table(["处理时间", "来源流", "条目 ID", "错误", "出错位置", "尝试次数", "内容（截断）"], rows,
                   P + "dead-table")]


def _registry(ctx: AppContext, level: str) -> html.Table:
    reg = data.registry(ctx)
    if level == "camera":
        rows = [[c.id, c.name, c.cell_id, "是" if c.streamed else "否", c.rtsp_url or "—"] for c in reg.cameras()]
        return _table(["编号", "名称", "网格", "视频接入", "地址"], rows[:500])
    if level == "unit":
        rows = []
        for uid in reg.unit_ids():
            u, post = reg.unit(uid), reg.post_of_unit(uid)
            rows.append([uid, u.name, post.name if post else "—", f"{post.shift_start}-{post.shift_end}" if post else "—"])
        return _table(["编号", "名称", "岗位", "班次"], rows[:500])
    rows = []
    for nid in reg.nodes_at(level)[:500]:
        n = reg.node(nid)
        parent = reg.node(n.parent_id) if n.parent_id else None
        rows.append([nid, n.name, parent.name if parent else "—", len(reg.children(nid)), n.households or "—"])
    return _table(["编号", "名称", "上级", "下级数", "户数"], rows)


def _audit(ctx: AppContext) -> html.Table:
    with Session(ctx.engine) as db:
        rows = [[fmt_time(ctx, r.at, True), r.actor, r.action, r.target or "", r.remote_addr or ""]
                for r in db.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(50)).scalars()]
    return _table(["时间", "用户", "操作", "对象", "来源地址"], rows, P + "audit-table")


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "users", "children"), Output(P + "cameras", "children"),
                  Output(P + "rejected", "children"), Output(P + "audit", "children"),
                  Input(P + "tick", "n_intervals"), Input(P + "msg", "children"))
    def refresh(_tick, _msg):
        return _users(ctx), _cameras(ctx), _rejected(ctx), _audit(ctx)

    @app.callback(Output(P + "dead", "children"), Input(P + "tick", "n_intervals"))
    def dead_letters(_tick):
        return _dead_letters(ctx)

    @app.callback(Output(P + "registry", "children"), Input(P + "level", "value"))
    def registry(level):
        return _registry(ctx, level)

    @app.callback(Output(P + "msg", "children"), Output(P + "msg", "className"), Output(P + "new-pw", "value"),
                  Input(P + "add", "n_clicks"), State(P + "new-name", "value"), State(P + "new-pw", "value"),
                  State(P + "new-role", "value"), State(P + "new-scope", "value"), State(P + "new-unit", "value"),
                  prevent_initial_call=True)
    def add(_n, name, password, role, scope, unit):
        user = current_user()
        if not role:
            return "请选择角色", "desk-msg error", no_update
        try:
            with Session(ctx.engine) as db:
                new = add_user(db, name or "", password or "", role, scope_node_id=(scope or "").strip() or None,
                               unit_id=(unit or "").strip() or None)
                audit.record(db, user.username, "user_add", user_id=user.id, role=user.role, target=new.username,
                             detail={"role": role, "scope": new.scope_node_id, "unit": new.unit_id},
                             remote_addr=remote_addr())
                db.commit()
                created = new.username  # read before the session closes: the committed row is expired
        except ValueError as exc:
            return f"未保存：{exc}", "desk-msg error", no_update
        return f"用户 {created} 已创建", "desk-msg ok", ""


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=50, layout=layout, register_callbacks=register_callbacks))
