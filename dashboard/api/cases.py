"""Cases HTTP API (CONTRACT §6): report, photos, list, detail with history, every lifecycle action.

A thin adapter over ``cases.commands`` and ``cases.queries``: it builds the ``Actor`` from the bearer token
or the web session (``dashboard.api.common.authed``: 401), calls one command, commits and announces (MQTT outbox
and the screens' change signal); ``authed`` turns a ``CommandError`` into its status (400/403/404/409) with the
English message and a machine-readable ``reason``. Plus two extensions for the pages: possible duplicates of
a case, and the grid page's heartbeat.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Blueprint, Response, g, request

from cases import commands, queries, store
from cases.commands import CaseEnv
from cases.places import places_for
from cases.scope import actor_of
from dashboard.api.common import authed, body as _body, error as _error, json_response as _json
from dashboard.context import app_context
from onescreen import names
from onescreen.commands import Actor
from onescreen.db.models import User

bp = Blueprint("cases", __name__)


def _env() -> CaseEnv:
    ctx = app_context()
    return CaseEnv(ctx.settings.cases, ctx.settings.city.timezone, places_for(ctx.engine), ctx.redis_bytes)


def _actor(env: CaseEnv) -> Actor:
    """The cases rule of scope (cases.scope: a grid worker's cells, a department's assignments) for the
    account that ``authed`` resolved."""
    return actor_of(g.db.get(User, g.actor.user_id), env.places, request.remote_addr)


def _done(env: CaseEnv, case, now: datetime, status: int = 200) -> Response:
    g.db.commit()
    store.announce_changed(g.db, app_context().redis, env.tz, now)
    doc = store.to_contract(case, env.tz, datetime.now(UTC))
    return _json({**doc, "history": store.history(g.db, case, env.tz)}, status)


@bp.post("/api/cases")
@authed
def report() -> Response:
    body = _body()
    env, now = _env(), datetime.now(UTC)
    case = commands.report(g.db, _actor(env), body, now, env)
    return _done(env, case, now, 201)


@bp.get("/api/cases")
@authed
def list_cases() -> Response:
    env, now = _env(), datetime.now(UTC)
    args = request.args
    try:
        limit = max(1, min(1000, int(args.get("limit", 200))))
    except ValueError:
        return _error(400, "limit must be an integer")
    overdue = args.get("overdue", "").lower()
    if overdue not in ("", "true", "false", "1", "0"):
        return _error(400, "overdue must be true or false")
    rows = queries.listing(g.db, _actor(env), now, status=args.get("status") or None,
                           level=args.get("level") or None, category=args.get("category") or None,
                           community_id=args.get("community_id") or None, overdue=overdue in ("true", "1"),
                           open_only=args.get("open") in ("true", "1"), limit=limit)
    return _json([store.to_contract(c, env.tz, now) for c in rows])


@bp.get("/api/cases/<case_id>")
@authed
def get_case(case_id: str) -> Response:
    env, now = _env(), datetime.now(UTC)
    case = commands.find(g.db, _actor(env), case_id)
    node = env.places.reg.node(case.cell_id) if case.cell_id else None
    place = {"district": env.places.name(case.district_id), "community": env.places.name(case.community_id),
             "cell": env.places.name(case.cell_id), "geometry": node.geometry if node is not None else None,
             "reporters": [env.places.person(r) for r in case.reporters or []]}
    return _json({**store.to_contract(case, env.tz, now), "history": store.history(g.db, case, env.tz),
                  "photo_list": store.photo_list(g.db, case), "place": place})


@bp.get("/api/cases/<case_id>/duplicates")
@authed
def duplicates(case_id: str) -> Response:
    env, now = _env(), datetime.now(UTC)
    actor = _actor(env)
    case = commands.find(g.db, actor, case_id)
    s = env.settings
    rows = queries.duplicates(g.db, actor, case, s.merge_radius_m, s.merge_window_h)
    return _json([store.to_contract(c, env.tz, now) for c in rows])


@bp.post("/api/cases/<case_id>/photos")
@authed
def add_photo(case_id: str) -> Response:
    env, now = _env(), datetime.now(UTC)
    limit = env.settings.max_photo_bytes
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        return _json({"error": f"the photo is larger than {limit} bytes", "reason": "photo_too_large"}, 400)
    upload = request.files.get("photo") or request.files.get("file")
    data = upload.read(limit + 1) if upload is not None else request.get_data(cache=False)[: limit + 1]
    n = commands.add_photo(g.db, _actor(env), case_id, data, now, env)
    case = commands.find(g.db, _actor(env), case_id)
    g.db.commit()
    store.announce_changed(g.db, app_context().redis, env.tz, now)
    return _json({"n": n, "url": f"/api/cases/{case_id}/photos/{n}.jpg",
                  "case": store.to_contract(case, env.tz, now)}, 201)


@bp.get("/api/cases/<case_id>/photos/<int:n>.jpg")
@authed
def get_photo(case_id: str, n: int) -> Response:
    env = _env()
    case = commands.find(g.db, _actor(env), case_id)
    jpeg = queries.photo(g.db, case, n, thumb=request.args.get("thumb") == "1")
    if jpeg is None:
        return _error(404, f"no photo {n} of {case_id}")
    return Response(jpeg, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@bp.post("/api/cases/<case_id>/<action>")
@authed
def act(case_id: str, action: str) -> Response:
    body = _body()
    env, now = _env(), datetime.now(UTC)
    case = commands.act(g.db, _actor(env), case_id, action, body, now, env)
    return _done(env, case, now)


@bp.get("/api/cases-huddle.csv")
@authed
def huddle_csv() -> Response:
    """The daily huddle (每日碰头) as CSV: section, case id, level, status, category, place, deadline."""
    env, now = _env(), datetime.now(UTC)
    parts = queries.huddle(g.db, _actor(env), now, env.tz)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "case_id", "level", "status", "overdue", "category", "district", "community", "cell",
                "reported_at", "deadline", "assignee", "description"])
    for section, rows in parts.items():
        for c in rows:
            d = store.to_contract(c, env.tz, now)
            who = f"{d['assignee']['kind']}:{d['assignee']['id']}" if d["assignee"] else ""
            w.writerow([section, d["case_id"], d["level"], d["status"], d["overdue"], d["category"],
                        env.places.name(c.district_id), env.places.name(c.community_id), env.places.name(c.cell_id),
                        d["reported_at"], d["deadline"] or "", who, d["description"]])
    return Response("\ufeff" + buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=huddle.csv"})


@bp.post("/api/grid/heartbeat")
@authed
def heartbeat() -> Response:
    """The /grid page says the worker is online (a Redis key with a TTL; the assessment counts them)."""
    if g.actor.role != "grid" or not g.actor.worker_id:
        return _error(403, "only a grid worker's account sends a heartbeat")
    ttl = app_context().settings.cases.online_ttl_s
    app_context().redis.set(names.grid_online(g.actor.worker_id), datetime.now(UTC).isoformat(), ex=ttl)
    return _json({"worker_id": g.actor.worker_id, "online_for_s": ttl})
