"""Desk endpoints: the 1-3-5 report as CSV, and the latest camera frame for a spot check. Opened from the
supervision desk with its web session, and, being under ``/api`` (CONTRACT §3), with a bearer token too.
Supervisor and admin only (403 otherwise; 401 without a credential or with a bad one)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, request

from dashboard.api.cameras import request_user
from dashboard.api.common import error as _error
from dashboard.auth import audit
from dashboard.context import app_context
from dashboard.desk import data, reports
from onescreen import names

bp = Blueprint("desk", __name__)
SUPERVISION = frozenset({"supervisor", "admin"})


def roles(allowed: frozenset[str]) -> Callable:
    def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Response:
            user = request_user()  # the bearer token's account, else the signed-in session's user
            if user is None:
                return _error(401, "missing or invalid credential (Authorization: Bearer <token>)")
            if user.role not in allowed:
                return _error(403, f"role {user.role} may not use this")
            g.desk_user = user
            return view(*args, **kwargs)
        return inner
    return wrap


@bp.get("/api/patrol/report.csv")
@roles(SUPERVISION)
def report_csv() -> Response:
    by = request.args.get("by", "unit")
    try:
        days = float(request.args.get("days", 7))
        if not 0 < days <= 366:
            raise ValueError
    except ValueError:
        return _error(400, "days must be a number in (0, 366]")
    if by not in ("unit", "district"):
        return _error(400, "by must be unit or district")
    ctx, user = app_context(), g.desk_user
    body = reports.to_csv(reports.response_report(ctx, user, by, days))
    audit.record(ctx.engine, user.username, "export_csv", user_id=user.id, role=user.role,
                 target=f"report by {by}", detail={"days": days}, remote_addr=request.remote_addr)
    stamp = datetime.now(ctx.tz).strftime("%Y%m%d-%H%M")
    return Response("\ufeff" + body, mimetype="text/csv", headers={  # BOM: Excel opens UTF-8 Chinese right
        "Content-Disposition": f'attachment; filename="response-135-{by}-{stamp}.csv"',
        "Cache-Control": "no-store"})


@bp.get("/api/patrol/cameras/<camera_id>/snapshot.jpg")
@roles(SUPERVISION)
def camera_snapshot(camera_id: str) -> Response:
    ctx = app_context()
    reg = data.registry(ctx)
    cam = reg.camera(camera_id)
    if cam is None or not data.in_scope(ctx, g.desk_user, reg.community_of(cam.cell_id)):
        return _error(404, f"no camera {camera_id}")  # outside the account's area: as if it did not exist
    raw = ctx.redis_bytes.get(names.camera_snapshot(camera_id))
    if not raw:
        return _error(404, f"no frame from {camera_id} yet")
    return Response(raw, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
