"""The one shape every OneScreen process has (rq-style worker loop).

``Worker.run()``: ``setup()`` once, then ``step()`` until stopped, then ``teardown()``. SIGTERM/SIGINT set
the stop event (warm shutdown: the current step finishes); a second signal exits at once (cold shutdown).
A heartbeat thread writes the process's health hash to Redis every ``heartbeat_s`` with a TTL of three
beats, so ``/api/health`` shows a process as gone within seconds of its death, even after kill -9.
A Redis outage never stops a worker: the heartbeat logs once that it cannot write and once when it can again,
and retries every half second meanwhile, so the process shows alive again right after Redis is back.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import Any

import orjson
import redis

from onescreen import names
from onescreen.redisconn import connect
from onescreen.settings import Settings

log = logging.getLogger(__name__)

RETRY_S = 0.5  # heartbeat retry interval while Redis is unreachable


def default_instance() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Worker:
    """Base of every process; subclasses set ``kind`` and implement ``step`` (and maybe setup/teardown)."""

    kind = "worker"
    heartbeat_s = 2.0

    def __init__(self, settings: Settings, instance: str | None = None):
        self.settings = settings
        self.instance = instance or default_instance()
        self.stop_event = threading.Event()
        self.started_at = time.time()
        self._hb_redis: redis.Redis | None = None
        self._hb_thread: threading.Thread | None = None
        self._hb_ok = True

    # ------------------------------------------------------------ to override
    def setup(self) -> None:
        """Open connections and load what the loop needs."""

    def step(self) -> None:
        """Do one bounded unit of work (return within about a second so stop is prompt)."""
        self.stop_event.wait(1.0)

    def teardown(self) -> None:
        """Flush and close; called once after the loop, also after an error."""

    def health(self) -> dict[str, Any]:
        """Extra fields for this process's health record (counters, states)."""
        return {}

    # ------------------------------------------------------------ the loop
    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> int:
        """Run until stopped; returns the process exit code."""
        self._install_signals()
        log.info("%s %s starting", self.kind, self.instance)
        self.setup()
        self._start_heartbeat()
        try:
            while not self.stop_event.is_set():
                self.step()
        finally:
            log.info("%s %s stopping", self.kind, self.instance)
            self.stop_event.set()
            try:
                self.teardown()
            finally:
                self._stop_heartbeat()
        log.info("%s %s stopped", self.kind, self.instance)
        return 0

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # tests run workers in threads and stop them with stop()

        def _handler(signum: int, _frame: object) -> None:
            if self.stop_event.is_set():
                log.warning("second %s: exiting now", signal.Signals(signum).name)
                os._exit(130)
            log.info("%s received: finishing the current step", signal.Signals(signum).name)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)

    # ------------------------------------------------------------ heartbeat
    def _start_heartbeat(self) -> None:
        self._hb_redis = connect(self.settings.redis)
        self._hb_thread = threading.Thread(target=self._heartbeat_loop, name=f"{self.kind}-heartbeat", daemon=True)
        self._hb_thread.start()

    def _stop_heartbeat(self) -> None:
        if self._hb_thread is not None:
            self._hb_thread.join(timeout=self.heartbeat_s + 1)
        if self._hb_redis is not None:
            try:
                member = f"{self.kind}:{self.instance}"
                self._hb_redis.zrem(names.PROCESSES, member)
                self._hb_redis.delete(names.process_health(self.kind, self.instance))
            except redis.RedisError:
                pass
            self._hb_redis.close()

    def beat(self) -> None:
        """Write the health record now (also called by the heartbeat thread)."""
        assert self._hb_redis is not None
        now = time.time()
        record = {
            "kind": self.kind,
            "instance": self.instance,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "heartbeat_at": now,
            "detail": orjson.dumps(self.health(), default=str).decode(),
        }
        key = names.process_health(self.kind, self.instance)
        pipe = self._hb_redis.pipeline(transaction=False)
        pipe.hset(key, mapping=record)
        pipe.expire(key, int(self.heartbeat_s * 3) + 1)
        pipe.zadd(names.PROCESSES, {f"{self.kind}:{self.instance}": now})
        pipe.execute()

    def redis_lost(self, exc: redis.RedisError) -> None:
        """The heartbeat could not write (once per outage); a process with its own outage log overrides this."""
        log.warning("heartbeat: cannot write to Redis (%s); will keep trying", exc)

    def redis_back(self) -> None:
        """The heartbeat writes again after an outage (once)."""
        log.info("heartbeat: Redis reachable again")

    def _heartbeat_loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.beat()
                if not self._hb_ok:
                    self.redis_back()
                self._hb_ok = True
            except redis.RedisError as exc:
                if self._hb_ok:
                    self.redis_lost(exc)
                self._hb_ok = False
            except Exception:  # a bug in health() must not kill the heartbeat
                log.exception("heartbeat: health() failed")
            # while Redis fails, try again soon: the first beat after an outage tells /api/health we are alive
            self.stop_event.wait(self.heartbeat_s if self._hb_ok else min(self.heartbeat_s, RETRY_S))
