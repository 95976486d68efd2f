"""`/assessment` (考核评价): rankings of districts, communities, grid workers, departments and patrol units for
a day, week or month with the change against the previous period; drill-down district → community → worker
by clicking a row; a comparison chart; the CSV of exactly the rows shown; the printable monthly review; and
the morning check (每日晨检). Supervisors and admins, cut to their scope. Figures come from ``assessment``
(the same module as the API and the wall); this page only lays them out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from sqlalchemy.orm import Session

from assessment import figures, morning, people, periods, report
from dashboard.auth.sessions import current_user
from dashboard.context import AppContext
from dashboard.desk import data
from dashboard.desk.layout import desk_page
from dashboard.desk.widgets import dropdown
from dashboard.pages.base import Page, register

PATH = "/assessment"
TITLE_KEY = "nav.assessment"
P = "desk-assessment-"
DRILL = {"district": "community", "community": "worker"}  # a clicked row of one grouping opens the next
SORT_DEFAULT = "attainment_135_rate"


def _select(ctx: AppContext, name: str, options: list[tuple[str, str]], value: str) -> html.Div:
    return html.Div([html.Label(ctx.t(f"assess.{name}")), dropdown(
        ctx, id=P + name, options=[{"label": label, "value": v} for v, label in options], value=value,
        clearable=False, className="desk-select")])


def layout(ctx: AppContext):
    t = ctx.t
    filters = html.Div(className="desk-filters", children=[
        _select(ctx, "period", [(k, t(f"assess.period.{k}")) for k in periods.KINDS], "month"),
        _select(ctx, "which", [(k, t(f"assess.which.{k}")) for k in ("current", "previous")], "current"),
        _select(ctx, "by", [(k, t(f"assess.by.{k}")) for k in ("district", "community", "worker", "department",
                                                                "unit")], "district"),
        _select(ctx, "sort", [(c, t(f"assess.fig.{c}")) for c in figures.COLUMNS], SORT_DEFAULT),
        html.A(t("assess.csv"), id=P + "csv", className="desk-btn secondary", href="#"),
        html.A(t("assess.review"), id=P + "review", className="desk-btn secondary", href="#", target="_blank"),
    ])
    ranking = html.Section(className="desk-panel", children=[
        html.H2(t("assess.ranking")), filters,
        html.Div(className="desk-row", children=[
            html.Div(id=P + "crumbs", className="desk-crumbs"),
            html.Button(t("assess.up"), id=P + "up", className="desk-btn secondary", n_clicks=0)]),
        html.P(t("assess.drill_hint"), className="desk-muted"),
        html.P(id=P + "label", className="desk-hint"),
        html.P(id=P + "pending", className="desk-muted"),
        html.Div(id=P + "table", className="assess-scroll"),
    ])
    chart = html.Section(className="desk-panel", children=[
        html.H2(t("assess.chart")), dcc.Graph(id=P + "chart", config={"displayModeBar": False},
                                              style={"height": "320px"})])
    check = html.Section(className="desk-panel", children=[html.H2(id=P + "morning-title"),
                                                          html.Div(id=P + "morning")])
    return desk_page(ctx, PATH, TITLE_KEY, dcc.Store(id=P + "within", data=[]),
                     dcc.Interval(id=P + "tick", interval=60_000), ranking, chart, check, class_name="desk-wide")


def _at(kind: str, which: str, ctx: AppContext):
    """An instant inside the period asked for: now, or in the whole period before."""
    now = ctx.now()
    return None if which != "previous" else periods.period_of(kind, now, ctx.tz).start - timedelta(hours=12)


def query(kind: str, by: str, within: str | None, at) -> dict[str, str]:
    """The API query string of what the page shows (the CSV link is this, so it holds exactly these rows)."""
    q = {"period": kind, "by": by}
    if within:
        q["within"] = within
    if at is not None:
        q["date"] = at.date().isoformat()
    return q


def _change(now: Any, before: Any, column: str) -> html.Span:
    """▲/▼ and the difference against the previous period; green when better, amber when worse."""
    d = figures.change(now, before)
    if not d:
        return html.Span("", className="assess-change")
    better = (d < 0) if column in figures.LOWER_IS_BETTER else (d > 0)
    return html.Span(f"{'▲' if d > 0 else '▼'}{abs(d):g}", className=f"assess-change {'up' if better else 'down'}")


def _table(ctx: AppContext, rows: list[dict[str, Any]], by: str, sort: str) -> Any:
    t = ctx.t
    if not rows:
        key = f"assess.no_rows.{by}"
        return html.P(t(key) if t(key) != key else t("assess.no_rows"), className="desk-msg", id=P + "empty")
    head = html.Tr([html.Th(t("assess.rank")), html.Th(t("assess.name"))]
                   + [html.Th(t(f"assess.fig.{c}"), className="num" + (" sorted" if c == sort else ""))
                      for c in figures.COLUMNS])
    body = []
    for i, r in enumerate(rows, 1):
        cells = [html.Td(i, className="num"), html.Td(f"{r['name']}", title=r["key"])]
        for c in figures.COLUMNS:
            cells.append(html.Td([figures.display(r[c], c), _change(r[c], r["previous"][c], c)], className="num",
                                 **{"data-col": c, "data-value": "" if r[c] is None else str(r[c])}))
        clickable = {"id": {"type": P + "row", "key": r["key"]}, "n_clicks": 0,
                     "className": "selectable"} if by in DRILL else {}
        body.append(html.Tr(cells, **clickable, **{"data-key": r["key"]}))
    return html.Table([head, *body], className="desk-table assess-table", id=P + "ranking")


def _chart(ctx: AppContext, rows: list[dict[str, Any]], sort: str) -> go.Figure:
    rows = rows[:30]
    names = [r["name"] for r in rows]
    fig = go.Figure([go.Bar(x=names, y=[r[sort] for r in rows], name=ctx.t("assess.current"), marker_color="#38c8ff"),
                     go.Bar(x=names, y=[r["previous"][sort] for r in rows], name=ctx.t("assess.previous"),
                            marker_color="rgba(127,157,189,0.55)")])
    fig.update_layout(barmode="group", margin={"l": 40, "r": 10, "t": 30, "b": 60}, paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="rgba(0,0,0,0)", font={"color": "#9fb7d0"}, title=ctx.t(f"assess.fig.{sort}"),
                      legend={"orientation": "h"})
    return fig


def _crumbs(ctx: AppContext, within: list[str]) -> list[Any]:
    reg = data.registry(ctx)
    parts = [ctx.t("assess.city")] + [reg.node(n).name if reg.node(n) else n for n in within]
    return [html.Span(p, className="assess-crumb") for p in parts]


def _detail(ctx: AppContext, name: str, value: Any) -> str:
    """The words beside a worker on a morning list: last seen online, or how many visits are due."""
    if name == "workers_offline":
        if value is None:
            return ctx.t("assess.morning.never_online")
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        local = when.astimezone(ZoneInfo(ctx.settings.city.timezone))
        return ctx.t("assess.morning.last_online", when=local.strftime("%m-%d %H:%M"))
    if name == "visits_due":
        return ctx.t("assess.morning.persons_due", n=value)
    return ctx.t("assess.morning.no_entries_since")


def _morning(ctx: AppContext) -> Any:
    """Today's lists; a list whose source is not installed says so, in words."""
    t = ctx.t
    user = current_user()
    scope = data.visible_communities(ctx, user)
    with Session(ctx.engine) as session:
        people.configure(ctx.settings)
        tz = ctx.settings.city.timezone
        got = morning.lists(session, scope, ctx.now().astimezone(ZoneInfo(tz)).date(), tz)
    out = []
    for name, rows in got.items():
        out.append(html.H3(t(f"assess.morning.{name}")))
        if rows is None:
            what = t(f"assess.source.{morning.CHECKS[name].source}")
            out.append(html.P(t("assess.morning.unavailable", what=what), className="desk-msg",
                              **{"data-morning": name, "data-available": "false"}))
        elif not rows:
            out.append(html.P(t("assess.morning.none"), className="desk-muted", **{"data-morning": name}))
        else:
            out.append(html.Ul([html.Li(f"{r.get('name') or r['worker_id']} ({r['worker_id']}) · "
                                        f"{_detail(ctx, name, r.get('detail'))}", **{"data-worker": r["worker_id"]})
                                for r in rows], **{"data-morning": name}))
    missing = [u for u in data.unit_states(ctx, user) if u.state in ("off_post", "silent", "no_position")]
    out.append(html.H3(t("assess.morning.units")))
    out.append(html.Ul([html.Li(f"{u.unit_id} {u.name} · {t('desk.state.' + u.state)}") for u in missing],
                       id=P + "units") if missing else html.P(t("assess.morning.units_none"), className="desk-muted"))
    return out


def register_callbacks(app, ctx: AppContext) -> None:
    @app.callback(Output(P + "table", "children"), Output(P + "chart", "figure"), Output(P + "csv", "href"),
                  Output(P + "review", "href"), Output(P + "crumbs", "children"), Output(P + "label", "children"),
                  Output(P + "pending", "children"),
                  Input(P + "period", "value"), Input(P + "which", "value"), Input(P + "by", "value"),
                  Input(P + "sort", "value"), Input(P + "within", "data"), Input(P + "tick", "n_intervals"))
    def ranking(kind, which, by, sort, within, _tick):
        within = within or []
        at = _at(kind, which, ctx)
        q = query(kind, by, within[-1] if within else None, at)
        user = current_user()
        people.configure(ctx.settings)  # the acceptance limit and visit cadence in force
        rep = report.assess(ctx.engine, data.registry(ctx), kind, by, ctx.now(), ctx.settings.city.timezone,
                            scope=data.visible_communities(ctx, user), within=q.get("within"), at=at)
        rows = report.ranked(rep.rows, sort)
        label = ctx.t("assess.period_label", label=rep.period.label, previous=rep.previous.label)
        pending = ctx.t("assess.pending", names=ctx.t("assess.sep").join(ctx.t(f"assess.source.{n}") for n in rep.unavailable)) \
            if rep.unavailable else ""
        review = {"month": periods.period_of("month", at or ctx.now(), ctx.tz).start.date().isoformat()}
        return (_table(ctx, rows, by, sort), _chart(ctx, rows, sort),
                f"/api/assessment.csv?{urlencode({**q, 'sort': sort})}", f"/assessment/review?{urlencode(review)}",
                _crumbs(ctx, within), label, pending)

    @app.callback(Output(P + "within", "data"), Output(P + "by", "value"),
                  Input({"type": P + "row", "key": ALL}, "n_clicks"), Input(P + "up", "n_clicks"),
                  State(P + "within", "data"), State(P + "by", "value"), prevent_initial_call=True)
    def drill(clicks, _up, within, by):
        """A click on a district opens its communities, on a community its grid workers; 'up' goes back."""
        within = list(within or [])
        trig = callback_context.triggered_id
        if trig == P + "up":
            if not within:
                return no_update, no_update
            within.pop()
            return within, "district" if not within else "community"
        fired = callback_context.triggered[0].get("value") if callback_context.triggered else None
        if not isinstance(trig, dict) or not fired or by not in DRILL:  # rows being drawn are not clicks
            return no_update, no_update
        return within + [trig["key"]], DRILL[by]

    @app.callback(Output(P + "morning", "children"), Output(P + "morning-title", "children"),
                  Input(P + "tick", "n_intervals"))
    def morning_check(_tick):
        return _morning(ctx), ctx.t("assess.morning", date=ctx.now().date().isoformat())


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=45, layout=layout, register_callbacks=register_callbacks))
