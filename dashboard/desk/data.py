"""Queries the desks share: the registry, scope, live patrol positions, tracks, distances, masking.

Reads only: Redis hot state (``names.PATROL_LATEST``, the patrol streams, camera health, the alert engine's
dead letters) and SQL. A user's scope
is a grid node; everything a desk lists is cut to the communities under it (``visible_communities``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from dashboard.auth.sessions import SessionUser
from dashboard.context import AppContext
from onescreen import names
from onescreen.events import StreamRecord
from onescreen.geo import distance_m
from onescreen.registry.cache import RegistryCache
from onescreen.scope import communities_of
from onescreen.timeutil import local_time, on_shift

SILENT_AFTER_S = 300  # CONTRACT off_post: no position for this long = silent


def registry(ctx: AppContext) -> RegistryCache:
    """The lookup cache of the app's one registry snapshot (the wall's too), re-read after an import."""
    return ctx.registry.cache


_PERSON = re.compile(r"p-[0-9A-Za-z]+")


def mask_person(value: str | None) -> str:
    """``p-7f3a9c`` -> ``p-7f****``: enough to tell two apart on one screen, not to identify anyone."""
    if not value:
        return ""
    return value[:4] + "****" if len(value) > 4 else value[:1] + "****"


def mask_text(text: str) -> str:
    """Every person id inside a free text (subject ids like ``D-1/p-7f3a9c``) masked."""
    return _PERSON.sub(lambda m: mask_person(m.group(0)), text or "")


def mask_subject(kind: str | None, subject_id: str | None) -> str:
    """An alert's subject for a screen: the person part masked whatever its shape (a door+person subject is
    ``door/person``, a person subject is the person id), other subjects with any ``p-…`` inside masked."""
    ident = subject_id or ""
    if kind == "door_person":
        door, sep, person = ident.partition("/")
        return f"{door}{sep}{mask_person(person)}" if sep else mask_person(ident)
    if kind == "person":
        return mask_person(ident)
    return mask_text(ident)


def visible_communities(ctx: AppContext, user: Any) -> set[str] | None:
    """Community ids a user may see (a desk's session user or the API's account), None for the whole city:
    ``onescreen.scope.communities_of`` on the app's registry, the same cut as the commands' Actor."""
    if user is None:
        return None
    scope = communities_of(registry(ctx), user.scope_node_id)
    return None if scope is None else set(scope)


def in_scope(ctx: AppContext, user: SessionUser | None, community_id: str | None) -> bool:
    scope = visible_communities(ctx, user)
    return scope is None or community_id in scope


def community_outlines(ctx: AppContext, user: SessionUser | None) -> tuple[list, list]:
    """The outer rings of the communities the user may see, as one line's x (lon) and y (lat) lists with None
    between rings: the geography under the supervisor's map of posts and units."""
    reg = registry(ctx)
    scope = visible_communities(ctx, user)
    xs: list = []
    ys: list = []
    for cid in reg.nodes_at("community"):
        if scope is not None and cid not in scope:
            continue
        geometry = reg.node(cid).geometry or {}
        polygons = {"Polygon": [geometry.get("coordinates")],
                    "MultiPolygon": geometry.get("coordinates")}.get(geometry.get("type"), [])
        for polygon in polygons or []:
            ring = polygon[0] if polygon else []
            xs += [p[0] for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
    return xs, ys


@dataclass
class UnitState:
    """A patrol unit now: its post, last position and whether it is on post."""

    unit_id: str
    name: str
    post_id: str | None
    post_name: str
    community_id: str | None
    district_id: str | None
    post_lat: float | None
    post_lon: float | None
    radius_m: float | None
    lat: float | None
    lon: float | None
    age_s: float | None
    status: str | None  # the terminal's own status
    distance_m: float | None
    state: str  # on_post | off_post | silent | no_position | off_shift (not expected on post now)

    def as_row(self) -> dict[str, Any]:
        return self.__dict__.copy()


def positions(ctx: AppContext) -> dict[str, dict[str, Any]]:
    """Latest fix per unit from the ingest's hot hash."""
    raw = ctx.redis.hgetall(names.PATROL_LATEST)
    out = {}
    for unit, doc in raw.items():
        try:
            out[unit] = orjson.loads(doc)
        except orjson.JSONDecodeError:
            continue
    return out


def unit_states(ctx: AppContext, user: SessionUser | None = None, now: float | None = None) -> list[UnitState]:
    """Every unit (in the user's scope) with its post, position, distance and on/off/silent state."""
    reg = registry(ctx)
    now = now or time.time()
    local = local_time(now, ctx.settings.city.timezone)
    fixes = positions(ctx)
    scope = visible_communities(ctx, user)
    rows = []
    for uid in reg.unit_ids():
        unit = reg.unit(uid)
        post = reg.post_of_unit(uid)
        community = reg.community_of(post.cell_id) if post else None
        if scope is not None and community not in scope:
            continue
        fix = fixes.get(uid)
        lat = lon = age = dist = None
        status = None
        if fix is not None:
            lat, lon, status = fix.get("lat"), fix.get("lon"), fix.get("status")
            age = max(0.0, now - fix.get("ts", 0) / 1000)
            if post is not None and lat is not None:
                dist = distance_m(lat, lon, post.lat, post.lon)
        if post is not None and not on_shift(post.shift_start, post.shift_end, local):
            state = "off_shift"
        elif fix is None:
            state = "no_position"
        elif age is not None and age > SILENT_AFTER_S:
            state = "silent"
        elif dist is not None and post is not None and dist > post.radius_m:
            state = "off_post"
        else:
            state = "on_post"
        rows.append(UnitState(uid, unit.name if unit else uid, post.id if post else None, post.name if post else "",
                              community, reg.district_of(post.cell_id) if post else None,
                              post.lat if post else None, post.lon if post else None,
                              post.radius_m if post else None, lat, lon, age, status, dist, state))
    return rows


def nearest_units(ctx: AppContext, lat: float | None, lon: float | None, user: SessionUser | None = None,
                  n: int = 5) -> list[tuple[UnitState, float]]:
    """On-duty units (fresh position, not off duty) nearest to a point, with their distance in metres."""
    if lat is None or lon is None:
        return []
    out = []
    for u in unit_states(ctx, user):
        if u.lat is None or u.state in ("silent", "off_shift") or u.status == "off_duty":
            continue
        out.append((u, distance_m(lat, lon, u.lat, u.lon)))
    out.sort(key=lambda pair: pair[1])
    return out[:n]


def tracks(ctx: AppContext, unit_ids: set[str], since_s: float = 3600) -> dict[str, list[tuple[float, float, int]]]:
    """Each unit's fixes of the last ``since_s`` seconds from the patrol streams: (lat, lon, ts_ms), oldest first."""
    start = int((time.time() - since_s) * 1000)
    out: dict[str, list[tuple[float, float, int]]] = {u: [] for u in unit_ids}
    for p in range(ctx.settings.redis.partitions):
        for _, fields in ctx.redis.xrange(names.event_stream(names.PATROL, p), min=f"{start}-0", max="+",
                                         count=20000):
            try:
                doc = StreamRecord.decode(fields)
            except (KeyError, ValueError):
                continue
            uid = doc.get("unit_id") or doc.get("device_id")
            if uid in out and doc.get("lat") is not None:
                out[uid].append((doc["lat"], doc["lon"], doc.get("ts", 0)))
    for fixes in out.values():
        fixes.sort(key=lambda f: f[2])
    return out


def nearest_camera(ctx: AppContext, lat: float, lon: float) -> tuple[Any, float] | None:
    """The registry camera nearest to a point (streamed ones first when equally near) and its distance."""
    best = None
    for cam in registry(ctx).cameras():
        d = distance_m(lat, lon, cam.lat, cam.lon)
        if best is None or d < best[1]:
            best = (cam, d)
    return best


def camera_health(ctx: AppContext, camera_id: str) -> dict[str, str]:
    return ctx.redis.hgetall(names.camera_health(camera_id))


def dead_letters(ctx: AppContext, limit: int = 50) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The alert engine's dead letters: totals by error type, and the newest ``limit`` of all partitions."""
    pipe = ctx.redis.pipeline(transaction=False)
    pipe.hgetall(names.ALERT_DEAD_LETTER_COUNTS)
    for p in range(ctx.settings.redis.partitions):
        pipe.xrevrange(names.dead_letters(p), count=limit)
    counts, *streams = pipe.execute()
    recent = [fields for entries in streams for _id, fields in entries]
    recent.sort(key=lambda f: int(f.get("at") or 0), reverse=True)
    return counts, recent[:limit]
