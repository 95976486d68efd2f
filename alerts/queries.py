"""Every scoped read of alerts, once: lists, one alert, the silence marks, the wall's feed order.

The HTTP API, the desks and the wall read through these functions with the ``Actor`` of the person asking, so
"what may this person see" is decided here and in ``alerts.commands`` only: an alert outside
``actor.communities`` is absent from a list and ``NotFound`` as a detail, whatever filter was asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from alerts import silences
from alerts.commands import alert_in_scope
from onescreen.commands import Actor
from onescreen.db.models import Alert

FEED_STATUSES = ("open", "acknowledged", "dispatched", "on_scene")  # resolved and closed leave the feed
_FEED_GROUP = {"open": 0, "acknowledged": 1, "dispatched": 2, "on_scene": 2}
_LEVEL_RANK = {"red": 3, "orange": 2, "yellow": 1}


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What a list asks for; every field optional. Several values of one field are alternatives."""

    status: Sequence[str] = ()
    level: Sequence[str] = ()
    rule: Sequence[str] = ()
    district_id: str | None = None
    community_id: str | None = None
    since: datetime | None = None
    assignee: str | None = None  # the patrol unit it was dispatched to
    by_update: bool = False  # newest change first (a duty unit's list) instead of newest opened
    limit: int = 200


def listing(session: Session, actor: Actor, f: AlertFilter = AlertFilter()) -> list[Alert]:
    """Alerts newest first, filtered, cut to the actor's scope (a community filter cannot reach outside it)."""
    q = select(Alert).where(Alert.alert_id.is_not(None))
    if f.status:
        q = q.where(Alert.status.in_(list(f.status)))
    if f.level:
        q = q.where(Alert.level.in_(list(f.level)))
    if f.rule:
        q = q.where(Alert.rule.in_(list(f.rule)))
    if f.district_id:
        q = q.where(Alert.district_id == f.district_id)
    if f.community_id:
        q = q.where(Alert.community_id == f.community_id)
    if f.since is not None:
        q = q.where(Alert.opened_at >= f.since)
    if f.assignee is not None:
        q = q.where(Alert.assignee == f.assignee)
    if actor.communities is not None:
        q = q.where(Alert.community_id.in_(sorted(actor.communities))) if actor.communities else q.where(false())
    newest = Alert.updated_at if f.by_update else Alert.opened_at
    q = q.order_by(newest.desc(), Alert.id.desc()).limit(max(1, min(1000, f.limit)))
    return list(session.execute(q).scalars())


def get(session: Session, actor: Actor, alert_id: str) -> Alert:
    """One alert in the actor's scope; ``NotFound`` otherwise (the same answer as for no such alert)."""
    return alert_in_scope(session, actor, alert_id)


def location(alert: Any) -> dict[str, Any]:
    """The matcher fields of an alert row or a wall row dict."""
    get_ = alert.get if isinstance(alert, dict) else lambda k: getattr(alert, k)
    return {"district_id": get_("district_id"), "community_id": get_("community_id"), "cell_id": get_("cell_id")}


def silenced_ids(session: Session, alerts: Iterable[Alert], now: datetime) -> set[str]:
    """The ids of those alerts an active silence covers now (shown 静默中 on every screen)."""
    current = silences.current(session, now)
    if not current:
        return set()
    return {a.alert_id for a in alerts
            if silences.first_match(current, a.rule, a.subject_id, location(a), now) is not None}


def feed_order(row: dict[str, Any]) -> tuple:
    """The wall feed's order, most urgent first: open before acknowledged before dispatched/on scene; within
    that escalated first, then the newest, then the higher level."""
    return (_FEED_GROUP.get(row["status"], 9), row.get("escalated") is None,
            -row.get("ts", 0.0), -_LEVEL_RANK.get(row["level"], 0))
