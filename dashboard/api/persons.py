"""Key persons HTTP API (CONTRACT §7): the scoped list, one person's file, record a visit, re-grade.

A thin adapter over ``persons.queries`` and ``persons.commands``: the account (bearer token or web session,
as for the alerts API: 401 without one) becomes an ``Actor`` whose scope is resolved once
(``visible_communities``); ``authed`` turns a ``CommandError`` into its status (400/403/404/409) and an
English message.

Person ids: the API is the machine interface and, like the alerts API (whose evidence carries ``person_id``),
returns the pseudonymous ids in full to every role allowed to read key persons (operator, supervisor, admin;
grid for its own persons); a client names a person by that id in the URL. Screens mask them (``/persons``,
docs/desks.md). Every file read over the API is written to ``audit_log`` (``person_read``), like an unmask
on the desk, because the file is the one place that ties an id to its sightings.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, g, request

from dashboard.api.common import authed, body as _body, error as _error, json_response as _json
from dashboard.context import app_context
from onescreen.db.models import AuditLog
from onescreen.timeutil import iso, parse_ts
from persons import commands, queries
from persons.cadence import LEVELS, Cadence

bp = Blueprint("persons", __name__)


def settings_view() -> tuple[Cadence, str]:
    s = app_context().settings
    return Cadence.from_settings(s.persons), s.city.timezone


@bp.get("/api/persons")
@authed
def list_persons() -> Response:
    level = request.args.get("level") or None
    if level is not None and level not in LEVELS:
        return _error(400, f"level must be one of {', '.join(LEVELS)}")
    overdue_arg = (request.args.get("visit_overdue") or "").lower()
    if overdue_arg not in ("", "true", "false"):
        return _error(400, "visit_overdue must be true or false")
    cadence, tz = settings_view()
    rows = queries.listing(g.db, g.actor, datetime.now(UTC), cadence, tz,
                           level=level, community_id=request.args.get("community_id") or None,
                           visit_overdue=None if not overdue_arg else overdue_arg == "true")
    return _json(rows)


@bp.get("/api/persons/<person_id>")
@authed
def get_person(person_id: str) -> Response:
    cadence, tz = settings_view()
    actor = g.actor
    doc = queries.person_file(g.db, actor, person_id, datetime.now(UTC), cadence, tz)
    g.db.add(AuditLog(actor=actor.username[:64], user_id=actor.user_id, role=actor.role, action="person_read",
                      target=f"person:{person_id}", detail={"via": "api"}, remote_addr=actor.remote_addr))
    g.db.commit()
    return _json(doc)


@bp.post("/api/persons/<person_id>/visits")
@authed
def add_visit(person_id: str) -> Response:
    body = _body()
    try:
        at = parse_ts(body["at"]) if body.get("at") is not None else None
    except (ValueError, TypeError) as exc:
        return _error(400, f"at: {exc}")
    now = datetime.now(UTC)
    row = commands.record_visit(g.db, g.actor, person_id,
                                commands.VisitInput(at, body.get("method"), body.get("note")), now)
    g.db.commit()
    commands.announce(app_context().redis, person_id)
    _c, tz = settings_view()
    return _json({"person_id": row.person_id, "at": iso(row.at, tz), "method": row.method, "by": row.visitor,
                  "note": row.note, "recorded_at": iso(row.recorded_at, tz)}, 201)


@bp.post("/api/persons/<person_id>/grade")
@authed
def grade(person_id: str) -> Response:
    body = _body()
    reason = body.get("reason", body.get("note"))  # "note" as in the alert and case actions
    actor = g.actor
    now = datetime.now(UTC)
    commands.grade(g.db, actor, person_id, commands.GradeInput(body.get("level"), reason), now)
    g.db.commit()
    commands.announce(app_context().redis, person_id)
    cadence, tz = settings_view()
    return _json(queries.person_file(g.db, actor, person_id, now, cadence, tz))
