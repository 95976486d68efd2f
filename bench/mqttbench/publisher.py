"""A fleet of door controllers in one process: QoS 1 access events (CONTRACT §1), as fast as possible or paced.

Run by bench/ingest_mqtt.py, never imported by it: the publisher must not share a core's GIL with what it
measures. Prints one JSON line when every message has been acknowledged by the broker (PUBACK).

Flow control is ours, not paho's: with ``max_inflight_messages_set(1000)`` paho queues every further message
inside the client, which made a publisher 3x slower (issue #3), and with no cap at all a publisher stalls
after about 65,000 messages (16-bit message ids wrap onto messages still in flight). So paho's limit is off
(0) and we count unacknowledged messages ourselves in ``on_publish``, pausing at ``--inflight``. MQTT 3.1.1,
like most door controllers: as a v5 client it would also be held to the broker's receive maximum (20).

Each payload is about 225 bytes: the CONTRACT's access event with ``ts`` = the publish instant in epoch
milliseconds (the bench's latency clock) and a unique ``event_id`` (``<run>-<seq>``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid

import paho.mqtt.client as mqtt

PAYLOAD_BYTES = 225


class Payloads:
    """Access-event payloads of exactly PAYLOAD_BYTES (for a 13-digit ts), built with one f-string each."""

    TAIL = '","method":"card","direction":"in","result":"granted","resident":true}'

    def __init__(self, run: str, doors: list[str]):
        self.head = '{"event_id":"' + run + "-"
        self.doors = [(d, f',"door_id":"{d}","person_id":"p-') for d in doors]
        fixed = len(self.head) + 9 + len('","ts":') + 13 + len(self.TAIL)
        self.widths = [f"0{max(6, PAYLOAD_BYTES - fixed - len(mid))}x" for _d, mid in self.doors]

    def make(self, seq: int, ts_ms: int) -> bytes:
        k = seq % len(self.doors)
        return (f'{self.head}{seq:09d}","ts":{ts_ms}{self.doors[k][1]}{seq:{self.widths[k]}}{self.TAIL}'
                ).encode()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--prefix", required=True, help="topic prefix: messages go to <prefix>/access/<door>")
    ap.add_argument("--doors", required=True, help="comma-separated door ids (all in the registry)")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=float, default=0, help="messages per second; 0 = as fast as possible")
    ap.add_argument("--inflight", type=int, default=20_000, help="cap on unacknowledged messages")
    ap.add_argument("--run", default=uuid.uuid4().hex[:8], help="event_id prefix (unique per run)")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)

    doors = args.doors.split(",")
    topics = [f"{args.prefix}/access/{d}" for d in doors]
    payloads = Payloads(args.run, doors)
    acked = 0

    def on_publish(_c, _u, _mid, _rc, _p):
        nonlocal acked
        acked += 1  # runs on paho's network thread only: no lock needed for a single writer

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{args.run}",
                         protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(0)  # unlimited in paho; our own cap below
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect(args.host, args.port, keepalive=60)
    client.loop_start()

    n, n_doors, cap, rate = args.count, len(doors), args.inflight, args.rate
    stalls = 0
    cpu0 = time.process_time()
    t0 = time.time()
    i = 0
    while i < n:
        now = time.time()
        due = n if not rate else min(n, int((now - t0) * rate) + 1)
        if i >= due or i - acked >= cap:
            stalls += i - acked >= cap
            time.sleep(0.0005)
            continue
        while i < due and i - acked < cap:
            client.publish(topics[i % n_doors], payloads.make(i, int(time.time() * 1000)), qos=1)
            i += 1
    t_sent = time.time()
    deadline = t_sent + args.timeout
    while acked < n and time.time() < deadline:
        time.sleep(0.001)
    t_acked = time.time()
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"published": n, "acked": acked, "t0": t0, "t_sent": t_sent, "t_acked": t_acked,
                      "cpu_s": time.process_time() - cpu0,
                      "pub_per_s": round(acked / max(t_acked - t0, 1e-9), 1), "cap_waits": stalls,
                      "payload_bytes": len(payloads.make(0, int(t0 * 1000)))}))
    return 0 if acked == n else 1


if __name__ == "__main__":
    sys.exit(main())
