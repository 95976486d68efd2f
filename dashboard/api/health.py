"""``GET /api/health``: is the dashboard up, and what does it see of Redis, the database and the processes.

Status code: **always 200** while the dashboard can answer (CONTRACT §3), whatever the dependencies say;
the body's ``status`` carries the verdict. The HTTP code is the dashboard's own liveness: a load balancer
that pulled the wall server off the network whenever Redis blinked would blank the screen at the moment it
must say "data interrupted". Readiness probes that want a failing code ask ``/api/health?strict=1``, which
answers 503 unless the status is ``ok``.

Body::

    {"status": "ok" | "degraded" | "down",
     "checked_at": "2026-11-22T21:15:30.123+08:00",
     "components": {
        "redis":     {"status": "ok", "latency_ms": 0.4} | {"status": "error", "error": "..."},
        "database":  {"status": "ok", "latency_ms": 1.1, "dialect": "sqlite"} | {"status": "error", ...},
        "processes": {"status": "ok" | "degraded" | "unknown", "alive": 3, "total": 4, "kinds_down": [],
                      "kinds_unknown": [...], "redis_back_s": 1.2}},   # the last two only just after an outage
     "processes": [{"kind", "instance", "pid", "started_at", "heartbeat_at", "age_s",
                    "alive": true | false | null, "detail"}]}

``down``: Redis or the database fails. ``degraded``: some process kind seen in the last hour has no live
instance (alive = heartbeat within 10 s). A dead instance whose kind has another live one (a restart gets
a new instance name) does not degrade the status; it stays listed, ``alive: false``, for an hour.

Just after a Redis outage the heartbeats in Redis are old (they could not be written, or a restarted Redis
loaded them from its append-only file) although the processes are alive and beating again within a second
or two. For ``RECOVERY_GRACE_S`` after Redis came back (this dashboard saw it fail, or Redis' own uptime says
it restarted) a process with an old heartbeat is therefore ``alive: null`` (``unknown``), not dead, and the
processes component says ``unknown`` with ``kinds_unknown`` and ``redis_back_s``: the report never calls a
live process dead. A process that is really gone is reported down once the grace has passed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis
from flask import Blueprint, Response, current_app, request
from sqlalchemy import Engine, text

from dashboard.context import app_context
from onescreen import names
from onescreen.log import redact_url

bp = Blueprint("health", __name__)

ALIVE_WITHIN_S = 10.0      # a process is alive if it beat this recently (heartbeat every 2 s)
FORGET_AFTER_S = 3600.0    # processes silent for longer are no longer listed
PROBE_TIMEOUT_S = 3.0      # a hanging dependency must not hang the health answer
RECOVERY_GRACE_S = 6.0     # after Redis is back: time for every live process to beat again (workers retry
                           # every 0.5 s while Redis fails, onescreen.worker)
UNSEEN_OUTAGE_S = 10.0     # a restart this dashboard did not see fail: assume an outage up to this long


def _error(exc: BaseException) -> dict[str, Any]:
    message = " ".join(str(exc).split()) or exc.__class__.__name__
    return {"status": "error", "error": redact_url(f"{exc.__class__.__name__}: {message}")[:300]}


class BoundedProbe:
    """Runs a check in a daemon thread, waiting at most ``timeout``; never stacks checks behind a hung one."""

    def __init__(self, check: Callable[[], dict[str, Any]], timeout: float = PROBE_TIMEOUT_S):
        self.check = check
        self.timeout = timeout
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._result: dict[str, Any] | None = None
        self.failed_at = 0.0  # epoch s of the last check that failed (or did not answer)
        self.down_since = 0.0  # epoch s of the first failure of the latest run of failures
        self._ok = True

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            result = {"status": "ok", **self.check()}
            result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        except Exception as exc:  # any failure of a dependency is a health fact, not a crash
            result = _error(exc)
        self._result = result

    def __call__(self) -> dict[str, Any]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._result = None
                self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)
                self._thread.start()
            thread = self._thread
        thread.join(self.timeout)
        result = self._result
        if thread.is_alive() or result is None:
            result = {"status": "error", "error": f"no answer within {self.timeout:g} s"}
        ok = result["status"] == "ok"
        if not ok:
            now = time.time()
            if self._ok:  # the first failure of a run
                self.down_since = now
            self.failed_at = now
        self._ok = ok
        return result


def redis_check(client: redis.Redis) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        uptime = client.info("server").get("uptime_in_seconds")  # also proves the connection, like PING
        return {"uptime_s": int(uptime)} if isinstance(uptime, int) else {}
    return check


def database_check(engine: Engine) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
        return {"dialect": engine.dialect.name}
    return check


def _iso(epoch: float | None, tz: ZoneInfo) -> str | None:
    return datetime.fromtimestamp(epoch, tz).isoformat(timespec="milliseconds") if epoch else None


def _str(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def list_processes(client: redis.Redis, now: float, tz: ZoneInfo, back_at: float = 0.0,
                   down_since: float = 0.0) -> list[dict[str, Any]]:
    """Processes that beat within the last hour, from the PROCESSES index and their health hashes.

    ``back_at``/``down_since``: when Redis last came back from an outage and when that outage began; within
    ``RECOVERY_GRACE_S`` of its end, a heartbeat that was fresh when it began means "unknown" (``alive:
    None``): the process may well be beating again this second. Older ones are dead as usual."""
    recovering = now - back_at < RECOVERY_GRACE_S
    members = client.zrangebyscore(names.PROCESSES, now - FORGET_AFTER_S, "+inf", withscores=True)
    pipe = client.pipeline(transaction=False)
    for member, _score in members:
        kind, _, instance = _str(member).partition(":")
        pipe.hgetall(names.process_health(kind, instance))
    hashes = pipe.execute() if members else []
    items = []
    for (member, score), raw in zip(members, hashes):
        kind, _, instance = _str(member).partition(":")
        h = {_str(k): _str(v) for k, v in raw.items()}
        beat = float(h.get("heartbeat_at") or score)
        try:
            detail = orjson.loads(h["detail"]) if h.get("detail") else {}
        except orjson.JSONDecodeError:
            detail = {"unparsed": h["detail"][:200]}
        age = max(0.0, now - beat)
        alive: bool | None = age <= ALIVE_WITHIN_S
        if not alive and recovering and beat >= down_since - ALIVE_WITHIN_S:
            alive = None
        items.append({
            "kind": h.get("kind") or kind,
            "instance": h.get("instance") or instance,
            "pid": int(h["pid"]) if h.get("pid", "").isdigit() else None,
            "started_at": _iso(float(h["started_at"]), tz) if h.get("started_at") else None,
            "heartbeat_at": _iso(beat, tz),
            "age_s": round(age, 1),
            "alive": alive,
            "detail": detail,
        })
    items.sort(key=lambda p: (p["kind"], p["instance"]))
    return items


def summarize_processes(items: list[dict[str, Any]], recovering: bool = False) -> dict[str, Any]:
    """A kind is down when none of its recent instances is alive; unknown when none is alive but one may be
    (Redis just came back), or, while recovering, when no process has beaten yet at all."""
    kinds: dict[str, bool | None] = {}
    for p in items:
        seen = kinds.get(p["kind"], False)
        kinds[p["kind"]] = True if (seen or p["alive"]) else (None if None in (seen, p["alive"]) else False)
    down = sorted(k for k, alive in kinds.items() if alive is False)
    unknown = sorted(k for k, alive in kinds.items() if alive is None)
    status = "degraded" if down else "unknown" if unknown or (recovering and not items) else "ok"
    out = {"status": status, "alive": sum(p["alive"] is True for p in items), "total": len(items),
           "kinds_down": down}
    if status == "unknown":
        out["kinds_unknown"] = unknown
    return out


def build_report(probes: dict[str, BoundedProbe], client: redis.Redis, tz: ZoneInfo) -> dict[str, Any]:
    """The health document (see the module docstring)."""
    now = time.time()
    components: dict[str, Any] = {"redis": probes["redis"](), "database": probes["database"]()}
    processes: list[dict[str, Any]] = []
    if components["redis"]["status"] == "ok":
        probe, uptime = probes["redis"], components["redis"].get("uptime_s")
        back_at, down_since = probe.failed_at, probe.down_since  # an outage this dashboard saw
        if uptime is not None and now - uptime > back_at:  # a restart after its last failed probe
            # its last failed probe came just before this restart: the same outage, whose start it knows
            seen = back_at > 0 and (now - uptime) - back_at < PROBE_TIMEOUT_S + 2
            back_at = now - uptime
            down_since = down_since if seen else back_at - UNSEEN_OUTAGE_S
        recovering = now - back_at < RECOVERY_GRACE_S
        try:
            processes = list_processes(client, now, tz, back_at, down_since)
            components["processes"] = summarize_processes(processes, recovering)
            if components["processes"]["status"] == "unknown":
                components["processes"]["redis_back_s"] = round(max(0.0, now - back_at), 1)
        except redis.RedisError as exc:
            components["processes"] = {**_error(exc), "status": "unknown"}
    else:
        components["processes"] = {"status": "unknown", "error": "Redis unreachable"}
    if any(components[c]["status"] != "ok" for c in ("redis", "database")):
        status = "down"
    elif components["processes"]["status"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "checked_at": _iso(now, tz), "components": components, "processes": processes}


def _probes() -> dict[str, BoundedProbe]:
    probes = current_app.extensions.get("onescreen.health")
    if probes is None:
        ctx = app_context()
        probes = {"redis": BoundedProbe(redis_check(ctx.redis)),
                  "database": BoundedProbe(database_check(ctx.engine))}
        current_app.extensions["onescreen.health"] = probes
    return probes


@bp.get("/api/health")
def health() -> Response:
    """Component status; no authentication (CONTRACT §3)."""
    ctx = app_context()
    report = build_report(_probes(), ctx.redis, ctx.tz)
    strict = request.args.get("strict", "").lower() in ("1", "true", "yes")
    code = 503 if strict and report["status"] != "ok" else 200
    return Response(orjson.dumps(report), status=code, mimetype="application/json",
                    headers={"Cache-Control": "no-store"})
