"""What the wall shows, read from aggregates: never a scan of an event stream.

``WallReader.read(scope)`` returns one plain dict per refresh, section by section, for the drill-down scope
(None = whole city). Sources and cost per refresh:

- open alerts: the rows of alerts not yet resolved (SQL, index on ``status``), so the cost follows the number
  of *open* alerts, never the number of events; read once per change for every wall of this server
  (``readers.changes``: a refresh costs one GET of the change counter, SQL only when it moved or every
  ``changes.SAFETY_S``); the feed is the most urgent of them in the scope (``wall_feed.select``), marked where a
  silence in force covers them;
- ``kpi-open-alerts`` at city scope: ZCARD of the engine's open-alert index (CONTRACT §4);
- patrol: HGETALL of the latest-position hash (one entry per unit);
- every ``SLOW_S`` seconds, shared by every wall on this server: devices seen in the last 5 min (one ZRANGEBYSCORE),
  health hashes of the streamed cameras, the hourly aggregates by district (``wall_hours``: a past hour is
  cached, only the current hour is re-read) and today's alert figures (1-3-5, resolution) from SQL;
- drilled into a community or a cell: that community's hourly aggregates by cell (``wall_hours``, the
  current hour at most every ``SLOW_S``), so the charts and 今日事件 are exact at every level.

A section whose source failed comes back as None (the wall keeps what it shows) and ``ok`` is False, which
turns the "data as of" stamp red; the next successful read clears it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import redis
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from alerts import silences
from assessment import figures
from dashboard import outage
from dashboard.components import wall_feed
from dashboard.readers import camera_rates, changes
from dashboard.readers.hours import (
    CaseHours,
    HourlyCounts,
    heat_by_day,
    heat_by_district,
    hourly,
    per_hour,
    scope_hours,
    with_cases,
)
from dashboard.readers.wall_index import WallIndex
from onescreen import names
from onescreen.db.models import Alert
from onescreen.geo import distance_m
from onescreen.timeutil import on_shift

log = logging.getLogger(__name__)

OPEN_STATUSES = ("open", "acknowledged", "dispatched", "on_scene")
LEVEL_RANK = {"red": 3, "orange": 2, "yellow": 1}
MAX_ALERT_MARKERS = 400
ONLINE_WINDOW_S = 300              # a device silent longer counts offline (CONTRACT: device_offline after 300 s)
CAMERA_FRAME_S = 60                # a streamed camera without a frame this long counts offline
PATROL_SILENT_S = 300
SLOW_S = 2.0                       # cadence of the shared, costlier reads


def _rank(level: str) -> int:
    return LEVEL_RANK.get(level, 0)


class WallReader:
    """One per app (``reader(ctx)``); thread-safe; the slow part is shared by every wall and scope."""

    def __init__(self, ctx: Any):
        self.ctx = ctx
        self._dev_cache: dict[tuple[int, int, str | None], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._slow_at = 0.0
        self._slow: dict[str, Any] = {}
        self._slow_ok = True
        self.hours = HourlyCounts(ctx.tz, ctx.settings.redis.partitions)
        self.case_hours = CaseHours(ctx.tz)  # issue 14: case hot spots in the heat map
        self.open_cache = changes.ChangeCache()

    @property
    def index(self) -> WallIndex:
        """The scope index of the app's current registry snapshot (``readers.snapshot``)."""
        return self.ctx.registry.index

    # ------------------------------------------------------------------ public
    def read(self, scope: str | None, home: str | None = None) -> dict[str, Any]:
        """Every section for ``scope``; failed sources give None sections and ``ok`` False. ``home``: a scoped
        user's part of the city (``scope`` lies within it): the map's colours and density show nothing
        outside it either."""
        ix = self.index
        out: dict[str, Any] = {"ok": True}
        slow_ok = self._refresh_slow()
        out["ok"] = slow_ok
        try:
            open_rows, current = self._alerts(scope)
            if home is not None:
                open_rows = [a for a in open_rows if self._inside(a, home)]
        except SQLAlchemyError as exc:
            outage.report("database", exc)
            open_rows, current, out["ok"] = None, [], False
        try:
            zcard = int(self.ctx.redis.zcard(names.OPEN_ALERTS)) if scope is None else None
            positions = self.ctx.redis.hgetall(names.PATROL_LATEST)
        except redis.RedisError as exc:
            outage.report("redis", exc)
            zcard, positions, out["ok"] = None, None, False
        try:
            counts = self._scope_hours(ix, scope)
        except redis.RedisError as exc:
            outage.report("redis", exc)
            counts, out["ok"] = None, False
        in_scope = None if open_rows is None else [a for a in open_rows if self._inside(a, scope)]
        silenced = set() if in_scope is None else wall_feed.silenced_ids(in_scope, current, datetime.now(UTC))
        out["feed"] = None if in_scope is None else wall_feed.select(in_scope, silenced)
        out["colors"] = None if open_rows is None else self._colors(open_rows)
        out["alert_points"] = None if in_scope is None else self._alert_points(ix, in_scope, scope, silenced)
        now = datetime.now(self.ctx.tz)
        out["patrol"] = None if positions is None else patrol_summary(ix, scope, positions, now.timestamp(), now)
        out["devices"] = self._devices_cached(ix, scope) if self._slow else None
        out["cameras"] = self._camera_tiles(ix, scope) if self._slow else None
        out["hourly"] = None if counts is None else hourly(counts, now)
        city_view = ix.level.get(scope or "") in (None, "city")
        out["heat"] = None if counts is None else self._heat(ix, scope, counts, now, city_view)
        out["kpi"] = self._kpis(ix, scope, in_scope, zcard, out["patrol"], out["devices"], out["hourly"])
        density = self._slow.get("density")
        if home is not None and density is not None:
            density = {n: v for n, v in density.items() if ix.inside(n, home)}
        out["density"] = density
        return out

    def _heat(self, ix: WallIndex, scope: str | None, counts: dict[str, int], now: datetime,
              city_view: bool) -> dict[str, Any]:
        """数据导巡: door events hour × district (city) or hour × day (drilled), with the cases reported in the
        same cells beside them (issue 14); a failed case read leaves the events alone."""
        cases = self.case_hours.read(self.ctx.engine)
        if city_view:
            districts = ix.district_ids()
            return with_cases(heat_by_district(self._slow["hours"], districts, now),
                              None if cases is None else heat_by_district(cases, districts, now))
        return with_cases(heat_by_day(counts, now),
                          None if cases is None or scope is None else heat_by_day(scope_hours(cases, scope), now))

    # ------------------------------------------------------------------ alerts (SQL)
    def _alerts(self, scope: str | None) -> tuple[list[dict[str, Any]], list[Any]]:
        """The alerts not yet resolved (all scopes: the map and KPIs cut them) and the silences in force, from
        the process-wide cache (re-read once per change, ``readers.changes``); the rows are shared: read only."""
        return self.open_cache.get("open", changes.version(self.ctx.redis), self._read_alerts)

    def _read_alerts(self) -> tuple[list[dict[str, Any]], list[Any]]:
        cols = (Alert.alert_id, Alert.rule, Alert.level, Alert.status, Alert.district_id, Alert.community_id,
                Alert.cell_id, Alert.lat, Alert.lon, Alert.opened_at, Alert.subject_id, Alert.escalated_at)
        with Session(self.ctx.engine) as s:
            rows = s.execute(select(*cols).where(Alert.status.in_(OPEN_STATUSES), Alert.alert_id.is_not(None))
                             .limit(5000)).all()
            current = silences.current(s, datetime.now(UTC))
        return [self._row(r) for r in rows], current

    @staticmethod
    def _row(r: Any) -> dict[str, Any]:
        opened = r.opened_at
        return {"id": r.alert_id, "rule": r.rule, "level": r.level, "status": r.status,
                "district": r.district_id, "community": r.community_id, "cell": r.cell_id,
                "lat": r.lat, "lon": r.lon, "subject": r.subject_id,
                "ts": _epoch(opened), "escalated": _epoch(r.escalated_at) if r.escalated_at else None}

    def _inside(self, a: dict[str, Any], scope: str | None) -> bool:
        if scope is None:
            return True
        ix = self.index
        return any(ix.inside(n, scope) for n in (a["cell"], a["community"], a["district"]) if n)

    @staticmethod
    def _colors(rows: list[dict[str, Any]]) -> dict[str, str]:
        """Highest open level per district, community and cell."""
        best: dict[str, str] = {}
        for a in rows:
            for node in (a["district"], a["community"], a["cell"]):
                if node and _rank(a["level"]) > _rank(best.get(node, "")):
                    best[node] = a["level"]
        return dict(sorted(best.items()))

    @staticmethod
    def _alert_points(ix: WallIndex, rows: list[dict[str, Any]], scope: str | None = None,
                      silenced: set[str] | frozenset[str] = frozenset()) -> list[list[Any]]:
        """``[id, lat, lon, level, rule, at, n, node, silenced]``; an alert without coordinates (a person, not a device: e.g.
        ``key_person_missing``) sits on its cell's or community's label point ``at`` (else None). ``node``: where a
        click on it drills to (its cell or community). The
        alerts on one label point share one marker, the most urgent's, with their number appended (they would
        lie exactly on top of each other). The most urgent come last, so Leaflet draws them on top.

        More than ``GROUP_ALERTS_ABOVE`` in a city or district view (a flood of yellow ``device_offline`` after an
        outage): the yellow ones gather into one marker per district or community, with their number; red and
        orange alerts always keep a marker each."""
        rows = sorted(rows, key=lambda a: (-_rank(a["level"]), -a["ts"]))[:MAX_ALERT_MARKERS]
        level = ix.level.get(scope or "", "city") if scope else "city"
        group_at = CHILD_LEVEL.get(level) if len(rows) > GROUP_ALERTS_ABOVE and level in ("city", "district") \
            else None
        out: list[list[Any]] = []
        shared: dict[str, list[Any]] = {}  # label node -> its marker row (the most urgent alert there)
        for a in rows:  # most urgent first: the first alert at a node is the one shown
            if group_at is not None and a["level"] == "yellow":
                node = a["district"] if group_at == "district" else a["community"]
                if node in ix.label:
                    if node in shared:
                        shared[node][6] += 1
                    else:
                        lat, lon = ix.label[node]
                        shared[node] = [a["id"], round(lat, 6), round(lon, 6), a["level"], a["rule"], node, 1, node,
                                        a["id"] in silenced]
                        out.append(shared[node])
                    continue
            if a["lat"] is not None and a["lon"] is not None:
                out.append([a["id"], round(a["lat"], 6), round(a["lon"], 6), a["level"], a["rule"], None, 1,
                            a["cell"] or a["community"], a["id"] in silenced])
                continue
            node = next((n for n in (a["cell"], a["community"], a["district"]) if n in ix.label), None)
            if node is None:
                continue
            if node in shared:
                shared[node][6] += 1
                continue
            lat, lon = ix.label[node]
            shared[node] = [a["id"], round(lat, 6), round(lon, 6), a["level"], a["rule"], node, 1, node,
                            a["id"] in silenced]
            out.append(shared[node])
        return out[::-1]

    # ------------------------------------------------------------------ patrol
    # ------------------------------------------------------------------ slow, shared reads
    def _refresh_slow(self) -> bool:
        """Re-read the shared sources at most every SLOW_S seconds (one thread does it, others reuse)."""
        if time.monotonic() - self._slow_at < SLOW_S or not self._lock.acquire(blocking=False):
            return self._slow_ok
        try:
            self._slow_at = time.monotonic()
            slow: dict[str, Any] = {}
            ok = True
            try:
                slow.update(self._read_redis_slow())
            except redis.RedisError as exc:
                outage.report("redis", exc)
                ok = False
            try:
                slow.update(self._read_sql_slow())
            except SQLAlchemyError as exc:
                outage.report("database", exc)
                ok = False
            if ok:
                self._slow = slow
            self._slow_ok = ok
            return ok
        finally:
            self._lock.release()

    def _read_redis_slow(self) -> dict[str, Any]:
        r, ix, now = self.ctx.redis, self.index, time.time()
        online = set(r.zrangebyscore(names.DEVICE_LAST_SEEN, now - ONLINE_WINDOW_S, "+inf"))
        streamed = [c.id for c in ix.cameras if c.streamed]
        pipe = r.pipeline(transaction=False)
        for cid in streamed:
            pipe.hmget(names.camera_health(cid), "state", "last_frame_at", "fps")
        health = {}
        for cid, (state, last_frame, fps) in zip(streamed, pipe.execute()):
            fresh = last_frame is not None and now - int(last_frame) / 1000.0 <= CAMERA_FRAME_S
            health[cid] = {"online": bool(state in ("online", "degraded") and fresh),
                           "state": state or "unknown", "fps": fps}
        return {"online": online, "health": health, "hours": self.hours.districts(r),
                "cam_raw": camera_rates.read_health(r, ix)}

    def _read_sql_slow(self) -> dict[str, Any]:
        tz = self.ctx.tz
        midnight = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        week = midnight - timedelta(days=7)
        with Session(self.ctx.engine) as s:
            today = s.execute(select(Alert.district_id, Alert.community_id, Alert.cell_id, Alert.status,
                                     Alert.opened_at, Alert.acknowledged_at, Alert.dispatched_at,
                                     Alert.on_scene_at)
                              .where(Alert.opened_at >= midnight, Alert.alert_id.is_not(None))).all()
            density = s.execute(select(Alert.community_id, Alert.cell_id, func.count())
                                .where(Alert.opened_at >= week).group_by(Alert.community_id, Alert.cell_id)).all()
        dens: dict[str, int] = {}
        for community, cell, n in density:
            for node in (community, cell):
                if node:
                    dens[node] = dens.get(node, 0) + int(n)
        return {"today": [tuple(r) for r in today], "density": dens}

    # ------------------------------------------------------------------ sections from the slow data
    def _devices_cached(self, ix: WallIndex, scope: str | None) -> dict[str, Any]:
        """``_devices`` changes only with the slow data (every ``SLOW_S``): computed once per scope and
        slow read, shared by every wall on the scope (19,000 cameras are counted every 2 s, not every second
        per wall)."""
        key = (id(ix), id(self._slow), scope)
        hit = self._dev_cache.get(key)
        if hit is None:
            if len(self._dev_cache) > 256:
                self._dev_cache.clear()
            hit = self._dev_cache[key] = self._devices(ix, scope)
        return hit

    def _devices(self, ix: WallIndex, scope: str | None) -> dict[str, Any]:
        """Camera and door markers of the scope: one cluster per child node (``[node, lat, lon, kind, on, n]``)
        above a community or when the community holds more than ``CLUSTER_ABOVE`` of a kind, else one point
        each (``[id, lat, lon, kind, on, cell]``); and the camera figures of 视频在线率."""
        online, health = self._slow["online"], self._slow["health"]
        cams = ix.cameras_in(scope)
        cam_up = {c.id: (health[c.id]["online"] if c.streamed and c.id in health else c.id in online) for c in cams}
        doors = ix.doors_in(scope)
        points: list[list[Any]] = []
        for kind, things, up in (("camera", cams, cam_up.__getitem__), ("door", doors, online.__contains__)):
            child = cluster_level(ix, scope, len(things))
            if child is None:
                points += [[c.id, round(c.lat, 6), round(c.lon, 6), kind, 1 if up(c.id) else 0, c.cell_id]
                           for c in things]
            else:
                points += clusters(ix, things, child, kind, up)
        return {"points": points, "cameras": len(cams), "cameras_online": sum(cam_up.values())}

    def _camera_tiles(self, ix: WallIndex, scope: str | None) -> dict[str, Any]:
        """The scope's own streamed cameras (never another area's: an empty scope says so, with the number of
        cameras it has registered)."""
        health = self._slow["health"]
        cams = ix.cameras_in(scope)
        tiles = [c for c in cams if c.streamed]
        return {"registered": len(cams), "tiles": [
            {"id": c.id, "name": c.name, "online": health.get(c.id, {}).get("online", False),
             "state": health.get(c.id, {}).get("state", "unknown")} for c in tiles[:36]]}

    def _scope_hours(self, ix: WallIndex, scope: str | None) -> dict[str, int] | None:
        """Events per local hour in the scope: districts from the shared read, a community or cell from its own."""
        level = ix.level.get(scope or "")
        if scope is not None and level in ("community", "cell"):
            community = scope if level == "community" else ix.community.get(scope, "")
            hours = self.hours.community(self.ctx.redis, community, SLOW_S)
            return per_hour(hours, None if level == "community" else scope.__eq__)
        if not self._slow:
            return None
        districts = ix.districts_of(scope)
        return per_hour(self._slow["hours"], None if districts is None else districts.__contains__)

    def _kpis(self, ix: WallIndex, scope: str | None, open_rows: list[dict[str, Any]] | None,
              zcard: int | None, patrol: dict[str, Any] | None, devices: dict[str, Any] | None,
              hours: dict[str, Any] | None) -> dict[str, Any]:
        k: dict[str, Any] = {}
        if open_rows is not None:
            by = {"red": 0, "orange": 0, "yellow": 0}
            for a in open_rows:
                if a["level"] in by:
                    by[a["level"]] += 1
            k["levels"] = by
            k["open"] = zcard if scope is None and zcard is not None else len(open_rows)
        elif zcard is not None:
            k["open"] = zcard
        if devices is not None:
            k.update(camera_rates.camera_rates(ix, scope, self._slow["cam_raw"], self._slow["online"]))
        if patrol is not None:
            k["patrol_rate"] = _pct(patrol["on_post"], patrol["staffed"])
            k["patrol_rate_parts"] = (patrol["on_post"], patrol["staffed"])
        if hours is not None:
            k["events_today"] = sum(hours["today"])
        if self._slow:
            today = [r for r in self._slow["today"]
                     if scope is None or any(ix.inside(n, scope) for n in r[:3] if n)]
            k.update(camera_rates.alert_rates(today))
        return k


def _epoch(dt: datetime) -> float:
    """Epoch seconds of a DB timestamp (SQLite gives naive UTC)."""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def patrol_summary(ix: WallIndex, scope: str | None, positions: dict[str, str], now: float,
                   local: datetime) -> dict[str, Any]:
    """Unit markers (on post / moving / off) and 在岗率's parts: of the units whose shift is on now (a unit
    off shift is neither on post nor missing), how many are at their posts."""
    points, counts = [], {"on_post": 0, "moving": 0, "off": 0}
    staffed = on_post = 0
    for unit in ix.units_in(scope):
        raw = positions.get(unit.id)
        doc = orjson.loads(raw) if raw else None
        state = "off"
        lat, lon = unit.lat, unit.lon
        if doc is not None:
            lat, lon = float(doc.get("lat", lat)), float(doc.get("lon", lon))
            fresh = now - float(doc.get("ts", 0)) / 1000.0 <= PATROL_SILENT_S
            if fresh and doc.get("status") != "off_duty":
                near = unit.post_id is not None and distance_m(lat, lon, unit.lat, unit.lon) <= unit.radius_m
                state = "on_post" if near else "moving"
        counts[state] += 1
        if unit.shift and on_shift(*unit.shift, local):
            staffed += 1
            on_post += state == "on_post"
        if doc is not None or unit.post_id:
            points.append([unit.id, round(lat, 6), round(lon, 6), state, unit.cell_id])
    if ix.level.get(scope or "", "city") == "city" and len(points) > CLUSTER_ABOVE:  # by district at city level
        state_of = {p[0]: p[3] for p in points}
        points = clusters(ix, ix.units_in(scope), "district", "patrol", lambda uid: state_of.get(uid) == "on_post")
    return {"points": points, "counts": counts, "staffed": staffed, "on_post": on_post}


def _pct(n: int, total: int) -> float | None:
    """Percent to one decimal, honest at the ends (``assessment.figures.rate``)."""
    return figures.rate(n, total)


CHILD_LEVEL = {"city": "district", "district": "community", "community": "cell"}
CLUSTER_ABOVE = 60  # more markers of one kind than this in a community: one cluster per cell
GROUP_ALERTS_ABOVE = 60  # more open alerts than this in a city or district view: yellow ones grouped by area


def cluster_level(ix: WallIndex, scope: str | None, count: int) -> str | None:
    """The grid level whose nodes gather the scope's markers into clusters, or None for one marker each:
    the city clusters by district, a district by community, a crowded community by cell; a cell never."""
    level = ix.level.get(scope or "", "city") if scope else "city"
    if level == "community" and count <= CLUSTER_ABOVE:
        return None
    return CHILD_LEVEL.get(level)


def clusters(ix: WallIndex, things: Any, level: str, kind: str, up: Any) -> list[list[Any]]:
    """``[node, lat, lon, "<kind>_cluster", on, n]`` per node of ``level`` holding some of ``things`` (at its label
    point); the grouping is kept on the index (``WallIndex.groups``), only the online count is done here."""
    out = []
    for node, members in ix.groups(things, level):
        lat, lon = ix.label[node]
        out.append([node, round(lat, 6), round(lon, 6), f"{kind}_cluster", sum(1 for m in members if up(m)),
                    len(members)])
    return out


def reader(ctx: Any) -> WallReader:
    """The app's WallReader (created on first use, kept on the context like the API's session factory)."""
    r = ctx.__dict__.get("_wall_reader")
    if r is None:
        r = ctx.__dict__.setdefault("_wall_reader", WallReader(ctx))
    return r
