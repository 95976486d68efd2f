"""The alert detail over the wall: opened by a click on a feed item, with evidence frame and history.

The evidence frame is embedded in the callback's answer (a data: URI of the JPEG kept when the alert fired),
so it rides on the wall's own signed-in callback instead of a second, separately authorised image request.
A pure builder: the read (scoped) is ``dashboard.readers.alerts.alert_detail``.
"""

from __future__ import annotations

import base64
from typing import Any

from dash import html

from dashboard import ids
from dashboard.components.panels import place_name
from dashboard.context import AppContext
from dashboard.desk.data import mask_subject
from dashboard.desk.evidence import SHORT
from dashboard.desk.evidence import facts as evidence_facts
from dashboard.desk.widgets import actor_name, note_text


def detail_shell(ctx: AppContext) -> html.Div:
    """The (hidden) overlay; its body is filled by ``detail_body``."""
    return html.Div(id=ids.ALERT_DETAIL, className="alert-detail hidden", children=[
        html.Div(className="alert-detail-head", children=[
            html.H2(ctx.t("detail.title"), className="panel-title"),
            html.Button(ctx.t("detail.close"), id=ids.ALERT_DETAIL_CLOSE, n_clicks=0, className="map-reset"),
        ]),
        html.Div(id=f"{ids.ALERT_DETAIL}-body", className="alert-detail-body"),
    ])


def detail_body(ctx: AppContext, alert_id: str, found: dict[str, Any] | None | bool) -> Any:
    """Rule, level, status, place, subject, evidence frame and the transition history of one alert (``found``
    from ``readers.alerts.alert_detail``: None = absent or outside the scope, False = the read failed)."""
    t = ctx.t
    if found is False:
        return html.Div(t("wall.data_down"), className="detail-missing")
    if not found:
        return html.Div(alert_id, className="detail-missing")  # outside the user's scope: as if absent
    doc, history, jpeg = found["doc"], found["history"], found["jpeg"]
    loc = doc["location"]
    place = place_name(ctx, {"community": loc["community_id"], "cell": loc["cell_id"], "district": loc["district_id"]})
    facts = [(t("detail.place"), place), (t("detail.subject"), mask_subject(doc["subject"]["kind"], doc["subject"]["id"])),
             (t("detail.opened"), (doc["opened_at"] or "")[:19].replace("T", " ")),
             *evidence_facts(ctx, doc["evidence"] or {}, SHORT)]
    evidence = (html.Img(src="data:image/jpeg;base64," + base64.b64encode(jpeg).decode(), className="detail-img")
                if jpeg else html.Div(t("detail.no_evidence"), className="detail-noimg"))
    return html.Div(className=f"detail level-{doc['level']}", **{"data-alert-id": alert_id}, children=[
        html.Div(className="detail-title", children=[
            html.Span(t(f"rule.{doc['rule']}"), className="alert-rule"),
            html.Span(t(f"level.{doc['level']}"), className=f"detail-level level-{doc['level']}"),
            html.Span(t(f"status.{doc['status']}"), className="alert-status"),
            html.Span(t("feed.silenced"), className="alert-silenced") if found.get("silenced") else None,
            html.Span(alert_id, className="cam-id"),
        ]),
        html.Dl([x for k, v in facts for x in (html.Dt(k), html.Dd(v))], className="detail-facts"),
        html.A(t("cases.to_case"), href=f"/cases?from_alert={alert_id}", className="map-reset to-case"),  # #14
        html.Div(t("detail.evidence"), className="detail-section"), evidence,
        html.Div(t("detail.history"), className="detail-section"),
        html.Ol([html.Li(f"{h['at'][11:19]}  {t('status.' + h['to']) if h['to'] else h['action']}  "
                         f"{actor_name(ctx, h)}{'  ' + note_text(ctx, h) if h.get('note') else ''}")
                 for h in history], className="detail-history"),
    ])
