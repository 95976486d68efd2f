"""Small pieces the desk pages share: names of codes, level/status badges, times, a history timeline, a point map."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dash import dcc, html

from alerts import notes
from alerts.store import SYSTEM
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
    if secs >= 86400:
        return ctx.t("desk.days_hours", d=secs // 86400, h=secs % 86400 // 3600)
    if secs >= 3600:
        return ctx.t("desk.hours_mins", h=secs // 3600, m=secs % 3600 // 60)
    return ctx.t("desk.min_secs", m=secs // 60, s=secs % 60) if secs >= 60 else ctx.t("desk.secs", s=secs)


def fmt_m(metres: float | None) -> str:
    if metres is None:
        return "—"
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def timeline(ctx: AppContext, history: Iterable[dict[str, Any]]) -> html.Ul:
    """The audit trail of an alert: when, who, from where, what, note."""
    items = []
    for h in history:
        who = actor_name(ctx, h)
        where = f" · {h['remote_addr']}" if h.get("remote_addr") else ""
        unit = f" → {h['unit_id']}" if h.get("unit_id") and h.get("action") in ("dispatch", "receipt") else ""
        items.append(html.Li(className=f"tl-{h.get('action')}", children=[
            html.Span(fmt_time(ctx, h.get("at"), True) + " ", className="desk-muted"),
            html.Span(name_of(ctx, "desk.action", h.get("action")) + unit + " "),
            html.Span(who + where, className="who"),
            html.Div(note_text(ctx, h), className="desk-muted") if h.get("note") else None,
        ]))
    return html.Ul(items, className="desk-timeline")


def _pattern(template: str) -> re.Pattern[str]:
    """``"unit {unit} within {dist} m"`` -> a regex with a named group per field."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)) + "$")


# the engine's notes (alerts.notes) -> text key desk.note.<name>; rule and level fields are shown by name
SYSTEM_NOTES = tuple((_pattern(getattr(notes, name)), f"desk.note.{name.lower()}")
                     for name in ("RAISED", "CLEARED", "LEVEL", "AUTO_ON_SCENE", "ESCALATED", "REMINDER"))


def actor_name(ctx: AppContext, h: dict[str, Any]) -> str:
    """Who made a history entry: a username, or the system in the screen's language."""
    actor = h.get("actor") or SYSTEM
    return ctx.t("desk.system") if actor == SYSTEM else actor


def note_text(ctx: AppContext, h: dict[str, Any]) -> str:
    """The note as stored, except a receipt's default note and the engine's own notes, which are shown in the
    screen's language (the stored text stays as written: it is the audit trail)."""
    note = h["note"]
    if h.get("action") == "receipt" and note == RECEIPT_NOTE:
        return ctx.t("desk.received")
    if h.get("actor") not in (None, SYSTEM):
        return note  # a person's words
    for pattern, key in SYSTEM_NOTES:
        if m := pattern.match(note):
            fields = m.groupdict()
            if "rule" in fields:
                fields["rule"] = name_of(ctx, "rule", fields["rule"])
            if "level" in fields:
                fields["level"] = name_of(ctx, "level", fields["level"])
            return ctx.t(key, **fields)
    return note


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
