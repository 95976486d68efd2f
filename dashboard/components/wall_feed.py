"""The wall's live alert feed (``alert-feed``, CONTRACT §4): which alerts, in which order, and their items.

``select(rows, silenced, now)`` is pure: of the alerts not yet resolved in the scope (the wall reader's open
rows), the most urgent first (``alerts.queries.feed_order``: open before acknowledged before dispatched and on
scene; escalated first; then the newest), at most ``FEED_SIZE``, and how many more there are. Resolved and
closed alerts leave the feed. Each item is marked escalated (升级) and silenced (静默中) and shows its age from
the first render (the browser ticks it on, ``wall.js``).

The panel holds fewer items than ``FEED_SIZE`` on a small wall: the browser hides the items that do not fit and
adds them to the "还有 N 条" line (``data-more`` + hidden ones, ``wall.js`` ``fitFeed``), so the overflow is never
silent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dash import html

from alerts import queries, silences
from dashboard import ids
from dashboard.components.panels import place_name

FEED_SIZE = 12
HANDLED = ("resolved", "closed")

def silenced_ids(rows: Iterable[dict[str, Any]], current: list[Any], now: datetime) -> set[str]:
    """The ids of wall rows an active silence covers (``alerts.silences.matches``)."""
    if not current:
        return set()
    return {r["id"] for r in rows if silences.first_match(current, r["rule"], r.get("subject") or "",
                                                          {"district_id": r.get("district"),
                                                           "community_id": r.get("community"),
                                                           "cell_id": r.get("cell")}, now) is not None}


def select(rows: Iterable[dict[str, Any]], silenced: set[str], size: int = FEED_SIZE) -> dict[str, Any]:
    """``{"items": [...], "more": n}``: the most urgent ``size`` alerts not yet resolved, each with its
    ``silenced`` mark, and the number left out."""
    live = sorted((r for r in rows if r["status"] not in HANDLED), key=queries.feed_order)
    items = [{**r, "silenced": r["id"] in silenced} for r in live[:size]]
    return {"items": items, "more": max(0, len(live) - size)}


def age_text(ctx: Any, seconds: float) -> str:
    """The age as the browser ticks it (``wall.js`` ``age``), for the first render."""
    s = max(0, round(seconds))
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= span:
            return ctx.t(f"feed.age.{unit}", n=s // span)
    return ctx.t("feed.age.s", n=s)


def feed_items(ctx: Any, feed: dict[str, Any] | list[dict[str, Any]], now: float | None = None) -> list[html.Li]:
    """One item per alert: colour bar, rule in the screen language, status, marks, place and age; then the
    "还有 N 条" line (always there, hidden while nothing is left out). A bare list is a feed with nothing more."""
    t = ctx.t
    doc = {"items": feed, "more": 0} if isinstance(feed, list) else feed
    rows, more = doc["items"], doc["more"]
    if not rows:
        return [html.Li(t("alerts.empty"), className="alert-item alert-empty")]
    now = time.time() if now is None else now
    items = []
    for a in rows:
        level = "green" if a["status"] in HANDLED else a["level"]
        marks = [html.Span(t("feed.escalated"), className="alert-mark mark-escalated") if a.get("escalated") else None,
                 html.Span(t("feed.silenced"), className="alert-mark mark-silenced") if a.get("silenced") else None]
        items.append(html.Li(
            id={"type": ids.FEED_ITEM, "id": a["id"]}, n_clicks=0,
            className=f"alert-item level-{level} status-{a['status']}"
                      + (" escalated" if a.get("escalated") else "") + (" silenced" if a.get("silenced") else ""),
            **{"data-alert-id": a["id"], "data-ts": int(a["ts"] * 1000)},
            children=[
                html.Div(className="alert-line", children=[
                    html.Span(t(f"rule.{a['rule']}"), className="alert-rule"),
                    html.Span([*[m for m in marks if m is not None],
                               html.Span(t(f"status.{a['status']}"), className="alert-status-text")],
                              className="alert-status"),
                ]),
                html.Div(className="alert-line alert-sub", children=[
                    html.Span(place_name(ctx, a), className="alert-place"),
                    html.Span(age_text(ctx, now - a["ts"]), className="alert-age"),
                ]),
            ]))
    items.append(html.Li(t("feed.more", n=more), className="alert-more" + ("" if more else " hidden"),
                         **{"data-more": str(more), "data-template": t("feed.more", n="{n}")}))
    return items
