"""Silences (Alertmanager's model): what they match, and the commands that create, list and lift them.

A silence has matchers (``rule``, ``subject_id``, ``district_id``, ``community_id``, ``cell_id``; a matcher
left empty matches anything), a creator, a required reason, a start and an end. It never reaches beyond its
creator's scope: the communities the creator could see are stored with it (``scope``), so an empty matcher
means "my whole area", and a matcher outside that area is refused (403). While a silence is active, a matching
alert is still raised, stored and shown on every screen (marked 静默中) but it is not pushed on MQTT and it
does not escalate (``alerts.stages.suppress``, ``alerts.followup.escalate_due``).

Commands (``create``, ``lift``) have the shape of ``alerts.commands``: ``(session, actor, input, now, out)``,
role and scope checked, input validated, the change written with its ``audit_log`` row, the screens told.
``matches`` is pure: the engine's silence stage and the read side (``alerts.queries``) share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.commands import Effects
from alerts.lifecycle import SILENCE_ROLES
from alerts.rules import RULES
from onescreen import names
from onescreen.commands import Actor, Conflict, Forbidden, Invalid, NotFound
from onescreen.db.models import AlertSilence, AuditLog, GridNode
from onescreen.timeutil import BadTime, iso, parse_ts

MAX_MINUTES = 7 * 24 * 60
MAX_REASON = 2000
MATCHERS = ("rule", "subject_id", "district_id", "community_id", "cell_id")


@dataclass(frozen=True, slots=True)
class SilenceInput:
    """``POST /api/silences``: matchers, a reason, and either ``minutes`` from the start or an ``until``."""

    reason: Any = None
    rule: Any = None
    subject_id: Any = None
    district_id: Any = None
    community_id: Any = None
    cell_id: Any = None
    minutes: Any = None
    starts_at: Any = None
    until: Any = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SilenceInput:
        """From a JSON object; Invalid naming a field this input does not have."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise Invalid("desk.error.silence_field", f"unknown field {unknown[0]!r}; known: "
                          f"{', '.join(sorted(known))}", field=unknown[0])
        return cls(**body)


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def active(s: AlertSilence, now: datetime) -> bool:
    return _aware(s.starts_at) <= now < _aware(s.until)


def matches(s: AlertSilence, rule: str, subject_id: str, location: Mapping[str, Any], now: datetime) -> bool:
    """True if ``s`` is active at ``now`` and silences an alert of ``rule`` on ``subject_id`` at ``location``
    (``district_id``/``community_id``/``cell_id``); never outside the silence's scope."""
    if not active(s, now):
        return False
    community = location.get("community_id")
    if s.scope is not None and community not in s.scope:
        return False
    wanted = {"rule": rule, "subject_id": subject_id, "district_id": location.get("district_id"),
              "community_id": community, "cell_id": location.get("cell_id")}
    return all(getattr(s, m) is None or getattr(s, m) == wanted[m] for m in MATCHERS)


def first_match(silences: Iterable[AlertSilence], rule: str, subject_id: str, location: Mapping[str, Any],
                now: datetime) -> AlertSilence | None:
    return next((s for s in silences if matches(s, rule, subject_id, location, now)), None)


def current(session: Session, now: datetime) -> list[AlertSilence]:
    """Silences not ended at ``now`` (active, or starting later), soonest end first."""
    return list(session.execute(select(AlertSilence).where(AlertSilence.until > now)
                                .order_by(AlertSilence.until)).scalars())


def state(s: AlertSilence, now: datetime) -> str:
    """``pending`` (starts later), ``active``, ``lifted`` (ended early by hand) or ``expired``."""
    if s.lifted_at is not None:
        return "lifted"
    if now < _aware(s.starts_at):
        return "pending"
    return "active" if now < _aware(s.until) else "expired"


def to_json(s: AlertSilence, tz: str, now: datetime) -> dict[str, Any]:
    """The API's silence: matchers, scope, reason, times in the configured zone, state."""
    def t(dt: datetime | None) -> str | None:
        return iso(_aware(dt), tz) if dt is not None else None

    return {"id": s.id, "matchers": {m: getattr(s, m) for m in MATCHERS}, "scope": s.scope,
            "reason": s.reason, "starts_at": t(s.starts_at), "until": t(s.until), "created_by": s.created_by,
            "created_at": t(s.created_at), "lifted_at": t(s.lifted_at), "lifted_by": s.lifted_by,
            "state": state(s, now)}


# ------------------------------------------------------------------ commands
def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid("desk.error.silence_value", f"{name} must be a string of at most {limit} characters",
                      field=name)
    return value.strip() or None


def _when(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_ts(value)
    except (BadTime, TypeError, ValueError):
        raise Invalid("desk.error.silence_value", f"{name} must be ISO 8601 with an offset or epoch "
                      "milliseconds", field=name) from None


def _node(session: Session, node_id: str | None, level: str, name: str) -> GridNode | None:
    if node_id is None:
        return None
    node = session.get(GridNode, node_id)
    if node is None or node.level != level:
        raise Invalid("desk.error.silence_node", f"{name} {node_id!r} is not a {level} of the registry",
                      field=name, node=node_id)
    return node


def _check_scope(session: Session, actor: Actor, district: GridNode | None, community: GridNode | None,
                 cell: GridNode | None) -> None:
    """Forbidden when a matcher lies outside the actor's communities (or contradicts another matcher)."""
    if community is not None and district is not None and community.parent_id != district.id:
        raise Invalid("desk.error.silence_mismatch", f"community {community.id} is not in district {district.id}")
    if cell is not None and community is not None and cell.parent_id != community.id:
        raise Invalid("desk.error.silence_mismatch", f"cell {cell.id} is not in community {community.id}")
    if actor.communities is None:
        return
    outside = None
    if cell is not None and cell.parent_id not in actor.communities:
        outside = cell.id
    elif community is not None and community.id not in actor.communities:
        outside = community.id
    elif district is not None and not session.execute(
            select(GridNode.id).where(GridNode.parent_id == district.id,
                                      GridNode.id.in_(sorted(actor.communities)))).first():
        outside = district.id
    if outside is not None:
        raise Forbidden("desk.error.silence_scope", f"{outside} is outside your area", node=outside)


def _audit(session: Session, actor: Actor, action: str, s: AlertSilence, detail: dict[str, Any]) -> None:
    session.add(AuditLog(actor=actor.username, user_id=actor.user_id, role=actor.role, action=action,
                         target=f"silence {s.id}", detail=detail, remote_addr=actor.remote_addr))


def _signal(out: Effects, s: AlertSilence, what: str) -> None:
    """Tell the screens (their change channel) that silences changed: alert marks may change."""
    out.pipe.publish(names.CHANGES, orjson.dumps({"type": "silence", "id": s.id, "what": what}))
    out.pipe.incr(names.CHANGES_VERSION)  # the wall's open-alert cache holds the silences too


def create(session: Session, actor: Actor, inp: SilenceInput, now: datetime, out: Effects) -> AlertSilence:
    """A new silence within the actor's scope (supervisor, admin); audited as ``silence_create``."""
    if actor.role not in SILENCE_ROLES:
        raise Forbidden("desk.error.silence_role", f"role {actor.role} may not silence alerts")
    reason = _text(inp.reason, "reason", MAX_REASON)
    if reason is None:
        raise Invalid("desk.error.silence_reason", "reason is required: why are these alerts silenced?")
    rule = _text(inp.rule, "rule", 32)
    if rule is not None and rule not in RULES:
        raise Invalid("desk.error.silence_rule", f"rule {rule!r} is not one of {', '.join(RULES)}", rule=rule)
    subject_id = _text(inp.subject_id, "subject_id", 300)
    ids = {m: _text(getattr(inp, m), m, 64) for m in ("district_id", "community_id", "cell_id")}
    district = _node(session, ids["district_id"], "district", "district_id")
    community = _node(session, ids["community_id"], "community", "community_id")
    cell = _node(session, ids["cell_id"], "cell", "cell_id")
    _check_scope(session, actor, district, community, cell)
    starts = _when(inp.starts_at, "starts_at") or now
    until = _when(inp.until, "until")
    if until is None:
        minutes = 60 if inp.minutes is None else inp.minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 < minutes <= MAX_MINUTES:
            raise Invalid("desk.error.silence_range", f"minutes must be a number in (0, {MAX_MINUTES}]")
        until = starts + timedelta(minutes=minutes)
    if not starts < until <= max(starts, now) + timedelta(minutes=MAX_MINUTES) or until <= now:
        raise Invalid("desk.error.silence_range", "until must be after the start and now, at most 7 days on")
    s = AlertSilence(rule=rule, subject_id=subject_id, district_id=ids["district_id"],
                     community_id=ids["community_id"], cell_id=ids["cell_id"],
                     scope=None if actor.communities is None else sorted(actor.communities), starts_at=starts,
                     until=until, created_by=actor.username, user_id=actor.user_id, created_at=now,
                     reason=reason)
    session.add(s)
    session.flush()
    _audit(session, actor, "silence_create", s, {"matchers": {m: getattr(s, m) for m in MATCHERS},
                                                  "scope": s.scope, "reason": reason,
                                                  "starts_at": starts.isoformat(), "until": until.isoformat()})
    _signal(out, s, "create")
    return s


def visible(s: AlertSilence, actor: Actor) -> bool:
    """A silence the actor may see: one that can touch an alert in the actor's scope."""
    if actor.communities is None:
        return True
    if s.community_id is not None:
        return s.community_id in actor.communities
    return s.scope is None or bool(set(s.scope) & actor.communities)


def listing(session: Session, actor: Actor, now: datetime, include_ended: bool = False,
            limit: int = 200) -> list[AlertSilence]:
    """The silences the actor may see, current ones (or, with ``include_ended``, the latest of all)."""
    q = select(AlertSilence).order_by(AlertSilence.id.desc()).limit(5000)
    if not include_ended:
        q = q.where(AlertSilence.until > now)
    return [s for s in session.execute(q).scalars() if visible(s, actor)][:limit]


def lift(session: Session, actor: Actor, silence_id: Any, now: datetime, out: Effects) -> AlertSilence:
    """End a silence now (supervisor, admin, over a silence wholly inside their scope); audited."""
    if actor.role not in SILENCE_ROLES:
        raise Forbidden("desk.error.silence_role", f"role {actor.role} may not lift silences")
    in_range = isinstance(silence_id, int) and 0 < silence_id < 2**63  # an id no database column holds
    s = session.get(AlertSilence, silence_id) if in_range else None
    if s is None or not visible(s, actor):
        raise NotFound("desk.error.silence_unknown", f"no silence {silence_id}", silence=silence_id)
    if actor.communities is not None and (s.scope is None or not set(s.scope) <= actor.communities):
        raise Forbidden("desk.error.silence_scope", f"silence {s.id} reaches beyond your area", node=s.id)
    if _aware(s.until) <= now:
        raise Conflict("desk.error.silence_ended", f"silence {s.id} has already ended", silence=s.id)
    s.until, s.lifted_at, s.lifted_by = now, now, actor.username
    session.flush()
    _audit(session, actor, "silence_lift", s, {"reason": s.reason})
    _signal(out, s, "lift")
    return s
