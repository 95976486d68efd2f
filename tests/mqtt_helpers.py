"""Helpers of the MQTT ingest tests: a QoS 1 publisher, stream readers, an ingestor in a thread or a process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable

import orjson
import paho.mqtt.client as mqtt
import redis

from onescreen import names
from onescreen.events import StreamRecord
from onescreen.settings import Settings


class Publisher:
    """A device fleet in one client: QoS 1, waits until the broker has acknowledged everything."""

    def __init__(self, host: str, port: int):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(host, port)
        self.client.loop_start()
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def publish(self, topic: str, payload: dict | bytes) -> None:
        raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        self.infos.append(self.client.publish(topic, raw, qos=1))

    def publish_many(self, messages: Iterable[tuple[str, dict | bytes]], rate: float | None = None) -> None:
        t0 = time.monotonic()
        for i, (topic, payload) in enumerate(messages):
            self.publish(topic, payload)
            if rate:
                ahead = t0 + i / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    def flush(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for info in self.infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self.infos.clear()

    def close(self) -> None:
        self.flush()
        self.client.disconnect()
        self.client.loop_stop()


def access_event(door: str, ts_ms: int, **over) -> dict:
    doc = {"event_id": str(uuid.uuid4()), "ts": ts_ms, "door_id": door, "person_id": "p-" + uuid.uuid4().hex[:6],
           "method": "card", "direction": "in", "result": "granted"}
    doc.update(over)
    return doc


def stream_docs(client: redis.Redis, family: str, partitions: int) -> list[dict]:
    docs = []
    for p in range(partitions):
        for _id, fields in client.xrange(names.event_stream(family, p)):
            docs.append(StreamRecord.decode(fields))
    return docs


def wait_for(predicate, timeout: float = 20, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class ThreadWorker:
    """Runs a Worker's loop in a thread, as its process would, and stops it with stop()."""

    def __init__(self, worker):
        self.worker = worker
        self.thread = threading.Thread(target=worker.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.worker

    def __exit__(self, *exc):
        self.worker.stop()
        self.thread.join(30)


def ingest_env(s: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
    env.update({"ONESCREEN_REDIS_URL": s.redis.url, "ONESCREEN_MQTT_HOST": s.mqtt.host,
                "ONESCREEN_MQTT_PORT": str(s.mqtt.port), "ONESCREEN_DATABASE_URL": s.database.url,
                "ONESCREEN_MQTT_METRICS_PORT": "0", "ONESCREEN_LOG_FORMAT": "text"})
    return env


def ingest_process(s: Settings, instance: str, log_path) -> subprocess.Popen:
    out = open(log_path, "ab")
    return subprocess.Popen([sys.executable, "-m", "onescreen.cli", "--instance", instance, "ingest-mqtt"],
                            env=ingest_env(s), stdout=out, stderr=subprocess.STDOUT)
