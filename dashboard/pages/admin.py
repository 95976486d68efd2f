"""`/admin` (系统管理): users (list, add, deactivate / reactivate, reset a password), camera health (online, fps, reconnects), rejected
messages with their reasons (``names.REJECTED``), events the alert engine dead-lettered
(``names.dead_letters``), the registry browser and the audit log. Admins only. A ``grid`` account is created bound
to its grid worker, a ``department`` account to its department (searchable pickers shown for those roles).
Camera credentials are never rendered: the registry rows shown are the credential-free RTSP URLs.
"""

from __future__ import annotations

from datetime import datetime

from dash import Input, Output, State, callback_context, dcc, html, no_update
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.auth import audit
from dashboard.auth.sessions import current_user
from dashboard.context import AppContext
from dashboard.desk import data
from dashboard.desk.actions import USER_ACTIONS, DeskError, manage_user, remote_addr
from dashboard.desk.layout import desk_page
from dashboard.desk.rejections import camera_state, detail_text, reason_text
from dashboard.desk.widgets import dropdown, fmt_time
from dashboard.pages.base import Page, register
from onescreen import names
from onescreen.accounts import add_user
from onescreen.db.models import ROLES, AuditLog, Department, GridWorker, User
from onescreen.events import StreamRecord

PATH = "/admin"
TITLE_KEY = "nav.admin"
P = "desk-admin-"
LEVELS = ("district", "community", "cell", "camera", "unit")  # registry browser (text key desk.admin.level.<l>)


def layout(ctx: AppContext):
    t = ctx.t
    scopes, units = _scope_options(ctx), _unit_options(ctx)

    def placement(form: str) -> list[html.Div]:
        """The scope and patrol-unit pickers of a form (``new`` or ``manage``)."""
        return [html.Div([html.Label(t("desk.admin.scope_id")),
                          dropdown(ctx, id=f"{P}{form}-scope", className="desk-select", options=scopes,
                                   placeholder=t("desk.admin.whole_city"))], style={"minWidth": "240px"}),
                html.Div([html.Label(t("desk.admin.unit_id")),
                          dropdown(ctx, id=f"{P}{form}-unit", className="desk-select", options=units)],
                         style={"minWidth": "200px"})]
    users = html.Section(className="desk-panel", children=[
        html.H2(t("desk.admin.users")), html.Div(id=P + "users"),
        html.H3(t("desk.admin.add_user")),
        html.Div(className="desk-filters", children=[
            html.Div([html.Label(t("desk.admin.username")), dcc.Input(id=P + "new-name", className="desk-input",
                                                                      maxLength=64)]),
            html.Div([html.Label(t("desk.admin.password")), dcc.Input(id=P + "new-pw", type="password",
                                                                      className="desk-input", maxLength=1024)]),
            html.Div([html.Label(t("desk.admin.role")), dropdown(ctx, id=P + "new-role", className="desk-select",
                                                                     options=[{"label": t(f"role.{r}"), "value": r}
                                                                              for r in ROLES])]),
            *placement("new"),
            html.Div([html.Label(t("desk.admin.worker_id")),
                      dropdown(ctx, id=P + "new-worker", className="desk-select", options=_worker_options(ctx))],
                     id=P + "new-worker-box", style={"minWidth": "240px", "display": "none"}),
            html.Div([html.Label(t("desk.admin.department_id")),
                      dropdown(ctx, id=P + "new-department", className="desk-select",
                               options=_department_options(ctx))],
                     id=P + "new-department-box", style={"minWidth": "200px", "display": "none"}),
            html.Button(t("desk.admin.add"), id=P + "add", className="desk-btn", n_clicks=0),
        ]),
        html.Div(id=P + "msg", className="desk-msg"),
        html.H3(t("desk.admin.manage")),
        html.Div(className="desk-filters", children=[
            html.Div([html.Label(t("desk.admin.pick_user")),
                      dropdown(ctx, id=P + "manage-user", className="desk-select")], style={"minWidth": "200px"}),
            html.Div([html.Label(t("desk.admin.new_password")),
                      dcc.Input(id=P + "manage-pw", type="password", className="desk-input", maxLength=1024)]),
            *placement("manage"),
            *[html.Button(t(f"desk.admin.btn.{a}"), id=P + "btn-" + a, className="desk-btn secondary", n_clicks=0)
              for a in USER_ACTIONS],
        ]),
        html.Div(id=P + "manage-msg", className="desk-msg"),
    ])
    cams = html.Section(className="desk-panel", children=[html.H2(t("desk.admin.cameras")),
                                                           html.Div(id=P + "cameras")])
    rejected = html.Section(className="desk-panel", children=[html.H2(t("desk.admin.rejected")),
                                                               html.Div(id=P + "rejected")])
    dead = html.Section(className="desk-panel", children=[html.H2(t("desk.admin.dead")), html.Div(id=P + "dead")])
    registry = html.Section(className="desk-panel", children=[
        html.H2(t("desk.admin.registry")),
        dropdown(ctx, id=P + "level", options=[{"label": t(f"desk.admin.level.{lv}"), "value": lv} for lv in LEVELS],
                     value="community", clearable=False, className="desk-select",
                     style={"maxWidth": "220px", "marginBottom": "8px"}),
        html.Div(id=P + "registry"),
    ])
    log = html.Section(className="desk-panel", children=[html.H2(t("desk.admin.audit")), html.Div(id=P + "audit")])
    return desk_page(ctx, PATH, TITLE_KEY, dcc.Interval(id=P + "tick", interval=5000),
                     html.Div(className="desk-grid", children=[html.Div([users, registry, log]),
                                                                html.Div([cams, rejected, dead])]),
                     class_name="desk-wide")


def _table(ctx: AppContext, head: tuple[str, ...], rows: list[list], table_id: str | None = None) -> html.Table:
    """A plain table under a row of headers (``head``: their text keys)."""
    kw = {"id": table_id} if table_id else {}
    header = html.Tr([html.Th(ctx.t(k)) for k in head])
    return html.Table([header] + [html.Tr([html.Td(c) for c in r]) for r in rows], className="desk-table", **kw)


def _node_label(ctx: AppContext, node_id: str) -> str:
    """"南门社区 · 第3网格 (G-0102-03)": a node's name under its community, then its id (ids are what the CLI takes)."""
    reg = data.registry(ctx)
    node = reg.node(node_id)
    if node is None:
        return node_id  # removed from the registry since: the id is all there is
    community = reg.community_of(node_id) if node.level == "cell" else None
    parent = reg.node(community) if community else None
    return f"{parent.name + ' · ' if parent else ''}{node.name} ({node_id})"


def _scope_options(ctx: AppContext) -> list[dict[str, str]]:
    """Districts, then communities, then cells, each searchable by name or id (a search box, not a long scroll);
    none while the database is down (the page still opens; its tables say what failed)."""
    try:
        reg = data.registry(ctx)
    except SQLAlchemyError:
        return []
    return [{"label": f"{ctx.t(f'desk.admin.level.{level}')} · {_node_label(ctx, nid)}", "value": nid}
            for level in ("district", "community", "cell") for nid in sorted(reg.nodes_at(level))]


def _unit_options(ctx: AppContext) -> list[dict[str, str]]:
    try:
        reg = data.registry(ctx)
    except SQLAlchemyError:
        return []
    return [{"label": f"{reg.unit(uid).name} ({uid})", "value": uid} for uid in sorted(reg.unit_ids())]


def _worker_options(ctx: AppContext) -> list[dict[str, str]]:
    """The grid workers of the registry (``grid_worker``), searchable by name, id or cell; none while the
    database is down."""
    try:
        with Session(ctx.engine) as db:
            rows = db.execute(select(GridWorker.id, GridWorker.name, GridWorker.cells).order_by(GridWorker.id)).all()
    except SQLAlchemyError:
        return []
    return [{"label": f"{name} ({wid}) · {', '.join(cells or [])}", "value": wid} for wid, name, cells in rows]


def _department_options(ctx: AppContext) -> list[dict[str, str]]:
    try:
        with Session(ctx.engine) as db:
            rows = db.execute(select(Department.id, Department.name).order_by(Department.id)).all()
    except SQLAlchemyError:
        return []
    return [{"label": f"{name} ({did})", "value": did} for did, name in rows]


def _users(ctx: AppContext) -> tuple[html.Table, list[dict[str, str]]]:
    """The users table and the account picker's options."""
    t = ctx.t
    with Session(ctx.engine) as db:
        users = list(db.execute(select(User).order_by(User.username)).scalars())
        rows = [[u.username, t(f"role.{u.role}"), _node_label(ctx, u.scope_node_id) if u.scope_node_id else t("desk.admin.whole_city"), u.unit_id or "—",
                 u.worker_id or u.department_id or "—", t("desk.admin.active") if u.active else t("desk.admin.inactive"), fmt_time(ctx, u.created_at, True)]
                for u in users]
        options = [{"label": f"{u.username} · {t(f'role.{u.role}')}"
                    + ("" if u.active else f" · {t('desk.admin.inactive')}"), "value": u.username} for u in users]
    table = _table(ctx, ("desk.admin.username", "desk.admin.role", "desk.admin.col.scope", "desk.col.unit",
                         "desk.admin.col.binding", "desk.col.status", "desk.admin.col.created"), rows, P + "users-table")
    return table, options


def _cameras(ctx: AppContext) -> html.Table:
    rows = []
    for cam in data.registry(ctx).cameras(streamed_only=True):
        h = data.camera_health(ctx, cam.id)
        state = h.get("state") or ("online" if h.get("online") in ("1", "true", "True") else None)
        state = camera_state(ctx, state) if state else "—"
        fps = h.get("fps") or h.get("measured_fps") or "—"
        rows.append([cam.id, cam.name, state, fps, h.get("reconnects", "—"),
                     cam.rtsp_url or "—"])  # the credential-free URL (CameraInfo keeps credentials apart)
    return _table(ctx, ("desk.col.id", "desk.col.name", "desk.col.status", "desk.admin.col.fps",
                        "desk.admin.col.reconnects", "desk.admin.col.url"), rows, P + "cameras-table")


def _rejected(ctx: AppContext):
    counts = ctx.redis.hgetall(names.REJECTED_COUNTS)
    recent = ctx.redis.xrevrange(names.REJECTED, count=50)
    rows = []
    for _, f in recent:
        rx = f.get("rx")
        when = fmt_time(ctx, datetime.fromtimestamp(int(rx) / 1000, ctx.tz), True) if rx else "—"
        rows.append([when, f.get("topic", ""), f.get("reason", ""),
                     data.mask_text(detail_text(ctx, f.get("reason"), f.get("detail"))),
                     data.mask_text((f.get("payload") or "")[:120])])
    return [html.P("  ".join(f"{reason_text(ctx, k)}: {v}" for k, v in sorted(counts.items())) or ctx.t("desk.none"),
                   className="desk-muted"),
            _table(ctx, ("desk.admin.col.received", "desk.admin.col.topic", "desk.admin.col.reason",
                         "desk.admin.col.detail", "desk.admin.col.payload"), rows, P + "rejected-table")]


def _dead_letters(ctx: AppContext):
    counts, recent = data.dead_letters(ctx)
    rows = []
    for f in recent:
        at = f.get("at")
        when = fmt_time(ctx, datetime.fromtimestamp(int(at) / 1000, ctx.tz), True) if at else "—"
        rows.append([when, f.get("stream", ""), f.get("id", ""),
                     data.mask_text(f"{f.get('error', '')}: {f.get('message', '')}"), f.get("where", ""),
                     f.get("attempts", ""), data.mask_text((f.get(StreamRecord.FIELD) or "")[:120])])
    return [html.P("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or ctx.t("desk.none"),
                   className="desk-muted"),
            _table(ctx, ("desk.admin.col.dead_at", "desk.admin.col.stream", "desk.admin.col.entry",
                         "desk.admin.col.error", "desk.admin.col.where", "desk.admin.col.attempts",
                         "desk.admin.col.payload"), rows, P + "dead-table")]


def _registry(ctx: AppContext, level: str) -> html.Table:
    reg = data.registry(ctx)
    if level == "camera":
        yes, no = ctx.t("desk.admin.yes"), ctx.t("desk.admin.no")
        rows = [[c.id, c.name, c.cell_id, yes if c.streamed else no, c.rtsp_url or "—"] for c in reg.cameras()]
        return _table(ctx, ("desk.col.id", "desk.col.name", "desk.admin.col.cell", "desk.admin.col.streamed",
                            "desk.admin.col.url"), rows[:500])
    if level == "unit":
        rows = []
        for uid in reg.unit_ids():
            u, post = reg.unit(uid), reg.post_of_unit(uid)
            rows.append([uid, u.name, post.name if post else "—", f"{post.shift_start}-{post.shift_end}" if post else "—"])
        return _table(ctx, ("desk.col.id", "desk.col.name", "desk.col.post", "desk.admin.col.shift"), rows[:500])
    rows = []
    for nid in reg.nodes_at(level)[:500]:
        n = reg.node(nid)
        parent = reg.node(n.parent_id) if n.parent_id else None
        rows.append([nid, n.name, parent.name if parent else "—", len(reg.children(nid)), n.households or "—"])
    return _table(ctx, ("desk.col.id", "desk.col.name", "desk.admin.col.parent", "desk.admin.col.children",
                        "desk.admin.col.households"), rows)


def _audit(ctx: AppContext) -> html.Table:
    with Session(ctx.engine) as db:
        rows = [[fmt_time(ctx, r.at, True), r.actor, r.action, r.target or "", r.remote_addr or ""]
                for r in db.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(50)).scalars()]
    return _table(ctx, ("desk.col.time", "desk.admin.col.user", "desk.admin.col.action", "desk.admin.col.target",
                        "desk.admin.col.remote"), rows, P + "audit-table")


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "users", "children"), Output(P + "manage-user", "options"),
                  Output(P + "cameras", "children"), Output(P + "rejected", "children"),
                  Output(P + "audit", "children"),
                  Input(P + "tick", "n_intervals"), Input(P + "msg", "children"), Input(P + "manage-msg", "children"))
    def refresh(_tick, _msg, _manage_msg):
        return *_users(ctx), _cameras(ctx), _rejected(ctx), _audit(ctx)

    @app.callback(Output(P + "manage-msg", "children"), Output(P + "manage-msg", "className"),
                  Output(P + "manage-pw", "value"),
                  *[Input(P + "btn-" + a, "n_clicks") for a in USER_ACTIONS],
                  State(P + "manage-user", "value"), State(P + "manage-pw", "value"),
                  State(P + "manage-scope", "value"), State(P + "manage-unit", "value"), prevent_initial_call=True)
    def manage(*args):
        username, password, scope, unit = args[-4:]
        action = str(callback_context.triggered_id).removeprefix(P + "btn-")
        try:
            name = manage_user(ctx, current_user(), username, action, password, scope=scope, unit=unit)
        except DeskError as exc:
            return exc.text(ctx), "desk-msg error", no_update
        return ctx.t(f"desk.admin.done.{action}", name=name), "desk-msg ok", ""

    @app.callback(Output(P + "manage-scope", "value"), Output(P + "manage-unit", "value"),
                  Input(P + "manage-user", "value"), prevent_initial_call=True)
    def picked(username):
        """Show the picked account's scope and unit, to change from."""
        with Session(ctx.engine) as db:
            user = db.execute(select(User).where(User.username == username)).scalar() if username else None
            return (user.scope_node_id, user.unit_id) if user else (None, None)

    @app.callback(Output(P + "dead", "children"), Input(P + "tick", "n_intervals"))
    def dead_letters(_tick):
        return _dead_letters(ctx)

    @app.callback(Output(P + "registry", "children"), Input(P + "level", "value"))
    def registry(level):
        return _registry(ctx, level)

    @app.callback(Output(P + "new-worker-box", "style"), Output(P + "new-department-box", "style"),
                  Input(P + "new-role", "value"))
    def binding(role):
        """The worker picker for a grid account, the department picker for a department account."""
        return ({"minWidth": "240px", "display": "block" if role == "grid" else "none"},
                {"minWidth": "200px", "display": "block" if role == "department" else "none"})

    @app.callback(Output(P + "msg", "children"), Output(P + "msg", "className"), Output(P + "new-pw", "value"),
                  Input(P + "add", "n_clicks"), State(P + "new-name", "value"), State(P + "new-pw", "value"),
                  State(P + "new-role", "value"), State(P + "new-scope", "value"), State(P + "new-unit", "value"),
                  State(P + "new-worker", "value"), State(P + "new-department", "value"),
                  prevent_initial_call=True)
    def add(_n, name, password, role, scope, unit, worker, department):
        user = current_user()
        if not role:
            return ctx.t("desk.admin.pick_role"), "desk-msg error", no_update
        # a picker hidden for this role keeps no stale value: only the role's own binding is passed on
        worker = (worker or None) if role == "grid" else None
        department = (department or None) if role == "department" else None
        if role == "grid" and worker is None:
            return ctx.t("desk.admin.pick_worker"), "desk-msg error", no_update
        if role == "department" and department is None:
            return ctx.t("desk.admin.pick_department"), "desk-msg error", no_update
        try:
            with Session(ctx.engine) as db:
                new = add_user(db, name or "", password or "", role, scope_node_id=scope or None,
                               unit_id=unit or None, worker_id=worker, department_id=department)
                audit.record(db, user.username, "user_add", user_id=user.id, role=user.role, target=new.username,
                             detail={"role": role, "scope": new.scope_node_id, "unit": new.unit_id,
                                     "worker": new.worker_id, "department": new.department_id},
                             remote_addr=remote_addr())
                db.commit()
                created = new.username  # read before the session closes: the committed row is expired
        except ValueError as exc:
            return ctx.t("desk.admin.not_saved", reason=exc), "desk-msg error", no_update
        return ctx.t("desk.admin.created", name=created), "desk-msg ok", ""


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=50, layout=layout, register_callbacks=register_callbacks))
