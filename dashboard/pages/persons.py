"""`/persons` (重点人员 · 一人一档): the key-person desk. The list by level with overdue visits first; one person's
file (level history, sightings, alerts, cases, visits, the plan); re-grading with a reason; visits recorded here.

Every write goes through ``persons.commands`` (the same functions the API calls). Person ids never reach the
browser unmasked unless a role allowed to (supervisor, admin) asks for one person's id: that unmask is audited
(``audit_log`` ``person_unmask``). Rows are named in the page by an opaque reference (a keyed hash, ``ref``),
not by the id, so the DOM and the callbacks carry no ids either. Roles: ``dashboard.auth.access``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from flask import current_app
from sqlalchemy.orm import Session

from dashboard.auth.sessions import current_user
from dashboard.commands import actor
from dashboard.context import AppContext, app_context
from dashboard.desk import data
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import dropdown, fmt_time, level_badge, name_of
from dashboard.pages.base import Page, register
from onescreen.commands import CommandError
from onescreen.timeutil import parse_ts
from persons import commands, queries
from persons.cadence import LEVELS, METHODS, Cadence

PATH = "/persons"
TITLE_KEY = "nav.persons"
P = "desk-persons-"


def ref_of(person_id: str) -> str:
    """The page's handle of a person: a keyed hash, never the id itself. The key is derived from the app's secret
    (``dashboard.secret_key``, which the dashboard processes behind a load balancer share), so a ref one process
    put in the page resolves on the next one; without the secret it cannot be turned back into an id."""
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else bytes(secret or b"")
    key = hashlib.sha256(b"onescreen/persons-ref\0" + secret).digest()
    return hmac.new(key, person_id.encode(), hashlib.sha256).hexdigest()[:16]


def _actor():
    user = current_user()
    return actor(app_context(), user) if user is not None else None


def _view(ctx: AppContext) -> tuple[Cadence, str]:
    return Cadence.from_settings(ctx.settings.persons), ctx.settings.city.timezone


def _rows(ctx: AppContext, **filters: Any) -> list[dict[str, Any]]:
    actor = _actor()
    if actor is None:
        return []
    cadence, tz = _view(ctx)
    with Session(ctx.engine) as db:
        return queries.listing(db, actor, datetime.now(UTC), cadence, tz, **filters)


def _resolve(ctx: AppContext, ref: str | None) -> str | None:
    """The person id behind a ref, among the persons the user may see (None if none)."""
    if not ref:
        return None
    return next((r["person_id"] for r in _rows(ctx) if ref_of(r["person_id"]) == ref), None)


def _community(ctx: AppContext, cid: str | None) -> str:
    node = data.registry(ctx).node(cid) if cid else None
    return node.name if node is not None else (cid or "—")


def layout(ctx: AppContext):
    t = ctx.t
    user = current_user()
    role = user.role if user else None
    filters = html.Div(className="desk-filters", children=[
        html.Div([html.Label(t("persons.filter.level")), dropdown(
            ctx, id=P + "level", options=[{"label": t(f"level.{lv}"), "value": lv} for lv in LEVELS],
            multi=True, className="desk-select", placeholder=t("persons.filter.all"), style={"minWidth": "200px"})]),
        dcc.Checklist(id=P + "overdue", options=[{"label": " " + t("persons.filter.overdue"), "value": "1"}],
                      value=[], className="desk-checklist"),
    ])
    listing = html.Section(className="desk-panel", children=[
        html.Div(id=P + "counts", className="desk-hint"), filters, html.Div(id=P + "list")])
    grade = html.Div(id=P + "grade-form", hidden=role not in commands.ROLE_ACTIONS["grade"], children=[
        html.H3(t("persons.grade")),
        html.Div(className="desk-row", children=[
            dropdown(ctx, id=P + "grade-level", options=[{"label": t(f"level.{lv}"), "value": lv} for lv in LEVELS],
                     clearable=False, className="desk-select", style={"minWidth": "140px"}),
            dcc.Input(id=P + "grade-reason", className="desk-input", placeholder=t("persons.grade.reason"),
                      maxLength=commands.REASON_MAX, style={"flex": "1"}),
            html.Button(t("persons.grade.submit"), id=P + "grade-submit", className="desk-btn", n_clicks=0)]),
    ])
    visit = html.Div(id=P + "visit-form", hidden=role not in commands.ROLE_ACTIONS["visit"], children=[
        html.H3(t("persons.visit")),
        dcc.RadioItems(id=P + "visit-method", options=[{"label": " " + t(f"persons.method.{m}"), "value": m}
                                                      for m in METHODS], value="home", inline=True,
                       className="desk-checklist"),
        html.Div(className="desk-row", children=[
            dcc.Input(id=P + "visit-at", className="desk-input", placeholder=t("persons.visit.at"),
                      style={"width": "220px"}),
            dcc.Input(id=P + "visit-note", className="desk-input", placeholder=t("persons.visit.note"),
                      maxLength=commands.NOTE_MAX, style={"flex": "1"}),
            html.Button(t("persons.visit.submit"), id=P + "visit-submit", className="desk-btn", n_clicks=0)]),
    ])
    file_panel = html.Section(className="desk-panel", children=[
        html.H2(t("persons.file")),
        html.Div(className="desk-row", children=[
            html.Span(id=P + "who", className="desk-person-id"),
            html.Button(t("persons.unmask"), id=P + "unmask", className="desk-btn secondary", n_clicks=0,
                        hidden=role not in commands.ROLE_ACTIONS["unmask"]),
        ]),
        html.Div(id=P + "msg", className="desk-msg"),
        grade, visit,
        html.Div(id=P + "file", style={"marginTop": "14px"}, children=html.P(t("persons.pick"), className="desk-muted")),
    ])
    return desk_page(ctx, PATH, TITLE_KEY, dcc.Interval(id=P + "tick", interval=10_000),
                     dcc.Store(id=P + "selected"),
                     html.Div(className="desk-grid", children=[listing, file_panel]), class_name="desk-wide")


def _list_table(ctx: AppContext, rows: list[dict[str, Any]], selected: str | None):
    t = ctx.t
    if not rows:
        return html.P(t("persons.empty"), className="desk-muted")
    head = html.Tr([html.Th(t(f"persons.col.{c}")) for c in (
        "person", "level", "community", "category", "worker", "last_visit", "due")])
    out = [head]
    for r in rows:
        ref = ref_of(r["person_id"])
        due = (t("persons.none_due") if r["next_visit_due"] is None
               else "" if r["last_visit"] is None else fmt_time(ctx, r["next_visit_due"], True))
        due_cell = html.Td([html.Span(t("persons.overdue"), className="tag-escalated"), " ", due]
                           if r["visit_overdue"] else due)
        out.append(html.Tr(
            id={"type": P + "row", "ref": ref}, n_clicks=0,
            className="selectable selected" if ref == selected else "selectable",
            **{"data-ref": ref, "data-level": r["level"], "data-overdue": "1" if r["visit_overdue"] else "0"},
            children=[html.Td(data.mask_person(r["person_id"])), html.Td(level_badge(ctx, r["level"])),
                      html.Td(_community(ctx, r["home_community_id"])),
                      html.Td(name_of(ctx, "category", r["category"]) if r["category"] else "—"),
                      html.Td(r["grid_worker_id"] or "—"),
                      html.Td(fmt_time(ctx, r["last_visit"], True) if r["last_visit"] else t("persons.never")),
                      due_cell]))
    return html.Table(out, className="desk-table", id=P + "table")


def _table(ctx: AppContext, cols: tuple[str, ...], rows: list[list[Any]], ident: str):
    if not rows:
        return html.P(ctx.t("persons.none"), className="desk-muted")
    return html.Table([html.Tr([html.Th(ctx.t(f"persons.col.{c}")) for c in cols]),
                       *[html.Tr([html.Td(v) for v in row]) for row in rows]], className="desk-table", id=P + ident)


def _file(ctx: AppContext, doc: dict[str, Any]):
    t = ctx.t
    tm = lambda v: fmt_time(ctx, v, True) if v else "—"  # noqa: E731
    kv = [(t("persons.col.level"), level_badge(ctx, doc["level"])),
          (t("persons.col.community"), _community(ctx, doc["home_community_id"])),
          (t("persons.col.category"), name_of(ctx, "category", doc["category"]) if doc["category"] else "—"),
          (t("persons.col.officer"), doc["officer"] or "—"), (t("persons.col.worker"), doc["grid_worker_id"] or "—"),
          (t("persons.col.last_visit"), tm(doc["last_visit"]) if doc["last_visit"] else t("persons.never")),
          (t("persons.col.due"), t("persons.none_due") if not doc["next_visit_due"]
           else t("persons.overdue") if not doc["last_visit"] else tm(doc["next_visit_due"])),
          (t("persons.plan"), doc["plan"] or "—")]
    return html.Div(**{"data-level": doc["level"]}, children=[
        html.Dl([x for k, v in kv for x in (html.Dt(k), html.Dd(v))], className="desk-kv"),
        html.H3(t("persons.history")),
        _table(ctx, ("time", "from", "to", "by", "reason"),
               [[tm(h["at"]), name_of(ctx, "level", h["from"]), name_of(ctx, "level", h["to"]), h["by"], h["reason"]]
                for h in doc["level_history"]], "history"),
        html.H3(t("persons.visits")),
        _table(ctx, ("time", "method", "by", "note"),
               [[tm(v["at"]), name_of(ctx, "persons.method", v["method"]), v["by"], v["note"] or ""]
                for v in doc["visits"]], "visits"),
        html.H3(t("persons.sightings")),
        _table(ctx, ("time", "door", "community", "direction"),
               [[tm(s["at"]), s["door_id"] or "—", _community(ctx, s["community_id"]),
                 name_of(ctx, "desk.ev.direction", s["direction"])] for s in doc["sightings"][:30]], "sightings"),
        html.H3(t("persons.alerts")),
        _table(ctx, ("alert", "rule", "level", "status", "time"),
               [[a["alert_id"], name_of(ctx, "rule", a["rule"]), level_badge(ctx, a["level"]),
                 name_of(ctx, "status", a["status"]), tm(a["opened_at"])] for a in doc["alerts"]], "alerts"),
        html.H3(t("persons.cases")),
        _table(ctx, ("alert", "status", "time"),
               [[c.get("case_id", ""), c.get("status", ""), tm(c.get("reported_at"))] for c in doc["cases"]], "cases"),
    ])


def _error(ctx: AppContext, exc: CommandError) -> str:
    return ctx.t(exc.key, **exc.values) if ctx.t(exc.key) != exc.key else exc.message


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "list", "children"), Output(P + "counts", "children"),
                  Input(P + "tick", "n_intervals"), Input(P + "level", "value"), Input(P + "overdue", "value"),
                  Input(P + "selected", "data"), Input(P + "msg", "children"))
    def listing(_tick, levels, overdue, selected, _msg):
        rows = _rows(ctx)
        counts = ctx.t("persons.counts", **queries.counts(rows))
        if levels:
            rows = [r for r in rows if r["level"] in levels]
        if overdue:
            rows = [r for r in rows if r["visit_overdue"]]
        return _list_table(ctx, rows, selected), counts

    @app.callback(Output(P + "selected", "data"), Input({"type": P + "row", "ref": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def select(clicks):
        trig = callback_context.triggered_id
        value = callback_context.triggered[0].get("value") if callback_context.triggered else None
        return trig["ref"] if trig and value else no_update

    @app.callback(Output(P + "file", "children"), Output(P + "who", "children"), Output(P + "grade-level", "value"),
                  Input(P + "selected", "data"), Input(P + "msg", "children"))
    def show(ref, _msg):
        person = _resolve(ctx, ref)
        if person is None:
            return html.P(ctx.t("persons.pick"), className="desk-muted"), "", None
        cadence, tz = _view(ctx)
        with Session(ctx.engine) as db:
            try:
                doc = queries.person_file(db, _actor(), person, datetime.now(UTC), cadence, tz)
            except CommandError as exc:
                return html.P(_error(ctx, exc), className="desk-msg error"), "", None
        level = doc["level"] if callback_context.triggered_id == P + "selected" else no_update  # keep a pick
        return _file(ctx, doc), data.mask_person(person), level

    @app.callback(Output(P + "who", "children", allow_duplicate=True), Input(P + "unmask", "n_clicks"),
                  State(P + "selected", "data"), prevent_initial_call=True)
    def unmask(_n, ref):
        person = _resolve(ctx, ref)
        if person is None:
            return no_update
        with Session(ctx.engine) as db:
            try:
                full = commands.unmask(db, _actor(), person, datetime.now(UTC))
            except CommandError as exc:
                return _error(ctx, exc)
            db.commit()
        return [html.Span(full, id=P + "full-id"), html.Span(" " + ctx.t("persons.unmasked"), className="desk-hint")]

    @app.callback(Output(P + "msg", "children"), Output(P + "msg", "className"),
                  Input(P + "grade-submit", "n_clicks"), Input(P + "visit-submit", "n_clicks"),
                  State(P + "selected", "data"), State(P + "grade-level", "value"), State(P + "grade-reason", "value"),
                  State(P + "visit-method", "value"), State(P + "visit-at", "value"), State(P + "visit-note", "value"),
                  prevent_initial_call=True)
    def write(_g, _v, ref, level, reason, method, at, note):
        person = _resolve(ctx, ref)
        if person is None:
            return ctx.t("persons.pick"), "desk-msg error"
        now = datetime.now(UTC)
        with Session(ctx.engine) as db:
            try:
                if callback_context.triggered_id == P + "grade-submit":
                    commands.grade(db, _actor(), person, commands.GradeInput(level, reason), now)
                    ok = "persons.ok.grade"
                else:
                    when = _parse_at(at)
                    commands.record_visit(db, _actor(), person, commands.VisitInput(when, method, note), now)
                    ok = "persons.ok.visit"
            except CommandError as exc:
                db.rollback()
                return _error(ctx, exc), "desk-msg error"
            db.commit()
        commands.announce(ctx.redis, person)
        return f"{ctx.t(ok)} · {fmt_time(ctx, now)}", "desk-msg ok"


def _parse_at(value: str | None) -> datetime | None:
    """The desk's time field: empty = now; ISO 8601 with an offset (CONTRACT times)."""
    if not value or not value.strip():
        return None
    try:
        return parse_ts(value.strip())
    except ValueError:
        raise commands.Invalid("persons.err.at_bad", "at is not ISO 8601 with an offset") from None


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=35, layout=layout, register_callbacks=register_callbacks))
