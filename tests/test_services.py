"""The real-service fixtures work, survive stop/start, and Mosquitto is configured never to drop messages."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import redis
import sqlalchemy as sa
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from onescreen.services import (
    NO_DROP_SETTINGS,
    MosquittoServer,
    PostgresCluster,
    RedisServer,
    ServiceError,
    find_binary,
    free_port,
    port_open,
)

pytestmark = pytest.mark.services
REPO = Path(__file__).resolve().parents[1]


def test_missing_binary_names_the_package():
    with pytest.raises(ServiceError, match=r"no-such-server not found: install it with `apt-get install nosuch`"):
        find_binary("no-such-server", "nosuch")


def test_free_port_is_free():
    port = free_port()
    assert 1024 <= port <= 65535
    assert not port_open(port)


# ------------------------------------------------------------------ Redis
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def test_redis_fixture_answers(redis_client):
    assert redis_client.ping()
    redis_client.set("k", "v")
    assert redis_client.get("k") == b"v"


def test_redis_stop_refuses_then_start_works(redis_server):
    port = redis_server.port
    redis_server.stop()
    try:
        assert not redis_server.running
        with pytest.raises(redis.ConnectionError):
            _redis(redis_server.url).ping()
    finally:
        redis_server.start()
    assert redis_server.port == port
    assert _redis(redis_server.url).ping()


def test_redis_appendonly_keeps_data_across_restart():
    with RedisServer(appendonly=True) as server:
        client = _redis(server.url)
        client.set("kept", "yes")
        client.close()
        server.restart()
        assert _redis(server.url).get("kept") == b"yes"


def test_redis_kill_is_an_outage_and_start_recovers():
    with RedisServer() as server:
        server.kill()
        with pytest.raises(redis.ConnectionError):
            _redis(server.url).ping()
        server.start()
        assert _redis(server.url).ping()


def test_redis_without_appendonly_forgets_on_restart():
    with RedisServer() as server:
        _redis(server.url).set("lost", "yes")
        server.restart()
        assert _redis(server.url).get("lost") is None


# ------------------------------------------------------------------ MQTT
class Mqtt:
    """A paho 2.x MQTT v5 client that records what it receives."""

    def __init__(self, broker: MosquittoServer, client_id: str = "", clean: bool = True,
                 username: str | None = None, password: str | None = None):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.received: list[bytes] = []
        self.last_message = time.monotonic()
        self.connected = threading.Event()
        self.reason = None
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 600
        self.client.connect(broker.host, broker.port, clean_start=clean, properties=props)
        self.client.loop_start()

    def _on_connect(self, _client, _userdata, _flags, reason, _props):
        self.reason = reason
        self.connected.set()

    def _on_message(self, _client, _userdata, msg):
        self.received.append(msg.payload)
        self.last_message = time.monotonic()

    def wait_connected(self) -> bool:
        """True when the broker accepted the connection."""
        assert self.connected.wait(10), "no CONNACK"
        return not self.reason.is_failure

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_a: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10), "no SUBACK"

    def publish_all(self, topic: str, count: int) -> None:
        infos = [self.client.publish(topic, str(i).encode(), qos=1) for i in range(count)]
        for info in infos:
            info.wait_for_publish(30)

    def wait_for(self, count: int, quiet_s: float = 2.0, limit_s: float = 60.0) -> int:
        """Wait until ``count`` messages arrived, or none came for ``quiet_s``; returns how many came."""
        deadline = time.monotonic() + limit_s
        while len(self.received) < count and time.monotonic() < deadline:
            if time.monotonic() - self.last_message > quiet_s:
                break
            time.sleep(0.05)
        return len(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _offline_backlog(broker: MosquittoServer, count: int, restart_broker: bool = False) -> set[bytes]:
    """A persistent-session subscriber goes away, ``count`` QoS 1 messages are published, it comes back."""
    sub = Mqtt(broker, client_id="slow-consumer", clean=False)
    assert sub.wait_connected()
    sub.subscribe("backlog/#")
    sub.close()
    pub = Mqtt(broker, client_id="publisher")
    assert pub.wait_connected()
    pub.publish_all("backlog/x", count)
    pub.close()
    if restart_broker:
        broker.restart()
    back = Mqtt(broker, client_id="slow-consumer", clean=False)
    back.last_message = time.monotonic()
    assert back.wait_connected()
    back.wait_for(count)
    back.close()
    return set(back.received)


def test_mqtt_publish_and_receive(mqtt_broker):
    sub = Mqtt(mqtt_broker)
    assert sub.wait_connected()
    sub.subscribe("city/test/#")
    pub = Mqtt(mqtt_broker)
    assert pub.wait_connected()
    pub.publish_all("city/test/a", 3)
    assert sub.wait_for(3) == 3
    assert sorted(sub.received) == [b"0", b"1", b"2"]
    sub.close()
    pub.close()


def test_mqtt_stop_refuses_then_start_works(mqtt_broker):
    mqtt_broker.stop()
    try:
        with pytest.raises(ConnectionRefusedError):
            Mqtt(mqtt_broker)
    finally:
        mqtt_broker.start()
    client = Mqtt(mqtt_broker)
    assert client.wait_connected()
    client.close()


def test_mqtt_slow_consumer_loses_nothing(mqtt_broker):
    got = _offline_backlog(mqtt_broker, 5000)
    assert got == {str(i).encode() for i in range(5000)}


def test_mqtt_default_config_would_drop():
    """Mosquitto's defaults (max_queued_messages 1000) drop the backlog: the setting above is what saves it."""
    with MosquittoServer(never_drop=False) as lossy:
        got = _offline_backlog(lossy, 5000)
    assert 900 <= len(got) <= 1100, len(got)


def test_mqtt_persistent_session_survives_broker_restart():
    with MosquittoServer(persistence=True) as broker:
        got = _offline_backlog(broker, 500, restart_broker=True)
    assert len(got) == 500


def test_mqtt_password_required_when_configured():
    with MosquittoServer(username="ops", password="s3cret") as broker:
        anonymous = Mqtt(broker)
        assert not anonymous.wait_connected()
        anonymous.close()
        wrong = Mqtt(broker, username="ops", password="wrong")
        assert not wrong.wait_connected()
        wrong.close()
        good = Mqtt(broker, username="ops", password="s3cret")
        assert good.wait_connected()
        good.close()


def test_shipped_mosquitto_conf_has_the_no_drop_settings():
    shipped = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
    assert NO_DROP_SETTINGS in shipped
    for line in ("listener 1883", "persistence true", "persistence_location /mosquitto/data/",
                 "password_file /mosquitto/data/passwd", "allow_anonymous false"):
        assert line in shipped.splitlines()


# ------------------------------------------------------------------ PostgreSQL
@pytest.mark.postgres
def test_postgres_select_and_schema(postgres_url):
    from onescreen.db.session import make_engine, upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "alembic_version" in tables
    assert len(tables) > 1, tables


@pytest.mark.postgres
@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to another user")
def test_postgres_as_root_names_an_unreachable_workdir(tmp_path):
    hidden = tmp_path / "private"
    hidden.mkdir()
    hidden.chmod(0o700)
    with pytest.raises(ServiceError, match="cannot reach"):
        PostgresCluster(workdir=hidden / "pg").start()


@pytest.mark.postgres
def test_postgres_stop_refuses_then_start_works():
    with PostgresCluster() as cluster:
        engine = sa.create_engine(cluster.url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE kept (x int)"))
            conn.execute(sa.text("INSERT INTO kept VALUES (42)"))
            conn.commit()
        engine.dispose()
        cluster.stop()
        with pytest.raises(sa.exc.OperationalError), engine.connect():
            pass
        cluster.start()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM kept")).scalar() == 42
        engine.dispose()


# ------------------------------------------------------------------ the helper fixtures
def test_settings_fixture_points_at_the_fixture_services(settings, redis_server, mqtt_broker, sqlite_url):
    assert settings.redis.url == redis_server.url
    assert (settings.mqtt.host, settings.mqtt.port) == (mqtt_broker.host, mqtt_broker.port)
    assert settings.database.url == sqlite_url
    engine = sa.create_engine(sqlite_url)
    try:
        assert "alembic_version" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_onescreen_environment_is_cleared():
    assert not [k for k in os.environ if k.startswith("ONESCREEN_")]
