"""The wall's entrances panel (issue 18): pure builders from ``readers.entrances`` figures to components.

In and out today, this hour's in/out, the people inside as an estimate (only where every entrance of a site is
counted, ``dashboard.entrance_sites``) and the busiest gates today, each figure with a tooltip saying what it
counts. The panel is a section of the wall's one live refresh (``pages/wall.py: live_sections``), so it is sent
only when its figures change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from dashboard.components.panels import panel
from dashboard.context import AppContext

BODY = "wall-entrances"


def entrance_panel(ctx: AppContext) -> html.Section:
    """The empty panel of the layout; the first refresh fills it."""
    return panel(ctx.t("panel.entrances"), html.Div(id=BODY, className="ent-body"), "panel-entrances")


def _fig(label: str, value: Any, key: str, tip: str, cls: str = "") -> html.Div:
    return html.Div(className=f"ent-kpi {cls}".strip(), title=tip, **{"data-kpi": key}, children=[
        html.Div(value, className="ent-value"), html.Div(label, className="ent-label")])


def entrance_body(ctx: AppContext, fig: dict[str, Any] | None, now: datetime) -> list[Any]:
    """The panel's children for the figures of ``readers.entrances.scope_figures`` (None: no gate in scope)."""
    t = ctx.t
    if fig is None:
        return [html.Div(t("ent.none"), className="ent-empty")]
    kpis = [
        _fig(t("ent.today_in"), f"{fig['today_in']:,}", "today_in", t("ent.today_in.tip", gates=fig["gates"])),
        _fig(t("ent.today_out"), f"{fig['today_out']:,}", "today_out", t("ent.today_out.tip", gates=fig["gates"])),
        _fig(t("ent.hour"), f"{fig['hour_in']:,}/{fig['hour_out']:,}", "hour",
             t("ent.hour.tip", hour=f"{now.hour:02d}")),
    ]
    if fig.get("inside") is not None:
        kpis.append(_fig(t("ent.inside"), f"≈{fig['inside']:,}", "inside",
                         t("ent.inside.tip", sites=fig["inside_sites"]), "ent-estimate"))
    top = max([1, *(g["in"] + g["out"] for g in fig["busiest"])])
    rows = [html.Li(className="ent-gate", title=t("ent.gate.tip", name=g["name"], in_=g["in"], out=g["out"]),
                    **{"data-gate": g["gate"]}, children=[
        html.Span(g["name"], className="ent-gate-name"),
        html.Span(className="ent-gate-bar", children=html.Span(
            className="ent-gate-fill", style={"width": f"{100 * (g['in'] + g['out']) / top:.0f}%"})),
        html.Span(f"↓{g['in']:,} ↑{g['out']:,}", className="ent-gate-n"),
    ]) for g in fig["busiest"]]
    gates = (html.Ul(rows, className="ent-gates", title=t("ent.busiest")) if rows
             else html.Div(t("ent.quiet"), className="ent-empty"))
    return [html.Div(kpis, className=f"ent-kpis ent-kpis-{len(kpis)}"), gates]
