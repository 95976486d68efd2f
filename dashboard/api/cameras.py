"""``GET /api/cameras/{camera_id}/snapshot.jpg``: the latest frame of a camera (CONTRACT §3, auth required).

The frame is the JPEG the video ingest keeps in Redis (``names.camera_snapshot``, about one a second, with a
short expiry), so serving it costs one GET. Auth: a bearer token (API clients) or the signed-in session of
the dashboard (the wall's camera tiles); 401 otherwise. A user scoped to part of the city gets the frames of
the cameras there only (404 for the others, as for a camera that does not exist). ``?missing=204`` answers
"no frame yet" with 204 instead of 404, so the wall can poll without filling the browser console with errors.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import redis
from flask import Blueprint, Response, request

from dashboard.api.common import error as _error
from dashboard.context import app_context
from onescreen import names

log = logging.getLogger(__name__)

bp = Blueprint("cameras", __name__)
CAMERA_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def request_user() -> Any:
    """The bearer token's account or the signed-in session's user; None: not authenticated."""
    header = request.headers.get("Authorization")
    if header:
        from sqlalchemy.orm import Session

        from onescreen.accounts.tokens import authenticate

        with Session(app_context().engine) as session:
            return authenticate(session, header)  # its columns stay loaded after the session closes
    from dashboard.auth.sessions import current_user

    return current_user()


def _in_scope(camera_id: str, user: Any) -> bool:
    """A scoped user sees the cameras of the communities in scope only (others: as if they did not exist)."""
    from dashboard.desk.data import registry, visible_communities

    visible = visible_communities(app_context(), user)
    if visible is None:
        return True
    reg = registry(app_context())
    cam = reg.camera(camera_id)
    return cam is not None and reg.community_of(cam.cell_id) in visible


@bp.get("/api/cameras/<camera_id>/snapshot.jpg")
def snapshot(camera_id: str) -> Response:
    user = request_user()
    if user is None:
        return _error(401, "missing or invalid credentials")
    if not CAMERA_ID.match(camera_id) or not _in_scope(camera_id, user):
        return _error(404, "no such camera")
    try:
        jpeg = app_context().redis_bytes.get(names.camera_snapshot(camera_id))
    except redis.RedisError as exc:
        log.warning("camera snapshot unavailable: %s", exc.__class__.__name__)
        return _error(503, "frame store unavailable")
    if jpeg is None:
        if request.args.get("missing") == "204":
            return Response(status=204, headers={"Cache-Control": "no-store"})
        return _error(404, "no recent frame")
    return Response(jpeg, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
