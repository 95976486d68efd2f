"""Assessment API (CONTRACT §8): ``GET /api/assessment`` and the same rows as CSV from ``/api/assessment.csv``.

``period=day|week|month`` and ``by=district|community|worker|department|unit`` are required (400 otherwise);
extensions: ``sort=<figure>`` (best first, the desk's order), ``within=<grid node>`` (drill-down: the rows inside a district or community) and ``date=YYYY-MM-DD``
(the period containing that local date instead of today's). Authentication as for the alerts API (bearer
token or the web session; 401), supervisors and admins only (403); a scoped account's rows and figures are
cut to its communities (``visible_communities``). A CSV download is written to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import orjson
from flask import Blueprint, Response, g, request

from assessment import people, report
from dashboard.api.common import authed, error as _error
from dashboard.auth import audit
from dashboard.context import app_context
from dashboard.desk import data

bp = Blueprint("assessment", __name__)
ROLES = frozenset({"supervisor", "admin"})
EARLIEST_YEAR = 1970


def build(user: Any, args: Any) -> report.Report:
    """The report the query string asks for, for ``user`` (raises report.BadRequest)."""
    ctx = app_context()
    kind, by = report.check(args.get("period"), args.get("by"))
    now, at = ctx.now(), None
    if args.get("date"):
        try:
            at = datetime.combine(date.fromisoformat(args["date"]), time(12), ctx.tz)
        except ValueError:
            raise report.BadRequest("date must be YYYY-MM-DD") from None
        if at.date() > now.date():
            raise report.BadRequest("date must not be in the future")
        if at.year < EARLIEST_YEAR:  # before the zone's modern offsets (+08:05:43 in 963: not an ISO offset)
            raise report.BadRequest(f"date must not be before {EARLIEST_YEAR}-01-01")
    within = args.get("within") or None
    reg = data.registry(ctx)
    if within is not None and reg.node(within) is None:
        raise report.BadRequest(f"no grid node {within}")
    people.configure(ctx.settings)  # the acceptance limit and visit cadence in force
    rep = report.assess(ctx.engine, reg, kind, by, now, ctx.settings.city.timezone,
                        scope=data.visible_communities(ctx, user), within=within, at=at)
    rep.rows = report.ranked(rep.rows, args.get("sort") or None)
    return rep


def _report() -> report.Report | Response:
    if g.actor.role not in ROLES:
        return _error(403, f"role {g.actor.role} may not read the assessment")
    try:
        return build(g.actor, request.args)
    except report.BadRequest as exc:
        return _error(400, str(exc))


@bp.get("/api/assessment")
@authed
def assessment_json() -> Response:
    rep = _report()
    if isinstance(rep, Response):
        return rep
    return Response(orjson.dumps(rep.rows), mimetype="application/json")


@bp.get("/api/assessment.csv")
@authed
def assessment_csv() -> Response:
    rep = _report()
    if isinstance(rep, Response):
        return rep
    ctx = app_context()
    audit.record(ctx.engine, g.actor.username, "export_csv", user_id=g.actor.user_id, role=g.actor.role,
                 target=f"assessment {rep.period.kind} by {rep.by}",
                 detail={"period": rep.period.label, "within": request.args.get("within")},
                 remote_addr=request.remote_addr)
    name = f"assessment-{rep.period.label}-{rep.by}.csv"
    return Response("\ufeff" + report.to_csv(rep.rows), mimetype="text/csv", headers={  # BOM: Excel, Chinese
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
