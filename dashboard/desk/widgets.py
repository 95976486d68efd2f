"""Small pieces the desk pages share: names of codes, level/status badges, times, a history timeline, a point map."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dash import dcc, html

from dashboard.context import AppContext
from dashboard.desk.actions import RECEIPT_NOTE

# The two statuses the desk words differently from the wall (dashboard.desk.texts); the rest are the wall's.
DESK_STATUS = frozenset({"acknowledged", "resolved"})


def name_of(ctx: AppContext, family: str, code: str | None) -> str:
    """The screen name of a code (``rule``, ``level``, ``desk.action``…), or the code itself if it has none."""
    key = f"{family}.{code}"
    text = ctx.t(key)
    return (code or "") if text == key else text


def status_name(ctx: AppContext, status: str) -> str:
    return name_of(ctx, "desk.status" if status in DESK_STATUS else "status", status)


SELECT_LABELS = {"selected_count": "count", "select_all": "all", "deselect_all": "none", "search": "search",
                 "clear_search": "clear_search", "clear_selection": "clear", "no_options_found": "no_options"}


def dropdown(ctx: AppContext, **props: Any) -> dcc.Dropdown:
    """A dcc.Dropdown whose own texts ("5 selected", "No options found"…) are in the screen's language."""
    labels = {prop: ctx.t(f"desk.select.{key}") for prop, key in SELECT_LABELS.items()}
    return dcc.Dropdown(labels=labels, **props)


def level_badge(ctx: AppContext, level: str) -> html.Span:
    return html.Span(name_of(ctx, "desk.level", level), className=f"lvl lvl-{level}")


def status_badge(ctx: AppContext, status: str) -> html.Span:
    return html.Span(status_name(ctx, status), className=f"st st-{status}")


def fmt_time(ctx: AppContext, value: datetime | str | None, with_date: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:

        value = value.replace(tzinfo=UTC)
    return value.astimezone(ctx.tz).strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def fmt_secs(ctx: AppContext, secs: float | None) -> str:
    if secs is None:
        return "—"
    secs = int(round(secs))
    return ctx.t("desk.min_secs", m=secs // 60, s=secs % 60) if secs >= 60 else ctx.t("desk.secs", s=secs)


def fmt_m(metres: float | None) -> str:
    if metres is None:
        return "—"
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def timeline(ctx: AppContext, history: Iterable[dict[str, Any]]) -> html.Ul:
    """The audit trail of an alert: when, who, from where, what, note."""
    items = []
    for h in history:
        who = h.get("actor") or "system"
        where = f" · {h['remote_addr']}" if h.get("remote_addr") else ""
        unit = f" → {h['unit_id']}" if h.get("unit_id") and h.get("action") in ("dispatch", "receipt") else ""
        items.append(html.Li(className=f"tl-{h.get('action')}", children=[
            html.Span(fmt_time(ctx, h.get("at"), True) + " ", className="desk-muted"),
            html.Span(name_of(ctx, "desk.action", h.get("action")) + unit + " "),
            html.Span(who + where, className="who"),
            html.Div(_note(ctx, h), className="desk-muted") if h.get("note") else None,
        ]))
    return html.Ul(items, className="desk-timeline")


def _note(ctx: AppContext, h: dict[str, Any]) -> str:
    """The note as stored, except a receipt's default note, which is shown in the screen's language."""
    return ctx.t("desk.received") if h.get("action") == "receipt" and h["note"] == RECEIPT_NOTE else h["note"]


def point_map(points: list[tuple[float, float, str, str]], height: int = 160) -> html.Div:
    """Points (lat, lon, kind, label) placed by their relative positions in a small box (no tiles: offline)."""
    points = [p for p in points if p[0] is not None and p[1] is not None]
    if not points:
        return html.Div(className="desk-spot-map", style={"height": f"{height}px"})
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    pad = 0.0005
    s, n = min(lats) - pad, max(lats) + pad
    w, e = min(lons) - pad, max(lons) + pad
    dots = []
    for lat, lon, kind, label in points:
        x = 6 + 88 * (lon - w) / (e - w)
        y = 6 + 88 * (n - lat) / (n - s)
        dots.append(html.Div(className=f"desk-map-dot {kind}", title=label,
                             style={"left": f"{x:.1f}%", "top": f"{y:.1f}%"}))
        dots.append(html.Span(label, className="desk-muted",
                              style={"position": "absolute", "left": f"calc({x:.1f}% + 8px)",
                                     "top": f"calc({y:.1f}% - 8px)", "fontSize": "12px"}))
    return html.Div(dots, className="desk-spot-map", style={"height": f"{height}px"})
