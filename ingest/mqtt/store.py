"""Batched, idempotent writes of parsed messages to Redis: one pipeline (one round trip) per batch.

Each accepted event goes through one Lua call that marks its ``event_id`` as seen (SET NX with the dedup
window as TTL) and appends it to its partition's stream only if it was new; the seen-mark and the stream share
the partition's hash tag, so the pair is atomic on a single Redis and legal on Redis Cluster. Replaying a batch
after a failure (Redis restarted mid-pipeline) therefore stores nothing twice. Hot state for the screens and the
rules (latest patrol position, device last-seen, latest edge count) and the rejected store ride in the same
pipeline; per-hour counts by district and family, and by cell and family in a hash per community, are kept by
the same Lua call, so an aggregate never counts a duplicate and the screens never scan a stream.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import redis

from ingest.mqtt.parsers import Accepted, Rejected
from onescreen import names
from onescreen.events import StreamRecord

# KEYS: seen-mark, stream, district and community hourly aggregates (same partition tag);
# ARGV: dedup ttl, maxlen, doc, district agg field, agg ttl, community agg field
STORE_ONCE = f"""
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', '{StreamRecord.FIELD}', ARGV[3])
  if redis.call('HINCRBY', KEYS[3], ARGV[4], 1) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
  if redis.call('HINCRBY', KEYS[4], ARGV[6], 1) == 1 then redis.call('EXPIRE', KEYS[4], ARGV[5]) end
  return 1
end
return 0
"""
AGG_TTL_S = 9 * 86_400  # the wall's 7-day heat map plus margin
REJECTED_MAXLEN = 100_000


@dataclass(frozen=True, slots=True)
class RawRejected:
    """A rejection with what the admin page shows: topic, raw payload (cut at 64 KiB), time received."""

    topic: str
    payload: bytes
    received_ms: int
    rejection: Rejected


@dataclass(slots=True)
class BatchResult:
    new: list[bool]  # per accepted event: stored now (True) or a duplicate (False)
    rejected: int
    seconds: float

    @property
    def stored(self) -> int:
        return sum(self.new)

    @property
    def duplicates(self) -> int:
        return len(self.new) - self.stored


class EventStore:
    """Writes batches; raises redis.RedisError when Redis is unreachable (the caller retries the batch)."""

    def __init__(self, client: redis.Redis, dedup_window_s: int, stream_maxlen: int, timezone: str = "Asia/Shanghai",
                 ack_replicas: int = 0, ack_timeout_ms: int = 200):
        self.client = client
        # WAIT for this many replicas before the batch counts as stored (docs/scale.md, failover)
        self.ack_replicas, self.ack_timeout_ms = ack_replicas, ack_timeout_ms
        self.unreplicated = 0  # batches acknowledged although fewer replicas confirmed them (a replica down)
        self.zone = ZoneInfo(timezone)
        self.dedup_window_s = dedup_window_s
        self.stream_maxlen = stream_maxlen
        self._sha: str | None = None  # loaded on first write: Redis may be down when we start
        self._hours: dict[int, str] = {}

    def write(self, accepted: Sequence[Accepted], rejected: Sequence[RawRejected]) -> BatchResult:
        """One pipeline for the batch; after a Redis restart (script cache empty) load and replay it once."""
        if self._sha is None:
            self._sha = self.client.script_load(STORE_ONCE)
        try:
            return self._write(accepted, rejected)
        except redis.exceptions.NoScriptError:
            self._sha = self.client.script_load(STORE_ONCE)
            return self._write(accepted, rejected)  # idempotent: events already stored come back as duplicates

    def _write(self, accepted: Sequence[Accepted], rejected: Sequence[RawRejected]) -> BatchResult:
        t0 = time.perf_counter()
        pipe = self.client.pipeline(transaction=False)
        for ev in accepted:
            doc = ev.doc
            hour = self._hour(doc["ts"])
            keys = [names.dedup_key(ev.partition, ev.event_id), names.event_stream(ev.family, ev.partition),
                    names.hourly_counts(ev.partition, hour),
                    names.community_hourly_counts(ev.partition, doc["community_id"], hour)]
            args = [self.dedup_window_s, self.stream_maxlen, StreamRecord.payload(doc),
                    f"{doc['district_id']}|{ev.family}", AGG_TTL_S, f"{doc['cell_id']}|{ev.family}"]
            # plain EVALSHA: redis-py's Script object would add a SCRIPT EXISTS round trip to every batch
            pipe.evalsha(self._sha, len(keys), *keys, *args)
        self._hot_state(pipe, accepted)
        for r in rejected:
            pipe.xadd(names.REJECTED, {
                "topic": r.topic, "payload": r.payload[:65536], "rx": r.received_ms,
                "reason": r.rejection.reason, "detail": r.rejection.detail,
            }, maxlen=REJECTED_MAXLEN, approximate=True)
            pipe.hincrby(names.REJECTED_COUNTS, r.rejection.reason.split(":")[0], 1)
        if self.ack_replicas:  # onescreen.redisconn pipelines (single or cluster): WAIT on every node written
            pipe.replicated(self.ack_replicas, self.ack_timeout_ms)
        replies = pipe.execute() if (accepted or rejected) else []
        if self.ack_replicas and replies and (pipe.replica_acks or 0) < self.ack_replicas:
            self.unreplicated += 1
        return BatchResult([x == 1 for x in replies[:len(accepted)]], len(rejected), time.perf_counter() - t0)

    def _hour(self, ts_ms: int) -> str:
        """Local hour bucket of an event: "today vs yesterday" is the city's day, not UTC's."""
        hour_start = ts_ms // 3_600_000
        cached = self._hours.get(hour_start)
        if cached is None:
            cached = datetime.fromtimestamp(hour_start * 3600, self.zone).strftime("%Y%m%d%H")
            if len(self._hours) > 1000:
                self._hours.clear()
            self._hours[hour_start] = cached
        return cached

    @staticmethod
    def _hot_state(pipe: redis.client.Pipeline, accepted: Sequence[Accepted]) -> None:
        """Latest-per-subject state; within a batch only the newest message of each subject is written."""
        last_seen: dict[str, int] = {}
        positions: dict[str, dict] = {}
        counts: dict[str, dict] = {}
        for ev in accepted:
            ts = ev.doc["ts"]
            if last_seen.get(ev.device_id, -1) < ts:
                last_seen[ev.device_id] = ts
            if ev.family == names.PATROL and positions.get(ev.device_id, {}).get("ts", -1) < ts:
                positions[ev.device_id] = ev.doc
            elif ev.family == names.COUNT:
                key = f"{ev.device_id}/{ev.doc['zone']}"
                if counts.get(key, {}).get("ts", -1) < ts:
                    counts[key] = ev.doc
        if last_seen:
            pipe.zadd(names.DEVICE_LAST_SEEN, {k: v / 1000 for k, v in last_seen.items()}, gt=True)
        if positions:
            pipe.hset(names.PATROL_LATEST, mapping={k: orjson.dumps(v) for k, v in positions.items()})
        if counts:
            pipe.hset(names.EDGE_COUNT_LATEST, mapping={k: orjson.dumps(v) for k, v in counts.items()})
