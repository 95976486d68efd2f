"""A Redis or database outage as the dashboard lives it: one WARNING when it starts, one INFO when it ends.

Sessions, the wall's figures and most desks read Redis, so while it is away nearly every request fails. Left
to Flask, each failure was an ERROR with a full traceback (43 in 17 s for one open wall) that buried the one
fact worth reading. Here such a failure answers 503 (JSON under ``/api/`` and for Dash callbacks, a short
text in the screen's language for pages; the wall keeps its last picture and says "data interrupted") and is
logged once per outage per process (the dashboard's heartbeat reports to the same log); while an outage
lasts, each request first checks (at most twice a second) whether the dependency answers again, and the
first time it does, one INFO line says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, Response, current_app, has_app_context, request
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from onescreen.log import redact_url

log = logging.getLogger(__name__)

RECHECK_S = 0.5
DB_OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


class Outage:
    """One dependency's state in this process: up, or down since when (thread-safe: waitress has threads)."""

    def __init__(self, name: str, probe: Callable[[], Any], clock: Callable[[], float] = time.monotonic):
        self.name = name
        self.probe = probe
        self.clock = clock
        self.down_since: float | None = None
        self.failures = 0
        self._checked = 0.0
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        """A request (or the heartbeat) failed on this dependency: WARNING at the first failure of an outage."""
        with self._lock:
            self.failures += 1
            if self.down_since is not None:
                return
            self.down_since = self._checked = self.clock()
        message = " ".join(redact_url(str(exc)).split())[:200]
        log.warning("%s unavailable (%s: %s): answering 503 until it is back", self.name, type(exc).__name__,
                    message)

    def recheck(self) -> None:
        """While down: probe (at most every RECHECK_S); INFO once it answers again."""
        with self._lock:
            now = self.clock()
            if self.down_since is None or now - self._checked < RECHECK_S:
                return
            self._checked = now
        try:
            self.probe()
        except Exception:  # still down: the request will find out and be answered 503
            return
        self.back()

    def back(self) -> None:
        """The dependency answers again: INFO once, if it was down."""
        with self._lock:
            if self.down_since is None:
                return
            lasted, failures = self.clock() - self.down_since, self.failures
            self.down_since, self.failures = None, 0
        log.info("%s reachable again after %.1f s (%d failures seen meanwhile)", self.name, lasted,
                 failures)


def install(server: Flask, ctx: Any) -> dict[str, Outage]:
    """Register the outage handlers on the dashboard's Flask server."""

    def db_probe() -> None:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    outages = {"redis": Outage("Redis", ctx.redis.ping), "database": Outage("database", db_probe)}
    server.extensions["onescreen.outages"] = outages

    @server.before_request
    def _recheck() -> None:
        for outage in outages.values():
            if outage.down_since is not None:
                outage.recheck()

    def answer(outage: Outage, exc: BaseException) -> Response:
        outage.failed(exc)
        if request.path.startswith(("/api/", "/_dash-")):
            return Response(f'{{"error": "unavailable", "message": "{outage.name} unavailable"}}', status=503,
                            mimetype="application/json", headers={"Retry-After": "2"})
        return Response(ctx.t("wall.data_down"), status=503, mimetype="text/plain",
                        headers={"Retry-After": "2"})

    @server.errorhandler(redis.RedisError)
    def _redis_down(exc: redis.RedisError) -> Response:
        if not isinstance(exc, (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)):
            raise exc  # a bug (wrong type, bad command), not an outage: Flask logs it as usual
        return answer(outages["redis"], exc)

    @server.errorhandler(sa_exc.SQLAlchemyError)
    def _database_down(exc: sa_exc.SQLAlchemyError) -> Response:
        invalidated = isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
        if not (isinstance(exc, DB_OUTAGES) or invalidated):
            raise exc
        return answer(outages["database"], exc)

    return outages


def report(dependency: str, exc: BaseException) -> None:
    """A failure a callback caught and survived (the wall keeps its last figures): counted in the current
    app's outage, so it too gives one WARNING per outage instead of one line per refresh."""
    outages = current_app.extensions.get("onescreen.outages") if has_app_context() else None
    if outages is None:
        log.warning("%s unavailable: %s", dependency, type(exc).__name__)
        return
    outages[dependency].failed(exc)
