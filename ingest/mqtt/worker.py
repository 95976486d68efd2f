"""The ingest-mqtt process: devices' MQTT messages → validated, placed, deduplicated events in Redis.

No loss, by construction rather than by care:
- a persistent MQTT v5 session (clean_start off, session expiry) on a stable client id, so the broker keeps
  what arrives while we are down, and a shared subscription so several ingestors split the devices;
- manual acknowledgement: a message is PUBACKed only after the pipeline holding it has been executed by Redis;
- the broker may have at most ``mqtt.receive_maximum`` unacknowledged messages out to us (MQTT v5 Receive
  Maximum), which bounds our memory; when Redis is down we stop acknowledging, so the broker stops sending and
  queues (the shipped broker configs never drop queued QoS 1), and we retry the batch until Redis is back;
- replays after a crash are harmless: the store appends an event_id at most once per dedup window.
Parsing and storing run on the worker thread in batches; paho's network thread only enqueues.
"""

from __future__ import annotations

import logging
import queue
import random
import time
from collections import Counter as Tally
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
import redis
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from ingest.mqtt.client import LeanClient
from ingest.mqtt.parsers import Accepted, Limits, Rejected, parse_message
from ingest.mqtt.store import EventStore, RawRejected
from onescreen import mqttconn
from onescreen.db.session import make_engine
from onescreen.names import Topics
from onescreen.redisconn import connect
from onescreen.registry.cache import RegistryCache
from onescreen.worker import Worker

log = logging.getLogger(__name__)

RECEIVED = Counter("onescreen_ingest_received_total", "MQTT messages received")
STORED = Counter("onescreen_ingest_stored_total", "Events appended to a stream", ["family"])
DUPLICATES = Counter("onescreen_ingest_duplicates_total", "Events whose event_id was already stored")
REJECTED = Counter("onescreen_ingest_rejected_total", "Messages rejected", ["reason"])
BATCH = Histogram("onescreen_ingest_batch_size", "Messages per Redis pipeline",
                  buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000))
WRITE = Histogram("onescreen_ingest_redis_write_seconds", "Redis pipeline latency",
                  buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
LAG = Histogram("onescreen_ingest_lag_seconds", "Device ts → stored", buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300))
BUFFERED = Gauge("onescreen_ingest_buffered", "Messages received and not yet acknowledged")


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes
    received_ms: int
    mid: int
    qos: int


class MqttIngestWorker(Worker):
    kind = "ingest-mqtt"

    def __init__(self, *args: Any, drain: bool = False, **kwargs: Any):
        """``drain``: retire this instance's MQTT session: take what the broker queued for it, then end it."""
        super().__init__(*args, **kwargs)
        self.drain = drain
        self.idle_since = time.monotonic()
        self.counts = {"received": 0, "stored": 0, "duplicates": 0, "rejected": 0}
        self.connected = False
        self.subscribed = False  # SUBACK seen: from here on nothing published is missed, even on a new session
        self.redis_ok = True

    def setup(self) -> None:
        s = self.settings
        self.limits = Limits(prefix=s.mqtt.prefix, partitions=s.redis.partitions,
                             late_limit_ms=s.city.late_limit_s * 1000, future_limit_ms=s.city.future_limit_s * 1000)
        self.engine = make_engine(s.database.url)
        self.registry = RegistryCache.load(self.engine)
        self.redis = connect(s.redis)
        self.store = EventStore(self.redis, s.mqtt.dedup_window_s, s.redis.stream_maxlen, s.city.timezone,
                                s.redis.ack_replicas, s.redis.ack_replicas_timeout_ms)
        self.inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self.last_refresh = time.monotonic()
        if s.mqtt.metrics_port:
            try:
                start_http_server(s.mqtt.metrics_port, addr=s.dashboard.host)
            except OSError as exc:
                log.warning("metrics port %s unavailable (%s): metrics off", s.mqtt.metrics_port, exc)
        self.client = self._make_client()

    def _make_client(self) -> LeanClient:
        s = self.settings.mqtt
        client = mqttconn.make_client(s, f"{s.client_id}-{self.instance}", LeanClient, manual_ack=True)
        # A different first delay per process spreads a fleet's reconnects after a broker restart (jitter).
        client.reconnect_delay_set(min_delay=max(1, round(random.uniform(1, 3))), max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_fast = self._on_fast
        client.on_subscribe = lambda *_a: setattr(self, "subscribed", True)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = s.session_expiry_s
        props.ReceiveMaximum = s.receive_maximum
        mqttconn.connect(client, s, clean_start=False, properties=props)
        return client

    # ------------------------------------------------------------ paho callbacks (network thread)
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect to %s:%s refused: %s", self.settings.mqtt.host, self.settings.mqtt.port, reason)
            return
        self.connected = True
        topics = Topics(self.settings.mqtt.prefix).shared(self.settings.mqtt.shared_group)
        if self.drain:  # take only what the broker queued for this session: it is leaving the group
            client.unsubscribe(topics)
            self.subscribed = True
            log.info("MQTT connected to drain session %s (present: %s)", self.instance, flags.session_present)
            return
        client.subscribe([(t, 1) for t in topics])
        log.info("MQTT connected to %s:%s (session present: %s), subscribed %s", self.settings.mqtt.host,
                 self.settings.mqtt.port, flags.session_present, topics)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected = self.subscribed = False
        if not self.stop_event.is_set():
            log.warning("MQTT disconnected (%s): reconnecting with backoff", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Inbound(msg.topic, msg.payload, int(time.time() * 1000), msg.mid, msg.qos))

    def _on_fast(self, topic: str, payload: bytes, mid: int) -> None:
        self.inbox.put(Inbound(topic, payload, int(time.time() * 1000), mid, 1))

    # ------------------------------------------------------------ worker loop
    def _take_batch(self) -> list[Inbound]:
        try:
            batch = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.settings.mqtt.batch_size:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def step(self) -> None:
        if time.monotonic() - self.last_refresh > 30:
            self.last_refresh = time.monotonic()
            if self.registry.refresh_if_changed():
                log.info("registry changed: lookups reloaded")
        batch = self._take_batch()
        BUFFERED.set(self.inbox.qsize())
        if not batch:
            if self.drain and self.subscribed and time.monotonic() - self.idle_since > 3:
                self._finish_drain()
            return
        self.idle_since = time.monotonic()
        self._handle(batch)

    def _handle(self, batch: list[Inbound]) -> None:
        """Parse, store and only then acknowledge one batch."""
        accepted: list[Accepted] = []
        rejected: list[RawRejected] = []
        for m in batch:
            result = parse_message(m.topic, m.payload, m.received_ms, self.registry, self.limits)
            if isinstance(result, Rejected):
                rejected.append(RawRejected(m.topic, m.payload, m.received_ms, result))
            else:
                accepted.append(result)
        if not self._write(accepted, rejected):
            return  # stopping while Redis is down: unacknowledged, the broker will deliver them again
        # QoS 1 only: the subscriptions are QoS 1, so the broker never delivers QoS 2 to us
        self.client.ack_many(m.mid for m in batch if m.qos)

    def _write(self, accepted: list[Accepted], rejected: list[RawRejected]) -> bool:
        delay = 0.1
        while True:
            try:
                result = self.store.write(accepted, rejected)
                break
            except redis.RedisError as exc:
                if self.redis_ok:
                    log.error("Redis write failed (%s): holding %d messages unacknowledged and retrying",
                              exc, len(accepted) + len(rejected))
                self.redis_ok = False
                if self.stop_event.wait(delay * random.uniform(0.5, 1.5)):
                    return False
                delay = min(delay * 2, 5.0)
        if not self.redis_ok:
            log.info("Redis is back: writing again")
        self.redis_ok = True
        self._account(accepted, rejected, result)
        return True

    def _account(self, accepted: list[Accepted], rejected: list[RawRejected], result: Any) -> None:
        n = len(accepted) + len(rejected)
        RECEIVED.inc(n)
        BATCH.observe(n)
        WRITE.observe(result.seconds)
        DUPLICATES.inc(result.duplicates)
        now_ms = time.time() * 1000
        stored_by_family: Tally[str] = Tally()
        for ev, new in zip(accepted, result.new):
            if new:
                stored_by_family[ev.family] += 1
                LAG.observe(max(0.0, (now_ms - ev.doc["ts"]) / 1000))
        for family, n_stored in stored_by_family.items():  # one labelled inc per family, not per event
            STORED.labels(family).inc(n_stored)
        for reason, n_rejected in Tally(r.rejection.reason.split(":")[0] for r in rejected).items():
            REJECTED.labels(reason).inc(n_rejected)
        if rejected:  # one line per batch, not per message: a misbehaving device must not flood the log
            first = rejected[0]
            log.warning("rejected %d message(s); first: %s on %s (%s)", len(rejected), first.rejection.reason,
                        first.topic[:200], first.rejection.detail[:200])
        self.counts["received"] += n
        self.counts["stored"] += result.stored
        self.counts["duplicates"] += result.duplicates
        self.counts["rejected"] += result.rejected

    def _finish_drain(self) -> None:
        """The session's queue is empty: end it (on disconnect) so the broker stops dealing messages to it."""
        log.info("drained: %s stored, %s duplicates; ending the session", self.counts["stored"],
                 self.counts["duplicates"])
        self.stop()

    def teardown(self) -> None:
        if self.drain:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0  # the broker forgets this instance's session now
            self.client.disconnect(properties=props)
        else:
            self.client.disconnect()
        self.client.loop_stop()
        self.redis.close()
        self.engine.dispose()

    def health(self) -> dict[str, Any]:
        return {"mqtt_connected": self.connected, "redis_ok": self.redis_ok, "buffered": self.inbox.qsize(),
                "lean_path": self.client.fast_count if hasattr(self, "client") else 0, **self.counts}
