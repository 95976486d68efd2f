"""One MQTT client factory (onescreen.mqttconn) against a real Mosquitto with TLS and a password file.

The certificates are made here with the ``openssl`` command (a throwaway CA and a server certificate for
127.0.0.1). Every role connects through the factory; the simulator's publisher stands for them end to end.
"""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from onescreen import mqttconn
from onescreen.services import MosquittoServer
from onescreen.settings import load_settings
from sim.mqttpub import Publisher

pytestmark = pytest.mark.services

USER, PASSWORD = "device", "s3cret-pw"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=onescreen-test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return d


@pytest.fixture(scope="module")
def tls_broker(certs, tmp_path_factory):
    broker = MosquittoServer(workdir=tmp_path_factory.mktemp("mosq-tls"), username=USER, password=PASSWORD,
                             tls=(certs / "ca.pem", certs / "server.pem", certs / "server.key")).start()
    yield broker
    broker.close()


def mqtt_settings(broker, **over):
    cfg = {"host": broker.host, "port": broker.port, "tls": True, "username": USER, "password": PASSWORD, **over}
    return load_settings(mqtt=cfg).mqtt


def connect_result(cfg, timeout: float = 5.0):
    """The CONNACK reason of a factory client (None: no CONNACK, e.g. the TLS handshake was refused)."""
    got: dict = {}
    done = threading.Event()
    client = mqttconn.make_client(cfg, f"t-{time.monotonic_ns()}")
    client.on_connect = lambda _c, _u, _f, reason, _p: (got.setdefault("reason", reason), done.set())
    mqttconn.connect(client, cfg)
    done.wait(timeout)
    client.disconnect()
    client.loop_stop()
    return got.get("reason")


@pytest.mark.parametrize("over, accepted", [
    ({}, True),                                   # verified certificate, right password
    ({"password": "wrong"}, False),               # refused by the broker (CONNACK failure)
])
def test_factory_tls_and_credentials(tls_broker, certs, over, accepted):
    reason = connect_result(mqtt_settings(tls_broker, ca_file=str(certs / "ca.pem"), **over))
    assert reason is not None and reason.is_failure is (not accepted)


def test_factory_refuses_a_broker_it_cannot_verify(tls_broker):
    """No CA file: the system's CAs do not know the test CA, so no connection at all (never unverified)."""
    assert connect_result(mqtt_settings(tls_broker), timeout=3) is None


def test_simulator_publishes_over_tls_through_the_factory(tls_broker, certs):
    pub = Publisher(mqtt_settings(tls_broker, ca_file=str(certs / "ca.pem")), "sim-tls")
    try:
        assert pub.connect(10)
        pub.publish("city/access/D-1", {"x": 1})
        assert pub.flush(10) and pub.published == 1  # the broker acknowledged it (QoS 1) over TLS
    finally:
        pub.close()
