"""The bare baseline: a paho subscriber that only counts messages (the client library's ceiling).

Same client library, protocol (MQTT v5), QoS and Receive Maximum as the OneScreen ingestor, but no parsing,
no Redis and paho's automatic acknowledgement. Prints ``ready`` once subscribed, then one JSON line when
``--expect`` messages have arrived (or nothing came for ``--stall`` seconds). With ``--latency`` it also
reads each payload's ``ts`` (the publish instant) and reports each message's publish→received latency in ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--receive-maximum", type=int, default=2000)
    ap.add_argument("--latency", action="store_true")
    ap.add_argument("--stall", type=float, default=15, help="give up after this long without a message")
    args = ap.parse_args(argv)

    count = 0
    t_first = t_last = 0.0
    lat_ms: list[int] = []
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(_c, _u, msg):
        nonlocal count, t_first, t_last
        now = time.time()
        if not count:
            t_first = now
        count += 1
        t_last = now
        if args.latency:
            p = msg.payload
            i = p.find(b'"ts":') + 5
            lat_ms.append(int(now * 1000) - int(p[i:p.find(b",", i)]))
        if count >= args.expect:
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_connect = lambda c, *_a: c.subscribe(args.topic, qos=1)
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = args.receive_maximum
    client.connect(args.host, args.port, keepalive=60, clean_start=True, properties=props)
    client.loop_start()
    if not subscribed.wait(10):
        print(json.dumps({"error": "not subscribed within 10 s"}), flush=True)
        return 1
    cpu0 = time.process_time()
    print("ready", flush=True)
    waiting_since, seen = time.monotonic(), 0
    while not done.wait(0.5):  # until all arrived, or nothing new for --stall seconds
        if count != seen:
            waiting_since, seen = time.monotonic(), count
        elif time.monotonic() - waiting_since > args.stall:
            break
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"received": count, "t_first": t_first, "t_last": t_last, "lat_ms": lat_ms,
                      "cpu_s": time.process_time() - cpu0}), flush=True)
    return 0 if count >= args.expect else 1


if __name__ == "__main__":
    sys.exit(main())
