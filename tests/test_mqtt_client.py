"""The lean paho path of ingest (ingest/mqtt/client.py): taken for plain QoS 1, paho's own path otherwise,
and safe across a broker restart in the middle of a burst (its read buffer must never outlive a socket)."""

from __future__ import annotations

import time

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.mqtt.worker import MqttIngestWorker
from onescreen.services import MosquittoServer
from tests.mqtt_helpers import Publisher, ThreadWorker, access_event, wait_for
from tests.test_mqtt_ingest import assert_exactly_once, burst, make_settings, now_ms


def test_plain_qos1_takes_the_lean_path_and_properties_fall_back(redis_server, redis_client, mqtt_broker,
                                                                 small_city):
    s = make_settings(redis_server.url, mqtt_broker, small_city.url)
    c = small_city
    pub = Publisher(mqtt_broker.host, mqtt_broker.port)
    v5 = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="props-pub", protocol=mqtt.MQTTv5)
    v5.connect(mqtt_broker.host, mqtt_broker.port)
    v5.loop_start()
    try:
        with ThreadWorker(MqttIngestWorker(s, "t-lean")) as worker:
            wait_for(lambda: worker.subscribed)
            pub.publish(f"city/access/{c.door}", access_event(c.door, now_ms()))
            pub.flush()
            assert wait_for(lambda: worker.counts["stored"] == 1)
            assert worker.client.fast_count == 1
            props = Properties(PacketTypes.PUBLISH)
            props.UserProperty = ("site", "north")
            v5.publish(f"city/access/{c.door}", orjson.dumps(access_event(c.door, now_ms())), qos=1,
                       properties=props).wait_for_publish(10)
            assert wait_for(lambda: worker.counts["stored"] == 2)
            assert worker.client.fast_count == 1  # the message with properties went through paho's own path
    finally:
        pub.close()
        v5.disconnect()
        v5.loop_stop()


def test_broker_restart_mid_burst_loses_and_doubles_nothing(redis_server, redis_client, small_city, tmp_path):
    with MosquittoServer(workdir=tmp_path / "broker", persistence=True) as broker:
        s = make_settings(redis_server.url, broker, small_city.url)
        n = 4000
        messages = burst(small_city, n)
        with ThreadWorker(MqttIngestWorker(s, "t-restart")) as worker:
            wait_for(lambda: worker.subscribed)
            pub = Publisher(broker.host, broker.port)
            pub.publish_many(messages[: n // 2], rate=4000)
            pub.flush()
            pub.close()
            broker.stop()  # the ingestor's persistent session and its queue are on disk
            broker.start()
            assert wait_for(lambda: worker.subscribed, 30), "ingestor did not reconnect"
            pub = Publisher(broker.host, broker.port)
            pub.publish_many(messages[n // 2:], rate=4000)
            pub.flush()
            pub.close()
            assert wait_for(lambda: worker.counts["stored"] == n, 60), worker.counts
        time.sleep(0.2)
        assert_exactly_once(redis_client, n)
