"""Everything ingest-video writes to Redis, in one place (key names from onescreen.names).

- the zone state, when it changes plus a heartbeat (onchange.py decides which analysed frames): one entry on
  the partition's VIDEO stream, an ``onescreen.events.StreamRecord`` (consumer: the alert engine); one
  command, sent by the camera's ``Appender`` on a connection of its own;
- about once a second: the latest JPEG (``camera_snapshot``) and the latest zone document
  (``camera_zones``, for screens), both with expiry so a dead camera's picture and figures disappear
  instead of freezing on the wall (a still scene's unchanged JPEG only has its expiry refreshed);
- the health hash of every camera a worker holds (``camera_health``), including the worker's instance.

A Redis outage must not stop the analysis: a failed write is dropped (the next entry carries the current
state anyway), logged once when it starts and once when writes work again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis

from ingest.video.entrances import add_crossings, local_hour
from onescreen import names
from onescreen.events import StreamRecord
from onescreen.redisconn import OwnConnection
from onescreen.settings import Settings

log = logging.getLogger(__name__)


class Publisher:
    """Thread-safe writer shared by a worker's camera pipelines (redis-py pools its connections)."""

    def __init__(self, client: redis.Redis, settings: Settings):
        self.redis = client
        self.partitions = settings.redis.partitions
        self.maxlen = settings.redis.stream_maxlen
        self.snapshot_ms = settings.video.snapshot_ttl_s * 1000
        self.zone = ZoneInfo(settings.city.timezone)
        self.entrance_ttl_s = settings.video.entrance_days_kept * 86_400
        self._ok = True
        self._recovered_at = 0.0  # monotonic time of the last failure → success switch
        self._lock = threading.Lock()
        self.written = 0
        self.dropped = 0

    def stream_of(self, community_id: str) -> str:
        """The VIDEO stream of a community's partition."""
        return names.event_stream(names.VIDEO, names.partition_of(community_id, self.partitions))

    def appender(self, camera_id: str) -> Appender:
        """A writer of one camera's per-frame figures, for its analyser thread (see Appender)."""
        return Appender(self, camera_id)

    def latest(self, camera_id: str, doc: dict[str, Any], jpeg: bytes | None, fresh: bool = True) -> None:
        """The camera's latest zone figures and JPEG, for screens (about once a second).

        ``fresh=False``: ``jpeg`` is the one already written; only its expiry is refreshed, and it is written
        again only if the key has gone meanwhile (Redis restarted, or memory eviction).
        """
        snapshot = names.camera_snapshot(camera_id)

        def write() -> None:
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(names.camera_zones(camera_id), orjson.dumps(doc), px=self.snapshot_ms)
            if jpeg is not None:
                if fresh:
                    pipe.set(snapshot, jpeg, px=self.snapshot_ms)
                else:
                    pipe.pexpire(snapshot, self.snapshot_ms)
            refreshed = pipe.execute()[-1]
            if jpeg is not None and not fresh and not refreshed:
                self.redis.set(snapshot, jpeg, px=self.snapshot_ms)

        self._run(write, "snapshot")

    def crossings(self, community_id: str, camera_id: str, ts: float, crossed: dict[str, dict[str, int]]) -> None:
        """Add one frame's entrance crossings ``{line: {direction: n}}`` to the community's hourly counts."""
        pipe = self.redis.pipeline(transaction=False)
        add_crossings(pipe, community_id, camera_id, local_hour(ts, self.zone), crossed, self.entrance_ttl_s)
        self._run(pipe.execute, "entrance counts")

    def health(self, records: dict[str, dict[str, Any]]) -> None:
        """Write the health hashes of several cameras in one round trip."""
        if not records:
            return
        pipe = self.redis.pipeline(transaction=False)
        for camera_id, record in records.items():
            pipe.hset(names.camera_health(camera_id), mapping={k: _flat(v) for k, v in record.items()})
        self._run(pipe.execute, "camera health")

    def _run(self, write: Callable[[], Any], what: str) -> bool:
        started = time.monotonic()
        try:
            write()
        except redis.RedisError as exc:
            with self._lock:
                self.dropped += 1
                # Writes run on several threads: one that began before Redis came back can still fail after
                # another has seen it back. That failure belongs to the outage already reported, not a new one.
                if self._ok and started >= self._recovered_at:
                    log.error("Redis write of %s failed (%s): dropping video output until it is back", what, exc)
                    self._ok = False
            return False
        with self._lock:
            self.written += 1
            if not self._ok:
                log.info("Redis writable again: video output resumed")
                self._recovered_at = time.monotonic()
            self._ok = True
        return True


def _flat(value: Any) -> str | int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, str)):
        return value
    return orjson.dumps(value).decode()


class Appender:
    """One camera's per-frame zone figures onto its partition's VIDEO stream, on a connection of its own.

    The hot path: five commands a second per camera. Through the shared pool a command first checks a
    connection out, polls it for stray data (a system call) and checks it back in; on a connection of its
    own it is one send and one read, about half the CPU (docs/video.md, the breakdown). Used by one thread
    at a time, closed by it when the camera stops (Redis' CLIENT LIST names it ``video:<camera>``). No
    retry: a failed write is dropped like every video write (the next frame carries the current state),
    and the next one connects again.
    """

    def __init__(self, publisher: Publisher, camera_id: str):
        self.publisher = publisher
        self.conn = OwnConnection(publisher.redis, f"video:{camera_id}")  # to the stream's node (cluster too)

    def append(self, stream: str, doc: dict[str, Any]) -> None:
        """Append one frame's zone figures to ``stream``."""
        self.publisher._run(lambda: self._xadd(stream, StreamRecord.payload(doc)), "zone figures")

    def _xadd(self, stream: str, payload: bytes) -> None:
        self.conn.call(stream, "XADD", stream, "MAXLEN", "~", self.publisher.maxlen, "*", StreamRecord.FIELD, payload)

    def close(self) -> None:
        """Close the connection (the camera stops; a later append would open it again)."""
        self.conn.close()
