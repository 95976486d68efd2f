"""An alert's evidence as the desks show it: in full on ``/alerts``, as one line on a phone at ``/duty``.

The rules (``alerts/rules/*``) write evidence as plain JSON under their own keys. Here each known key becomes a
labelled fact in the screen's language: local times, durations in minutes, hours or days, distances in m/km,
codes (reasons, sources, door directions) named, person ids masked (``data.mask_person``); the door events
and the watch-list persons become small tables. A key not listed here is left out rather than shown raw, so a
rule that adds one gives it a label here (text key ``desk.ev.<key>``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import html

from dashboard.context import AppContext
from dashboard.desk import data
from dashboard.desk.widgets import fmt_m, fmt_secs, fmt_time, name_of

# (key, kind) in the order shown; the kind picks the formatting (_text below)
FACTS: tuple[tuple[str, str], ...] = (
    ("persons", "count"), ("peak", "count"), ("count", "count"), ("attempts", "count"), ("tracks", "count"),
    ("dwell_s", "duration"), ("unseen_s", "duration"), ("window_s", "duration"), ("distance_m", "distance"),
    ("reason", "code"), ("source", "code"), ("device_kind", "code"), ("watch_level", "level"),
    ("person_id", "person"), ("door_id", "text"), ("camera_id", "text"), ("zone", "zone"), ("track_id", "text"),
    ("device_id", "text"), ("unit_id", "text"), ("post_id", "text"), ("last_door_id", "text"), ("cameras", "list"),
    ("last_position", "position"), ("since", "time"), ("last_seen", "time"), ("flapping", "flag"),
    ("days_away", "count"), ("days", "list"), ("seen_in", "list"), ("window_days", "count"),
    ("home_community_id", "text"),  # key_person_hiding (issue 15)
    ("silenced", "flag"),  # set by the engine's suppress stage (alerts.stages), not by a rule
    ("crossings", "count"), ("direction", "code"), ("line", "text"), ("hours", "text"),  # entrance_surge
)
SHORT = ("persons", "peak", "count", "attempts", "dwell_s", "unseen_s", "distance_m", "reason", "since")  # /duty
MAX_ROWS = 20


def _time(ctx: AppContext, value: Any) -> str:
    """ISO 8601 (what the rules write) or epoch ms, in the screen's timezone with the date."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_time(ctx, datetime.fromtimestamp(value / 1000, UTC), True)
    try:
        return fmt_time(ctx, str(value), True)
    except ValueError:
        return str(value)


def _text(ctx: AppContext, key: str, kind: str, value: Any) -> str | None:
    """The shown text of one fact, or None when there is nothing to show."""
    if value is None or value == "" or value == []:
        return None
    if kind == "count":
        return None if isinstance(value, (list, dict)) else str(value)  # key_person_gathering's persons: a table
    if kind == "duration":
        return fmt_secs(ctx, float(value))
    if kind == "distance":
        return fmt_m(float(value))
    if kind == "code":
        return name_of(ctx, f"desk.ev.{key}", str(value))
    if kind == "level":
        return name_of(ctx, "level", str(value))
    if kind == "person":
        return data.mask_person(str(value))
    if kind == "zone":
        return ctx.t("desk.ev.whole_view") if value == "*" else str(value)
    if kind == "list":
        return ctx.t("desk.ev.sep").join(str(v) for v in value) if isinstance(value, list) else str(value)
    if kind == "position":
        if not isinstance(value, dict) or value.get("lat") is None:
            return None
        at = f"{_time(ctx, value['ts'])} · " if value.get("ts") else ""
        return f"{at}{float(value['lat']):.5f}, {float(value['lon']):.5f}"
    if kind == "time":
        return _time(ctx, value)
    if kind == "flag":
        return ctx.t("desk.admin.yes") if value else None
    return str(value)


def facts(ctx: AppContext, ev: dict[str, Any], keys: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(label, text) for each known key of ``ev`` that has something to show, in FACTS order."""
    out = []
    for key, kind in FACTS:
        if (keys is None or key in keys) and key in ev:
            text = _text(ctx, key, kind, ev[key])
            if text is not None:
                out.append((ctx.t(f"desk.ev.{key}"), text))
    return out


def door_events(ev: dict[str, Any]) -> list[dict[str, Any]]:
    """The door events of an alert: a person's attempts (door lingering) or a watched door's latest events (a
    camera zone at a door: ``evidence.door.events``)."""
    door = ev.get("door") if isinstance(ev.get("door"), dict) else {}
    events = ev.get("events") or door.get("events") or []
    return [e for e in events if isinstance(e, dict)][-MAX_ROWS:] if isinstance(events, list) else []


def render(ctx: AppContext, ev: dict[str, Any]) -> list[Any]:
    """The facts as a definition list, then the door events and the watch-list persons as tables."""
    t = ctx.t
    out: list[Any] = []
    pairs = facts(ctx, ev)
    if pairs:
        out.append(html.Dl([part for label, text in pairs for part in (html.Dt(label), html.Dd(text))],
                           className="desk-kv"))
    events = door_events(ev)
    if events:
        head = html.Tr([html.Th(t(k)) for k in ("desk.col.time", "desk.alerts.door", "desk.alerts.person",
                                                "desk.alerts.direction", "desk.alerts.result", "desk.ev.method")])
        rows = [html.Tr([html.Td(_time(ctx, e.get("ts"))), html.Td(e.get("door_id") or ev.get("door_id") or "—"),
                         html.Td(data.mask_person(e.get("person_id"))),
                         html.Td(name_of(ctx, "desk.ev.direction", e.get("direction"))),
                         html.Td(name_of(ctx, "desk.ev.result", e.get("result"))),
                         html.Td(name_of(ctx, "desk.ev.method", e.get("method")) or "—")])
                for e in events]
        out += [html.H3(t("desk.alerts.door_events")), html.Table([head, *rows], className="desk-table",
                                                                   id="desk-evidence-door-events")]
    persons = ev.get("persons") if isinstance(ev.get("persons"), list) else []
    persons = [p for p in persons if isinstance(p, dict)][:MAX_ROWS]
    if persons:
        head = html.Tr([html.Th(t(k)) for k in ("desk.alerts.person", "desk.ev.watch_level", "desk.ev.seen_at")])
        rows = [html.Tr([html.Td(data.mask_person(p.get("person_id"))),
                         html.Td(name_of(ctx, "level", p.get("watch_level"))), html.Td(_time(ctx, p.get("seen_at")))])
                for p in persons]
        out += [html.H3(t("desk.ev.watch_persons")), html.Table([head, *rows], className="desk-table",
                                                                 id="desk-evidence-persons")]
    return out


def summary(ctx: AppContext, ev: dict[str, Any]) -> str:
    """One line for a phone: the few facts that say what happened (``人数 14 · 起始 11-28 21:09:39``)."""
    return " · ".join(f"{label} {text}" for label, text in facts(ctx, ev, SHORT))
