"""`/videopatrol` (视频巡查): walk a plan's cameras one by one and mark each 正常 or 异常; the patrol log and the
rounds not made on time. A thin adapter over ``videopatrol.commands`` (role, scope, audit live there).

Supervisors and admins also keep the plans (ordered cameras, seconds per camera, every N minutes between two
local times, a scope). During a round the page shows the current camera's latest frame large, with the seconds
left of its share; a mark moves to the next camera, the last mark ends the round. 异常 needs a note and opens a
case (source ``video_patrol``, the camera's frame as evidence), announced after the commit; the log links it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from dash import Input, Output, State, dcc, html, no_update
from sqlalchemy.orm import Session

from cases import lifecycle
from cases import store as case_store
from cases.commands import CaseEnv
from cases.places import places_for
from dashboard.auth.sessions import current_user
from dashboard.context import AppContext
from dashboard.desk import actions, data
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import dropdown, fmt_time
from dashboard.pages.base import Page, register
from onescreen.commands import Actor, CommandError
from onescreen.db.models import VideoPatrolMark
from videopatrol import commands as vp

PATH = "/videopatrol"
TITLE_KEY = "nav.videopatrol"
LOG_REFRESH_MS = 10_000
P = "desk-vp-"
LOG_HOURS = 24


def actor_of(ctx: AppContext, user: Any) -> Actor:
    """The signed-in desk user as a command's Actor, scope resolved."""
    comms = data.visible_communities(ctx, user)
    return Actor(user.username, user.role, user_id=user.id, scope_node_id=user.scope_node_id,
                 communities=None if comms is None else frozenset(comms), remote_addr=actions.remote_addr())


def layout(ctx: AppContext):
    t = ctx.t
    user = current_user()
    walk = html.Section(className="desk-panel", children=[
        html.H2(t("vp.walk")),
        html.Div(className="desk-row", children=[
            dropdown(ctx, id=P + "plan", className="desk-select", placeholder=t("vp.pick_plan"),
                     style={"minWidth": "260px"}),
            html.Button(t("vp.start"), id=P + "start", className="desk-btn", n_clicks=0),
        ]),
        html.Div(id=P + "current", className="desk-vp-current"),
        html.Div(className="desk-field", children=[
            html.Label(t("desk.col.note"), htmlFor=P + "note"),
            dcc.Textarea(id=P + "note", className="desk-textarea", maxLength=2000)]),
        html.Div(className="desk-field", children=[
            html.Label(t("vp.case_category"), htmlFor=P + "category"),
            dropdown(ctx, id=P + "category", className="desk-select", clearable=False, value="public_order",
                     options=[{"label": t(f"cases.cat.{c}"), "value": c} for c in _categories(ctx)],
                     style={"maxWidth": "260px"})]),
        html.Div(className="desk-row", children=[
            html.Button(t("vp.normal"), id=P + "normal", className="desk-btn", n_clicks=0),
            html.Button(t("vp.abnormal"), id=P + "abnormal", className="desk-btn danger", n_clicks=0),
        ]),
        html.Div(id=P + "msg", className="desk-msg"),
        dcc.Store(id=P + "round"),
    ])
    log = html.Section(className="desk-panel", children=[
        html.H2(t("vp.log")), html.Div(id=P + "log"), html.H3(t("vp.missed")), html.Div(id=P + "missed"),
    ])
    # The plan form is in every layout (the callbacks need its ids) but shown to planners only; the command
    # refuses anyone else anyway.
    planner = user is not None and user.role in vp.PLANNERS
    panels = [walk, log, html.Section(className="desk-panel", hidden=not planner, children=[
        html.H2(t("vp.plan")),
        dcc.Input(id=P + "name", placeholder=t("vp.plan_name"), className="desk-input", maxLength=200),
        dropdown(ctx, id=P + "cameras", multi=True, placeholder=t("vp.cameras"), className="desk-select"),
        html.Div(className="desk-row", children=[
            html.Label(t("vp.seconds")), dcc.Input(id=P + "seconds", type="number", value=20, min=5, max=600),
            html.Label(t("vp.every")), dcc.Input(id=P + "every", type="number", value=120, min=10, max=1440),
            html.Label(t("vp.window")), dcc.Input(id=P + "from", value="20:00", maxLength=5, size="5"),
            dcc.Input(id=P + "to", value="06:00", maxLength=5, size="5"),
        ]),
        html.Button(t("vp.save_plan"), id=P + "save", className="desk-btn", n_clicks=0),
        html.Div(id=P + "plan-msg", className="desk-msg"),
    ])]
    return desk_page(ctx, PATH, TITLE_KEY, dcc.Interval(id=P + "tick", interval=1000),
                     dcc.Interval(id=P + "log-tick", interval=LOG_REFRESH_MS),
                     html.Div(className="desk-grid", children=panels), class_name="desk-wide")


def _categories(ctx: AppContext) -> tuple[str, ...]:
    """The case categories an 异常 may be filed under (the configured extra ones too)."""
    return lifecycle.CATEGORIES + tuple(ctx.settings.cases.extra_categories)


def case_env(ctx: AppContext) -> CaseEnv:
    """What the cases commands need to open a case from an 异常 mark (places, deadlines, Redis for the frame:
    a non-decoding connection, the app's shared one decodes replies to str and a JPEG is bytes)."""
    return CaseEnv(ctx.settings.cases, ctx.settings.city.timezone, places_for(ctx.engine), ctx.redis_bytes)


def _mark_cell(ctx: AppContext, m: dict) -> Any:
    text = f"{m['camera_id']} {ctx.t('vp.' + m['verdict'])}"
    if not m.get("case_id"):
        return html.Span(text)
    return html.Span([text, " → ", html.A(m["case_id"], href=f"/cases?case={m['case_id']}",
                                          className="desk-vp-case",
                                          style={"color": "#7fd0ff", "whiteSpace": "nowrap"})])


def _error(ctx: AppContext, exc: CommandError) -> str:
    text = ctx.t(exc.key, **exc.values)
    return text if text != exc.key else exc.message


def _current(ctx: AppContext, rnd: dict | None) -> Any:
    t = ctx.t
    if not rnd:
        return html.P(t("vp.idle"), className="desk-hint")
    cam = rnd["cameras"][rnd["index"]]
    left = max(0, int(rnd["seconds"] - (time.time() - rnd["shown_at"])))
    return html.Div([
        html.Div(t("vp.progress", n=rnd["index"] + 1, of=len(rnd["cameras"]), camera=cam, left=left),
                 id=P + "progress", className="desk-vp-progress" + (" overdue" if left == 0 else "")),
        html.Img(src=f"/api/cameras/{cam}/snapshot.jpg?t={int(time.time())}", id=P + "frame",
                 className="desk-vp-frame", alt=cam, style={"width": "100%", "maxWidth": "960px"}),
    ])


def _log(ctx: AppContext, entries: list[dict]) -> Any:
    t = ctx.t
    if not entries:
        return html.P(t("vp.no_log"), className="desk-hint")
    head = html.Tr([html.Th(t(k)) for k in ("desk.col.time", "vp.plan_name", "vp.by", "vp.marks")])
    rows = [html.Tr([html.Td(fmt_time(ctx, e["started_at"], True)), html.Td(e["plan"]), html.Td(e["by"]),
                     html.Td([part for i, m in enumerate(e["marks"])
                              for part in ([", "] if i else []) + [_mark_cell(ctx, m)]])])
            for e in entries]
    return html.Table([head, *rows], className="desk-table", id=P + "log-table")


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "plan", "options"), Input(P + "msg", "children"), Input(P + "plan-msg", "children"))
    def plan_options(_a, _b):
        with Session(ctx.engine) as s:
            return [{"label": p.name, "value": p.id} for p in vp.plans(s, actor_of(ctx, current_user())) if p.active]

    @app.callback(Output(P + "round", "data"), Output(P + "msg", "children"), Output(P + "note", "value"),
                  Input(P + "start", "n_clicks"), Input(P + "normal", "n_clicks"), Input(P + "abnormal", "n_clicks"),
                  State(P + "plan", "value"), State(P + "round", "data"), State(P + "note", "value"),
                  State(P + "category", "value"), prevent_initial_call=True)
    def act(_s, _n, _a, plan_id, rnd, note, category):
        from dash import ctx as dash_ctx

        which = (dash_ctx.triggered_id or "").removeprefix(P)
        actor, now = actor_of(ctx, current_user()), datetime.now().astimezone()
        try:
            with Session(ctx.engine) as s:
                if which == "start":
                    if plan_id is None:
                        return no_update, ctx.t("vp.pick_plan"), no_update
                    round_id = vp.start_round(s, actor, int(plan_id), now)
                    plan = next(p for p in vp.plans(s, actor) if p.id == int(plan_id))
                    s.commit()
                    return ({"round_id": round_id, "cameras": plan.cameras, "index": 0,
                             "seconds": plan.seconds_per_camera, "shown_at": time.time()},
                            ctx.t("vp.started", n=len(plan.cameras)), "")
                if not rnd:
                    return no_update, ctx.t("vp.idle"), no_update
                verdict = "normal" if which == "normal" else "abnormal"
                env = case_env(ctx)
                mark_id = vp.mark_camera(s, actor, rnd["round_id"], rnd["cameras"][rnd["index"]], verdict, note,
                                         now, env, category or "public_order")
                case_id = s.get(VideoPatrolMark, mark_id).case_id
                last = rnd["index"] + 1 >= len(rnd["cameras"])
                if last:
                    vp.finish_round(s, actor, rnd["round_id"], now)
                s.commit()
                case_store.announce_changed(s, ctx.redis, env.tz, now)
                if last:
                    return None, (ctx.t("vp.finished_case", case=case_id) if case_id else ctx.t("vp.finished")), ""
                return ({**rnd, "index": rnd["index"] + 1, "shown_at": time.time()},
                        ctx.t("vp.case_opened", case=case_id) if case_id else ctx.t("vp.marked"), "")
        except CommandError as exc:
            return no_update, _error(ctx, exc), no_update

    @app.callback(Output(P + "current", "children"), Input(P + "round", "data"), Input(P + "tick", "n_intervals"))
    def current(rnd, _tick):
        return _current(ctx, rnd)

    @app.callback(Output(P + "log", "children"), Output(P + "missed", "children"), Input(P + "msg", "children"),
                  Input(P + "plan-msg", "children"), Input(P + "log-tick", "n_intervals"))
    def log(_m, _p, _tick):
        """The log and the missed scheduled rounds: after every mark, and every LOG_REFRESH_MS (a scheduled round
        falls due by the clock, and another operator's rounds show up)."""
        actor = actor_of(ctx, current_user())
        now = datetime.now(ctx.tz)
        with Session(ctx.engine) as s:
            entries = vp.patrol_log(s, actor, now - timedelta(hours=LOG_HOURS))
            late = vp.missed_rounds(s, actor, now - timedelta(hours=LOG_HOURS), now)
        missed = [html.Li(f"{fmt_time(ctx, due, True)} · {plan.name}") for plan, due in late[-50:]]
        return _log(ctx, entries), (html.Ul(missed, id=P + "missed-list") if missed
                                    else html.P(ctx.t("vp.none_missed"), className="desk-hint"))

    @app.callback(Output(P + "cameras", "options"), Input(P + "plan-msg", "children"))
    def camera_options(_m):
        comms = data.visible_communities(ctx, current_user())
        reg = data.registry(ctx)
        return [{"label": f"{c.id} {c.name}", "value": c.id} for c in sorted(reg.cameras(), key=lambda c: c.id)
                if comms is None or (reg.place_of_device(c.id) and reg.place_of_device(c.id).community_id in comms)]

    @app.callback(Output(P + "plan-msg", "children"), Input(P + "save", "n_clicks"), State(P + "name", "value"),
                  State(P + "cameras", "value"), State(P + "seconds", "value"), State(P + "every", "value"),
                  State(P + "from", "value"), State(P + "to", "value"), prevent_initial_call=True)
    def save(_n, name, cameras, seconds, every, start, end):
        actor = actor_of(ctx, current_user())
        try:
            with Session(ctx.engine) as s:
                plan_id = vp.save_plan(s, actor, vp.PlanInput(name or "", list(cameras or []), int(seconds or 0),
                                                              int(every or 0), start or "", end or ""),
                                       datetime.now().astimezone())
                s.commit()
        except CommandError as exc:
            return _error(ctx, exc)
        return ctx.t("vp.plan_saved", id=plan_id)


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=45, layout=layout, register_callbacks=register_callbacks))
