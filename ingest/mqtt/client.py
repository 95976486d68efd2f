"""A paho client with a lean path for the one message shape ingest lives on: QoS 1 PUBLISH, no properties.

Profiling the ingest (docs/ingest.md) showed paho's network thread spending about half of the process's CPU
per message: an MQTT v5 ``Properties`` object built and unpacked per PUBLISH, the topic matcher, an
``MQTTMessage``, 3–4 ``recv()`` calls per packet and one ``send()`` per PUBACK. This subclass
- hands a property-less QoS 1 PUBLISH straight to ``on_fast(topic, payload, mid)``; anything else (QoS 0/2,
  properties present, MQTT 3) takes paho's own path and ``on_message``;
- reads the socket through a 64 KiB buffer, dropped whenever the socket changes (a reconnect never sees
  bytes of the old connection);
- acknowledges a whole batch with one queued write (``ack_many``).
These override private methods of paho-mqtt, so pyproject pins paho-mqtt exactly and
tests/test_mqtt_client.py checks the fast path, the fallback and reconnects.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK

FastHook = Callable[[str, bytes, int], None]


class LeanClient(mqtt.Client):
    """paho ``Client`` plus ``on_fast`` and ``ack_many``; see the module docstring for why."""

    on_fast: FastHook | None = None
    fast_count = 0  # messages that took the lean path (tests and health)
    _rsock = None
    _rbuf = b""
    _rpos = 0

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        data = self._in_packet["packet"]
        if (self._in_packet["command"] & 0x06) != 0x02 or self._protocol != mqtt.MQTTv5 or self.on_fast is None:
            return super()._handle_publish()
        topic_len = (data[0] << 8) | data[1]
        i = 2 + topic_len
        if len(data) < i + 3 or data[i + 2] != 0:  # properties present (or a short packet): paho's full path
            return super()._handle_publish()
        mid = (data[i] << 8) | data[i + 1]
        view = memoryview(data)  # paho's packet buffer is a bytearray: hand out immutable bytes
        topic = bytes(view[2:i]).decode("utf-8", errors="replace")
        self.fast_count += 1
        self.on_fast(topic, bytes(view[i + 3:]), mid)
        if self._manual_ack:
            return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return self._send_puback(mid)

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rsock is not self._sock:  # a new connection: never serve bytes of the old one
            self._rsock, self._rbuf, self._rpos = self._sock, b"", 0
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(65536)
            if not data:
                return data
            self._rbuf, self._rpos = data, 0
        out = self._rbuf[self._rpos:self._rpos + bufsize]
        self._rpos += len(out)
        return out

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # drain what is already buffered before going back to select(), which cannot see our buffer
        while rc == 0 and self._sock is not None and self._rsock is self._sock and self._rpos < len(self._rbuf):
            rc = super().loop_read(1)
        return rc

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK every mid, in order, as one queued write (thread-safe like paho's own ``ack``)."""
        blob = b"".join(struct.pack("!BBH", PUBACK, 2, mid) for mid in mids)
        if blob:
            self._packet_queue(PUBACK, blob, 0, 1)
