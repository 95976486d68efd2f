"""Telling the world an alert changed: Redis side (screens, indexes, outbox) and the MQTT notifier.

``announce`` queues, on a Redis pipeline, everything a committed alert change implies: an outbox entry for
MQTT (on a change of status or level, CONTRACT §3), a message on the screens' pub/sub channel and a bump of their
change counter (``names.CHANGES_VERSION``, what the dashboards' open-alert cache compares), the open-alert
index, the per-unit "dispatched, awaiting on_scene" index and the escalation timer. The engine runs it in the
same MULTI as its rule state and XACK; the API runs it after its own commit.

``OutboxNotifier`` drains the outbox to MQTT with QoS 1 and acknowledges an entry only after the broker's
PUBACK, so a notification survives a crash of the engine between commit and publish (at least once).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import redis

from onescreen import names

log = logging.getLogger(__name__)

OUTBOX_MAXLEN = 100_000
CLOSED = ("resolved", "closed")


def announce(
    pipe: Any,
    doc: dict[str, Any],
    *,
    publish: bool,
    duty_unit: str | None = None,
    escalate_at: float | None = None,
) -> None:
    """Queue the Redis side of one committed alert change on ``pipe`` (a pipeline; the caller executes)."""
    alert_id, status = doc["alert_id"], doc["status"]
    if publish:
        pipe.xadd(
            names.ALERT_OUTBOX,
            {"a": orjson.dumps(doc), "duty": duty_unit or ""},
            maxlen=OUTBOX_MAXLEN,
            approximate=True,
        )
    pipe.publish(
        names.CHANGES,
        orjson.dumps(
            {
                "type": "alert",
                "alert_id": alert_id,
                "status": status,
                "level": doc["level"],
                "rule": doc["rule"],
            }
        ),
    )
    pipe.incr(names.CHANGES_VERSION)  # the screens' cache re-reads on a new version (survives a lost message)
    if status in CLOSED:
        pipe.zrem(names.OPEN_ALERTS, alert_id)
    else:
        pipe.zadd(names.OPEN_ALERTS, {alert_id: _epoch(doc["opened_at"])})
    if status != "open":
        pipe.zrem(names.ALERT_ESCALATIONS, alert_id)
    elif escalate_at is not None:
        pipe.zadd(names.ALERT_ESCALATIONS, {alert_id: escalate_at}, nx=True)
    unit = doc.get("assignee")
    if unit:
        key = names.alert_dispatched(unit)
        loc = doc["location"]
        if status == "dispatched" and loc.get("lat") is not None:
            pipe.hset(key, alert_id, orjson.dumps([loc["lat"], loc["lon"]]))
        else:
            pipe.hdel(key, alert_id)


def enqueue(pipe: Any, topic: str, doc: dict[str, Any]) -> None:
    """Queue any record for MQTT on the same outbox (at least once, QoS 1): ``topic`` is relative to the
    prefix, e.g. ``cases/E-20261205-000017`` (CONTRACT §6)."""
    pipe.xadd(names.ALERT_OUTBOX, {"t": topic, "p": orjson.dumps(doc)}, maxlen=OUTBOX_MAXLEN, approximate=True)


def _epoch(iso_ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso_ts).timestamp()


class OutboxNotifier:
    """Publishes outbox entries to ``city/alerts/{id}`` (and ``city/duty/{unit}/alerts``) with QoS 1."""

    def __init__(self, client: redis.Redis, mqtt_client: mqtt.Client, topics: names.Topics, consumer: str):
        self.redis, self.mqtt, self.topics, self.consumer = client, mqtt_client, topics, consumer
        self.published = 0
        self._ensure_group()

    def _ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(names.ALERT_OUTBOX, names.ALERT_OUTBOX_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def drain(self, block_ms: int = 0, count: int = 200) -> int:
        """Publish what is waiting (first our own unacknowledged entries, then new ones); returns how many."""
        try:
            return self._drain(block_ms, count)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._ensure_group()  # Redis restarted empty
            return 0

    def _drain(self, block_ms: int, count: int) -> int:
        done = 0
        for start in ("0", ">"):
            reply = self.redis.xreadgroup(
                names.ALERT_OUTBOX_GROUP,
                self.consumer,
                {names.ALERT_OUTBOX: start},
                count=count,
                block=block_ms if (start == ">" and block_ms) else None,
            )
            for _stream, entries in reply or []:
                done += self._publish(entries)
        claimed = self.redis.xautoclaim(
            names.ALERT_OUTBOX,
            names.ALERT_OUTBOX_GROUP,
            self.consumer,
            min_idle_time=30_000,
            start_id="0-0",
            count=count,
        )
        if claimed and claimed[1]:
            done += self._publish(claimed[1])  # a dead notifier's entries
        return done

    def _publish(self, entries: list) -> int:
        infos, ids = [], []
        for entry_id, fields in entries:
            if not fields:
                ids.append(entry_id)
                continue
            topic = fields.get(b"t")
            if topic:  # any other record (a case, ...): its topic under the prefix, see ``enqueue``
                infos.append(self.mqtt.publish(f"{self.topics.prefix}/{topic.decode()}", fields[b"p"], qos=1))
                ids.append(entry_id)
                continue
            doc = orjson.loads(fields[b"a"])
            payload = fields[b"a"]
            infos.append(self.mqtt.publish(self.topics.alert(doc["alert_id"]), payload, qos=1))
            duty = fields.get(b"duty", b"").decode()
            if duty:
                infos.append(self.mqtt.publish(self.topics.duty_alerts(duty), payload, qos=1))
            ids.append(entry_id)
        deadline = time.monotonic() + 10
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                log.warning("MQTT publish not acknowledged: outbox entries stay pending for a retry")
                return 0
        if ids:
            self.redis.xack(names.ALERT_OUTBOX, names.ALERT_OUTBOX_GROUP, *ids)
        self.published += len(infos)
        return len(ids)
