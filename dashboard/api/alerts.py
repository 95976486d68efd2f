"""Alerts HTTP API (CONTRACT §3): list, detail with history, lifecycle actions, evidence frame, silences.

A thin adapter: every read goes through ``alerts.queries`` and every write through the command layer
(``alerts.commands``, ``alerts.silences``) run by ``dashboard.commands.run``, with the ``Actor`` of the bearer
token's account (``onescreen.accounts.tokens``) or of the signed-in web session. This module only turns HTTP
into inputs and answers back:

- a missing or invalid credential: 401 (before any cross-site check, ``dashboard.auth``);
- a body that is not a JSON object (malformed JSON included): 400 with a message;
- a ``CommandError``: its status (400 naming the bad field or unknown unit, 403, 404, 409) and
  ``{"error": message, "reason": name}``;
- an unknown ``/api/...`` path: 404 as JSON;
- every time in the configured zone (``city.timezone``).

``/api/openapi.json`` documents these routes (``dashboard.api.openapi.alerts``), kept true by
tests/test_api_openapi.py (every route documented; schemathesis over the document).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, request
from sqlalchemy.orm import Session

from alerts import commands, queries, silences, store
from dashboard.api.common import authed, body as _body, error as _error, json_response as _json
from dashboard.commands import run
from dashboard.context import app_context
from onescreen.commands import Invalid

bp = Blueprint("alerts", __name__)


def _tz() -> str:
    return app_context().settings.city.timezone


def _alert_json(alert: Any, silenced: set[str], history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc = {**store.to_contract(alert, _tz()), "silenced": alert.alert_id in silenced}
    return {**doc, "history": history} if history is not None else doc


def _csv(name: str) -> tuple[str, ...]:
    value = request.args.get(name) or ""
    return tuple(v for v in value.split(",") if v)


@bp.get("/api/alerts")
@authed
def list_alerts() -> Response:
    try:
        limit = int(request.args.get("limit", 200))
        if not 1 <= limit <= 1000:
            raise ValueError
    except ValueError:
        raise Invalid("desk.error.bad_limit", "limit must be an integer in [1, 1000]") from None
    f = queries.AlertFilter(status=_csv("status"), level=_csv("level"),
                            community_id=request.args.get("community_id") or None, limit=limit)
    rows = queries.listing(g.db, g.actor, f)
    marked = queries.silenced_ids(g.db, rows, datetime.now(UTC))
    return _json([_alert_json(a, marked) for a in rows])


@bp.get("/api/alerts/<alert_id>")
@authed
def get_alert(alert_id: str) -> Response:
    alert = queries.get(g.db, g.actor, alert_id)
    marked = queries.silenced_ids(g.db, [alert], datetime.now(UTC))
    return _json(_alert_json(alert, marked, store.history(g.db, alert, _tz())))


@bp.post("/api/alerts/<alert_id>/<action>")
@authed
def act(alert_id: str, action: str) -> Response:
    if action not in commands.lifecycle.ACTIONS:
        return _error(404, f"no action {action}; one of {', '.join(commands.lifecycle.ACTIONS)}", "not_found")
    body = _body()  # other fields are ignored: CONTRACT §3 clients may send more than note and unit_id
    unit_id = body.get("unit_id")
    if unit_id is not None and not isinstance(unit_id, str):
        raise Invalid("desk.error.unit_unknown", "unit_id must be a string", unit=unit_id)
    inp = commands.ActionInput(alert_id, action, body.get("note"), unit_id)

    def render(session: Session, alert: Any) -> Response:
        marked = queries.silenced_ids(session, [alert], datetime.now(UTC))
        return _json(_alert_json(alert, marked, store.history(session, alert, _tz())))

    return run(app_context(), commands.act, g.actor, inp, render)


@bp.get("/api/alerts/<alert_id>/snapshot.jpg")
@authed
def snapshot(alert_id: str) -> Response:
    jpeg = store.snapshot(g.db, queries.get(g.db, g.actor, alert_id))
    if jpeg is None:
        return _error(404, f"no evidence frame for {alert_id}", "not_found")
    return Response(jpeg, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@bp.post("/api/silences")
@authed
def add_silence() -> Response:
    inp = silences.SilenceInput.from_json(_body())
    doc = run(app_context(), silences.create, g.actor, inp,
              lambda _s, row: silences.to_json(row, _tz(), datetime.now(UTC)))
    return _json(doc, 201)


@bp.get("/api/silences")
@authed
def list_silences() -> Response:
    every = request.args.get("all") in ("1", "true")
    now = datetime.now(UTC)
    return _json([silences.to_json(s, _tz(), now) for s in silences.listing(g.db, g.actor, now, every)])


@bp.delete("/api/silences/<int:silence_id>")
@authed
def lift_silence(silence_id: int) -> Response:
    return _json(run(app_context(), silences.lift, g.actor, silence_id,
                     lambda _s, row: silences.to_json(row, _tz(), datetime.now(UTC))))


@bp.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@authed
def unknown(rest: str) -> Response:
    """Any other ``/api/...`` path: 404 as JSON (never the page's HTML)."""
    return _error(404, f"no API endpoint /api/{rest}", "not_found")
