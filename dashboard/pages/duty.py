"""`/duty` (值班调度): the duty terminal for a patrol unit's phone. The alerts dispatched to my unit, newest
first; confirm receipt (接单), arrive (到场; also set automatically from the unit's position), resolve with a
feedback note. The same alerts are pushed on MQTT ``city/duty/{unit_id}/alerts`` by the alert engine.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from sqlalchemy.orm import Session

from alerts import queries, store
from dashboard.auth.sessions import current_user
from dashboard.commands import actor, error_text
from dashboard.context import AppContext
from dashboard.desk import actions, data, evidence
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import fmt_time, level_badge, name_of, status_badge, status_name, timeline
from dashboard.pages.base import Page, register
from dashboard.readers import changes
from onescreen.commands import CommandError
from onescreen.db.models import Alert

PATH = "/duty"
TITLE_KEY = "nav.duty"
P = "desk-duty-"
ACTIVE = ("dispatched", "on_scene")


def layout(ctx: AppContext):
    user = current_user()
    unit = user.unit_id if user else None
    head = html.P(ctx.t("desk.duty.my_unit", unit=unit) if unit else ctx.t("desk.duty.no_unit"),
                  className="desk-muted", id=P + "unit")
    return desk_page(ctx, PATH, TITLE_KEY, head, dcc.Interval(id=P + "tick", interval=3000),
                     dcc.Store(id=P + "sig"), dcc.Store(id=P + "seen"), html.Div(id=P + "msg", className="desk-msg"),
                     html.Div(id=P + "list"), class_name="desk-duty")


def _mine(ctx: AppContext, unit: str | None, include_done: bool = True) -> list[Alert]:
    """The alerts dispatched to my unit, newest change first, through the scoped query layer."""
    if not unit:
        return []
    with Session(ctx.engine) as db:
        rows = queries.listing(db, actor(ctx, current_user()),
                               queries.AlertFilter(assignee=unit, by_update=True, limit=30))
        db.expunge_all()
    return [a for a in rows if include_done or a.status in ACTIVE]


def _card(ctx: AppContext, a: Alert, history: list[dict[str, Any]]) -> html.Div:
    t = ctx.t
    reg = data.registry(ctx)
    place = " · ".join(reg.node(n).name for n in (a.community_id, a.cell_id) if n and reg.node(n)) or "—"
    received = any(h["action"] == "receipt" for h in history)
    live = a.status in ACTIVE
    buttons = [
        html.Button(t("desk.received") if received else t("desk.btn.receipt"),
                    id={"type": P + "act", "alert": a.alert_id, "do": "receipt"},
                    className="desk-btn secondary", disabled=received or not live, n_clicks=0),
        html.Button(t("desk.btn.on_scene"), id={"type": P + "act", "alert": a.alert_id, "do": "on_scene"},
                    className="desk-btn", disabled=a.status != "dispatched", n_clicks=0),
        html.Button(t("desk.btn.resolve"), id={"type": P + "act", "alert": a.alert_id, "do": "resolve"},
                    className="desk-btn", disabled=not live, n_clicks=0),
    ]
    return html.Div(className=f"duty-card lvl-border-{a.level}", **{"data-alert-id": a.alert_id,
                                                                    "data-status": a.status}, children=[
        html.H2([level_badge(ctx, a.level), " ", name_of(ctx, "rule", a.rule), " ", status_badge(ctx, a.status)]),
        html.Div(f"{a.alert_id} · {place}", className="desk-muted"),
        html.Div(evidence.summary(ctx, a.evidence or {}), className="duty-evidence"),
        html.Div(t("desk.duty.dispatched_at", time=fmt_time(ctx, a.dispatched_at, True)) + (
            " · " + t("desk.duty.on_scene_at", time=fmt_time(ctx, a.on_scene_at)) if a.on_scene_at else ""),
                 className="desk-muted"),
        *([dcc.Textarea(id={"type": P + "note", "alert": a.alert_id}, className="desk-textarea",
                        placeholder=t("desk.duty.feedback"), maxLength=2000),
           html.Div(buttons, className="desk-row")] if live else []),
        html.Details([html.Summary(t("desk.duty.history")), timeline(ctx, history)]),
    ])


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "list", "children"), Output(P + "sig", "data"), Output(P + "seen", "data"),
                  Input(P + "tick", "n_intervals"), Input(P + "msg", "children"), State(P + "sig", "data"),
                  State(P + "seen", "data"))
    def refresh(_tick, _msg, sig, seen):
        """Re-drawn only when an alert changed, so a feedback being typed is not wiped by the poll; on a tick
        SQL is read only after the change counter moved (``changes.poll``)."""
        again, seen = changes.poll(ctx.redis, seen)
        if not again and callback_context.triggered_id == P + "tick":
            return no_update, no_update, no_update
        user = current_user()
        alerts = _mine(ctx, user.unit_id if user else None)
        with Session(ctx.engine) as db:
            histories = {a.alert_id: store.history(db, store.get(db, a.alert_id), ctx.settings.city.timezone)
                         for a in alerts}
        new_sig = [[a.alert_id, a.status, len(histories[a.alert_id])] for a in alerts]
        if new_sig == sig and callback_context.triggered_id == P + "tick":
            return no_update, no_update, seen
        if not alerts:
            return html.P(ctx.t("desk.duty.empty"), className="desk-muted"), new_sig, seen
        return [_card(ctx, a, histories[a.alert_id]) for a in alerts], new_sig, seen

    @app.callback(Output(P + "msg", "children"), Output(P + "msg", "className"),
                  Input({"type": P + "act", "alert": ALL, "do": ALL}, "n_clicks"),
                  State({"type": P + "note", "alert": ALL}, "value"),
                  State({"type": P + "note", "alert": ALL}, "id"), prevent_initial_call=True)
    def act(clicks, notes, note_ids):
        trig = callback_context.triggered_id
        value = callback_context.triggered[0].get("value") if callback_context.triggered else None
        if not trig or not value:
            return no_update, no_update
        note = {i["alert"]: n for i, n in zip(note_ids, notes)}.get(trig["alert"])
        user = current_user()
        try:
            if trig["do"] == "receipt":
                actions.receipt(ctx, user, trig["alert"], note)
                return ctx.t("desk.done", alert=trig["alert"], status=ctx.t("desk.received")), "desk-msg ok"
            doc = actions.perform(ctx, user, trig["alert"], trig["do"], note)
        except CommandError as exc:
            return error_text(ctx, exc), "desk-msg error"
        return ctx.t("desk.done", alert=trig["alert"], status=status_name(ctx, doc["status"])), "desk-msg ok"


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=30, layout=layout, register_callbacks=register_callbacks))
