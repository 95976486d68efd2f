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
        "processes": {"status": "ok" | "degraded" | "unknown", "alive": 3, "total": 4, "kinds_down": []}},
     "processes": [{"kind", "instance", "pid", "started_at", "heartbeat_at", "age_s", "alive", "detail"}]}

``down``: Redis or the database fails. ``degraded``: some process kind seen in the last hour has no live
instance (alive = heartbeat within 10 s). A dead instance whose kind has another live one (a restart gets
a new instance name) does not degrade the status; it stays listed, ``alive: false``, for an hour.
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
        if thread.is_alive() or self._result is None:
            return {"status": "error", "error": f"no answer within {self.timeout:g} s"}
        return self._result


def redis_check(client: redis.Redis) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        client.ping()
        return {}
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


def list_processes(client: redis.Redis, now: float, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Processes that beat within the last hour, from the PROCESSES index and their health hashes."""
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
        items.append({
            "kind": h.get("kind") or kind,
            "instance": h.get("instance") or instance,
            "pid": int(h["pid"]) if h.get("pid", "").isdigit() else None,
            "started_at": _iso(float(h["started_at"]), tz) if h.get("started_at") else None,
            "heartbeat_at": _iso(beat, tz),
            "age_s": round(age, 1),
            "alive": age <= ALIVE_WITHIN_S,
            "detail": detail,
        })
    items.sort(key=lambda p: (p["kind"], p["instance"]))
    return items


def summarize_processes(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A kind is down when none of its recent instances is alive."""
    kinds: dict[str, bool] = {}
    for p in items:
        kinds[p["kind"]] = kinds.get(p["kind"], False) or p["alive"]
    down = sorted(k for k, alive in kinds.items() if not alive)
    return {"status": "degraded" if down else "ok", "alive": sum(p["alive"] for p in items),
            "total": len(items), "kinds_down": down}


def build_report(probes: dict[str, BoundedProbe], client: redis.Redis, tz: ZoneInfo) -> dict[str, Any]:
    """The health document (see the module docstring)."""
    now = time.time()
    components: dict[str, Any] = {"redis": probes["redis"](), "database": probes["database"]()}
    processes: list[dict[str, Any]] = []
    if components["redis"]["status"] == "ok":
        try:
            processes = list_processes(client, now, tz)
            components["processes"] = summarize_processes(processes)
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
