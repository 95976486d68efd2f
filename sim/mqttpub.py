"""A QoS 1 MQTT publisher for the simulated devices and the burst scenarios.

paho-mqtt 2.x with MQTT v5, user/password/TLS from ``MqttSettings`` (``onescreen.mqttconn``). It connects asynchronously and
reconnects by itself (paho's network thread), so a broker that is down at start or restarts later
costs messages queued in memory (bounded), not the simulator. ``close`` waits for the in-flight QoS 1
messages so a short scenario's last messages are not lost when its process exits.
"""

from __future__ import annotations

import logging
import threading
import time

import orjson
import paho.mqtt.client as mqtt

from onescreen import mqttconn
from onescreen.settings import MqttSettings

log = logging.getLogger(__name__)

MAX_QUEUED = 100_000  # messages kept while the broker is away; beyond that paho refuses (counted)


class Publisher:
    """One MQTT connection that publishes JSON documents at QoS 1."""

    def __init__(self, cfg: MqttSettings, client_id: str):
        self.cfg = cfg
        self.connected = threading.Event()
        self.published = 0
        self.refused = 0
        self._closing = False
        self._pending: set[int] = set()  # mids sent, not yet acknowledged
        self._early: set[int] = set()  # mids acknowledged before publish() had recorded them
        self._lock = threading.Lock()
        c = mqttconn.make_client(cfg, client_id)
        c.max_inflight_messages_set(200)
        c.max_queued_messages_set(MAX_QUEUED)
        c.reconnect_delay_set(min_delay=1, max_delay=10)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        self.client = c

    def connect(self, wait_s: float = 10.0) -> bool:
        """Start connecting (in the background); True if connected within ``wait_s``."""
        mqttconn.connect(self.client, self.cfg)
        ok = self.connected.wait(wait_s)
        if not ok:
            log.warning("MQTT broker %s:%s not reachable yet; publishing will resume when it is",
                        self.cfg.host, self.cfg.port)
        return ok

    def publish(self, topic: str, payload: dict) -> None:
        info = self.client.publish(topic, orjson.dumps(payload), qos=1)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            self.refused += 1
            return
        with self._lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
            else:
                self._pending.add(info.mid)
        self.published += 1

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the broker acknowledged everything published so far."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.02)
        return False

    def close(self, timeout_s: float = 5.0) -> None:
        if self.connected.is_set():
            self.flush(timeout_s)
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()

    # ------------------------------------------------------------ paho callbacks (network thread)
    def _on_connect(self, _c, _u, _flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            log.warning("MQTT connect refused: %s", reason_code)
            return
        log.info("MQTT connected to %s:%s", self.cfg.host, self.cfg.port)
        self.connected.set()

    def _on_disconnect(self, _c, _u, _flags, reason_code, _props) -> None:
        self.connected.clear()
        if not self._closing:
            log.warning("MQTT disconnected (%s); reconnecting", reason_code)

    def _on_publish(self, _c, _u, mid, _reason_code, _props) -> None:
        with self._lock:
            if mid in self._pending:
                self._pending.discard(mid)
            else:
                self._early.add(mid)
