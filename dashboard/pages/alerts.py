"""`/alerts` (告警处置): the operator desk. Queue with filters (``alerts.queries``, cut to the user's scope;
silenced alerts marked 静默中), an alert's evidence and history, every lifecycle action with a note and
silences with a reason (the command layer ``alerts.commands``/``alerts.silences`` via
``dashboard.desk.actions``), dispatch with the nearest on-duty units suggested, the current silences listed
and lifted early. Operators, supervisors and admins (``dashboard.auth.access``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from sqlalchemy.orm import Session

from alerts import queries, silences, store
from alerts.lifecycle import STATUSES
from alerts.rules import RULES
from dashboard.auth.sessions import current_user
from dashboard.commands import actor, error_text
from dashboard.context import AppContext
from dashboard.desk import actions, data, evidence
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import (
    dropdown,
    fmt_m,
    fmt_secs,
    fmt_time,
    level_badge,
    name_of,
    point_map,
    status_badge,
    status_name,
    timeline,
)
from dashboard.pages.base import Page, register
from dashboard.readers import changes
from onescreen.commands import CommandError
from onescreen.db.models import Alert, AlertSnapshot

PATH = "/alerts"
TITLE_KEY = "nav.alerts"
P = "desk-alerts-"
ACTIONS = ("ack", "dispatch", "on_scene", "resolve", "close")  # a button each (text key desk.btn.<action>)
HOURS = (("1h", 1), ("24h", 24), ("7d", 168), ("30d", 720))  # text key desk.period.<name>, hours
LEVELS = ("red", "orange", "yellow")  # green means handled: no filter for it
INDENT = "\u3000"  # an ideographic space sets a community under its district in the area list (any language)


def _opts(ctx: AppContext, family: str, codes: Iterable[str]) -> list[dict[str, str]]:
    return [{"label": ctx.t(f"{family}.{c}"), "value": c} for c in codes]


def _areas(ctx: AppContext) -> list[dict[str, str]]:
    user = current_user()
    scope = data.visible_communities(ctx, user)
    reg = data.registry(ctx)
    out = []
    for d in reg.nodes_at("district"):
        communities = [c for c in reg.descendants(d, "community") if scope is None or c in scope]
        if scope is None:
            out.append({"label": reg.node(d).name, "value": d})
        out += [{"label": INDENT + reg.node(c).name, "value": c} for c in communities]
    return out


def layout(ctx: AppContext):
    t = ctx.t
    filters = html.Div(className="desk-filters", children=[
        html.Div([html.Label(t("desk.col.level")), dropdown(ctx, id=P + "level", options=_opts(ctx, "level", LEVELS),
                                                               multi=True, className="desk-select")]),
        html.Div([html.Label(t("desk.col.rule")), dropdown(ctx, id=P + "rule", options=_opts(ctx, "rule", RULES),
                                                              multi=True, className="desk-select")]),
        html.Div([html.Label(t("desk.col.status")), dropdown(ctx, 
            id=P + "status", options=[{"label": status_name(ctx, st), "value": st} for st in STATUSES], multi=True,
            value=["open", "acknowledged", "dispatched", "on_scene", "resolved"], className="desk-select")],
                 style={"minWidth": "260px"}),
        html.Div([html.Label(t("desk.alerts.area")), dropdown(ctx, 
            id=P + "area", options=_areas(ctx) if current_user() else [], className="desk-select")],
                 style={"minWidth": "180px"}),
        html.Div([html.Label(t("desk.alerts.period")), dropdown(ctx, 
            id=P + "hours", options=[{"label": t(f"desk.period.{name}"), "value": h} for name, h in HOURS],
            value=24, clearable=False, className="desk-select")]),
    ])
    queue = html.Section(className="desk-panel", children=[
        html.H2(t("desk.alerts.queue")), filters, html.Div(id=P + "table"),
    ])
    detail = html.Section(className="desk-panel", children=[
        html.H2(t("desk.alerts.detail")),
        html.Div(id=P + "detail", children=html.P(t("desk.alerts.pick_hint"), className="desk-muted")),
        html.H3(t("desk.alerts.handling")),
        html.Div(className="desk-field", children=[
            html.Label(t("desk.alerts.dispatch_unit"), htmlFor=P + "unit"),
            dropdown(ctx, id=P + "unit", className="desk-select", placeholder=t("desk.alerts.default_unit")),
        ]),
        html.Div(className="desk-field", children=[
            html.Label(t("desk.alerts.note"), htmlFor=P + "note"),
            dcc.Textarea(id=P + "note", className="desk-textarea", maxLength=2000),
        ]),
        html.Div(className="desk-row", children=[
            html.Button(t(f"desk.btn.{name}"), id=P + "btn-" + name, className="desk-btn", n_clicks=0)
            for name in ACTIONS
        ]),
        html.Div(id=P + "msg", className="desk-msg"),
        html.H3(t("desk.alerts.silence")),
        html.Div(className="desk-row", children=[
            dcc.Input(id=P + "silence-minutes", type="number", min=1, max=10080, value=60,
                      className="desk-input", style={"width": "90px"}),
            html.Span(t("desk.alerts.minutes"), className="desk-muted"),
            html.Button(t("desk.alerts.silence_btn"), id=P + "btn-silence", className="desk-btn secondary",
                        n_clicks=0),
        ]),
        html.H3(t("desk.alerts.silences")), html.Div(id=P + "silence-msg", className="desk-msg"),
        html.Div(id=P + "silences"),
    ])
    return desk_page(ctx, PATH, TITLE_KEY,
                     dcc.Store(id=P + "selected"), dcc.Interval(id=P + "tick", interval=3000),
                     dcc.Store(id=P + "seen"), dcc.Store(id=P + "seen-detail"), dcc.Store(id=P + "seen-silences"),
                     html.Div(className="desk-grid", children=[queue, detail]), class_name="desk-wide")


def _query(ctx: AppContext, levels, rules, statuses, area, hours) -> tuple[list[Alert], set[str]]:
    """The queue through the scoped query layer (``alerts.queries``), and which of it is silenced now."""
    node = data.registry(ctx).node(area) if area else None
    district = area if node is not None and node.level == "district" else None
    since = datetime.now(UTC) - timedelta(hours=float(hours)) if hours else None
    f = queries.AlertFilter(status=statuses or (), level=levels or (), rule=rules or (), district_id=district,
                            community_id=area if area and district is None else None, since=since)
    with Session(ctx.engine) as db:
        rows = queries.listing(db, actor(ctx, current_user()), f)
        marked = queries.silenced_ids(db, rows, datetime.now(UTC))
        db.expunge_all()
    return rows, marked


def _place(ctx: AppContext, a: Alert) -> str:
    reg = data.registry(ctx)
    names = [reg.node(n).name for n in (a.community_id, a.cell_id) if n and reg.node(n)]
    return " · ".join(names) or "—"


def _silenced_tag(ctx: AppContext) -> html.Span:
    return html.Span(ctx.t("desk.alerts.silenced"), className="tag-silenced")


def _table(ctx: AppContext, alerts: list[Alert], selected: str | None, marked: set[str]) -> html.Table:
    t = ctx.t
    head = html.Tr([html.Th(t(f"desk.col.{c}")) for c in ("id", "level", "rule", "subject", "place", "status",
                                                           "opened", "unit")])
    rows = [head]
    for a in alerts:
        rows.append(html.Tr(
            id={"type": P + "row", "alert": a.alert_id}, n_clicks=0, **{"data-alert-id": a.alert_id},
            className="selectable selected" if a.alert_id == selected else "selectable",
            children=[html.Td(a.alert_id), html.Td(level_badge(ctx, a.level)),
                      html.Td(name_of(ctx, "rule", a.rule)), html.Td(data.mask_subject(a.subject_kind, a.subject_id)),
                      html.Td(_place(ctx, a)),
                      html.Td([status_badge(ctx, a.status),
                               html.Span(t("desk.alerts.escalated"), className="tag-escalated")
                               if a.escalated_at else None,
                               _silenced_tag(ctx) if a.alert_id in marked else None]),
                      html.Td(fmt_time(ctx, a.opened_at, True)), html.Td(a.assignee or "—")]))
    if len(rows) == 1:
        rows.append(html.Tr(html.Td(t("desk.alerts.no_match"), colSpan=8, className="desk-muted")))
    return html.Table(rows, className="desk-table", id=P + "queue")


def _evidence(ctx: AppContext, a: Alert, has_snapshot: bool) -> list[Any]:
    """The frame kept when the alert fired, the evidence (``dashboard.desk.evidence``), the escalation."""
    t = ctx.t
    out: list[Any] = []
    if has_snapshot:
        out.append(html.Img(src=f"/api/alerts/{a.alert_id}/snapshot.jpg", className="desk-evidence-img",
                            alt=t("desk.alerts.frame_alt")))
    out += evidence.render(ctx, a.evidence or {})
    if a.escalated_at:
        out.append(html.Dl([html.Dt(t("desk.alerts.escalation")),
                            html.Dd(t("desk.alerts.escalated_to", time=fmt_time(ctx, a.escalated_at)))],
                           className="desk-kv"))
    return out


def _detail(ctx: AppContext, alert_id: str | None):
    t = ctx.t
    if not alert_id:
        return html.P(t("desk.alerts.pick_hint"), className="desk-muted")
    user = current_user()
    with Session(ctx.engine) as db:
        try:
            a = queries.get(db, actor(ctx, user), alert_id)
        except CommandError:
            return html.P(t("desk.alerts.not_found"), className="desk-msg error")
        silenced = bool(queries.silenced_ids(db, [a], datetime.now(UTC)))
        history = store.history(db, a, ctx.settings.city.timezone)
        has_snapshot = db.get(AlertSnapshot, a.id) is not None
        doc = store.to_contract(a, ctx.settings.city.timezone)
        near = data.nearest_units(ctx, a.lat, a.lon, user, n=3)
        clocks = doc["clocks"]
        kv = [(t("desk.col.id"), a.alert_id), (t("desk.col.rule"), name_of(ctx, "rule", a.rule)),
              (t("desk.col.level"), level_badge(ctx, a.level)),
              (t("desk.col.status"), [status_badge(ctx, a.status), _silenced_tag(ctx) if silenced else None]),
              (t("desk.col.place"), _place(ctx, a)), (t("desk.col.subject"), data.mask_subject(a.subject_kind, a.subject_id)),
              (t("desk.col.opened"), fmt_time(ctx, a.opened_at, True)),
              (t("desk.alerts.route_unit"), a.route_unit or "—"), (t("desk.alerts.assignee"), a.assignee or "—"),
              ("1-3-5", t("desk.alerts.clocks", ack=fmt_secs(ctx, clocks["ack_s"]),
                          dispatch=fmt_secs(ctx, clocks["dispatch_s"]),
                          on_scene=fmt_secs(ctx, clocks["on_scene_s"])))]
        pts = [(a.lat, a.lon, "alert", a.alert_id)] + [(u.lat, u.lon, "unit", f"{u.unit_id} {fmt_m(d)}")
                                                        for u, d in near]
        return html.Div(id=P + "detail-body", **{"data-alert-id": a.alert_id, "data-status": a.status}, children=[
            html.Dl([x for k, v in kv for x in (html.Dt(k), html.Dd(v))], className="desk-kv"),
            html.H3(t("desk.alerts.evidence")),
            *(_evidence(ctx, a, has_snapshot) or [html.P(t("desk.none"), className="desk-muted")]),
            html.H3(t("desk.alerts.map")), point_map(pts),
            html.H3(t("desk.alerts.history")), timeline(ctx, history),
        ])


def _silences(ctx: AppContext) -> html.Table | html.P:
    """The silences the user may see that have not ended: matchers, reason, who, until, a lift button."""
    t = ctx.t
    now = datetime.now(UTC)
    with Session(ctx.engine) as db:
        rows = silences.listing(db, actor(ctx, current_user()), now)
        docs = [silences.to_json(s, ctx.settings.city.timezone, now) for s in rows]
    if not docs:
        return html.P(t("desk.none"), className="desk-muted")
    reg = data.registry(ctx)

    def what(m: dict[str, Any]) -> str:
        parts = [name_of(ctx, "rule", m["rule"]) if m["rule"] else t("desk.alerts.any_rule")]
        parts += [reg.node(n).name if reg.node(n) else n
                  for n in (m["district_id"], m["community_id"], m["cell_id"]) if n]
        if m["subject_id"]:
            parts.append(data.mask_text(m["subject_id"]))
        if not any(m[k] for k in ("district_id", "community_id", "cell_id")):
            parts.append(t("desk.alerts.whole_scope"))
        return " · ".join(parts)

    head = html.Tr([html.Th(t(k)) for k in ("desk.col.id", "desk.alerts.matchers", "desk.alerts.reason",
                                            "desk.alerts.silenced_by", "desk.alerts.until", "")])
    body = [html.Tr(**{"data-silence-id": str(d["id"])}, children=[
        html.Td(str(d["id"])), html.Td(what(d["matchers"])), html.Td(d["reason"] or "—"), html.Td(d["created_by"]),
        html.Td(fmt_time(ctx, d["until"], True)),
        html.Td(html.Button(t("desk.alerts.lift"), id={"type": P + "lift", "silence": d["id"]},
                            className="desk-btn secondary", n_clicks=0))]) for d in docs]
    return html.Table([head, *body], className="desk-table", id=P + "silences-table")


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "table", "children"), Output(P + "seen", "data"),
                  Input(P + "tick", "n_intervals"), Input(P + "level", "value"), Input(P + "rule", "value"),
                  Input(P + "status", "value"), Input(P + "area", "value"), Input(P + "hours", "value"),
                  Input(P + "msg", "children"), State(P + "selected", "data"), State(P + "seen", "data"))
    def refresh(_tick, levels, rules, statuses, area, hours, _msg, selected, seen):
        """The queue, newest first (at most 200), cut to the user's scope; on a tick only after a change."""
        again, seen = changes.poll(ctx.redis, seen, selected)
        if not again and callback_context.triggered_id == P + "tick":
            return no_update, no_update
        rows, marked = _query(ctx, levels, rules, statuses, area, hours)
        return _table(ctx, rows, selected, marked), seen

    @app.callback(Output(P + "selected", "data"), Input({"type": P + "row", "alert": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def select(clicks):
        trig = callback_context.triggered_id
        if not trig or not any(c for c in clicks if c):
            return no_update
        value = callback_context.triggered[0].get("value") if callback_context.triggered else None
        return trig["alert"] if value else no_update

    @app.callback(Output(P + "detail", "children"), Output(P + "unit", "options"), Output(P + "seen-detail", "data"),
                  Input(P + "selected", "data"), Input(P + "msg", "children"), Input(P + "tick", "n_intervals"),
                  State(P + "seen-detail", "data"))
    def detail(alert_id, _msg, _tick, seen):
        trig = callback_context.triggered_id
        again, seen = changes.poll(ctx.redis, seen, alert_id)
        if trig == P + "tick" and (not alert_id or not again):
            return no_update, no_update, no_update
        body = _detail(ctx, alert_id)
        options: Any = no_update
        if trig != P + "tick" and alert_id:
            with Session(ctx.engine) as db:
                a = store.get(db, alert_id)
                lat, lon = (a.lat, a.lon) if a else (None, None)
            options = [{"label": f"{u.unit_id} {u.name} · {fmt_m(d)}", "value": u.unit_id}
                       for u, d in data.nearest_units(ctx, lat, lon, current_user(), n=5)]
        return body, options, seen

    @app.callback(Output(P + "msg", "children"), Output(P + "msg", "className"), Output(P + "note", "value"),
                  *[Input(P + "btn-" + name, "n_clicks") for name in ACTIONS],
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
            return ctx.t("desk.alerts.select_first"), "desk-msg error", no_update
        action = trig[len(P + "btn-"):]
        try:
            if action == "silence":
                until = actions.silence(ctx, user, alert_id, minutes, note)
                return ctx.t("desk.alerts.silenced_until", time=fmt_time(ctx, until, True)), "desk-msg ok", ""
            doc = actions.perform(ctx, user, alert_id, action, note, unit if action == "dispatch" else None)
        except CommandError as exc:
            return error_text(ctx, exc), "desk-msg error", no_update
        return ctx.t("desk.done", alert=alert_id, status=status_name(ctx, doc["status"])), "desk-msg ok", ""

    @app.callback(Output(P + "silences", "children"), Output(P + "seen-silences", "data"),
                  Input(P + "tick", "n_intervals"), Input(P + "msg", "children"), Input(P + "silence-msg", "children"),
                  State(P + "seen-silences", "data"))
    def silence_list(_tick, _msg, _lift_msg, seen):
        """Active silences; on a tick only after a change (one that ends by itself goes within SAFETY_S)."""
        again, seen = changes.poll(ctx.redis, seen)
        if not again and callback_context.triggered_id == P + "tick":
            return no_update, no_update
        return _silences(ctx), seen

    @app.callback(Output(P + "silence-msg", "children"), Output(P + "silence-msg", "className"),
                  Input({"type": P + "lift", "silence": ALL}, "n_clicks"), prevent_initial_call=True)
    def lift(_clicks):
        trig = callback_context.triggered_id
        value = callback_context.triggered[0].get("value") if callback_context.triggered else None
        if not trig or not value:
            return no_update, no_update
        try:
            actions.lift_silence(ctx, current_user(), trig["silence"])
        except CommandError as exc:
            return error_text(ctx, exc), "desk-msg error"
        return ctx.t("desk.alerts.lifted", id=trig["silence"]), "desk-msg ok"


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=20, layout=layout, register_callbacks=register_callbacks))
