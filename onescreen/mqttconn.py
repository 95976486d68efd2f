"""Every OneScreen MQTT client is made here: paho-mqtt 2.x, MQTT v5, credentials and TLS from ``MqttSettings``.

Before, the ingestor, the alert engine's notifier and the simulator each set up paho themselves, and their TLS
handling had drifted (one required a verified broker certificate explicitly, the others relied on paho's
default). Now one function builds the client and one connects it:

- user name and password when ``mqtt.username`` is set (the password only from the secret setting);
- with ``mqtt.tls``: TLS verifying the broker's certificate and host name against ``mqtt.ca_file`` (or the
  system's CAs), TLS 1.2 at least; never an unverified connection;
- ``connect``: asynchronous (paho's network thread connects and reconnects by itself, so a broker that is
  down at start costs no process) with the configured keepalive.

The caller chooses what differs by role: the client class (ingest's ``LeanClient``), the client id (the
ingestor's must stay stable: the broker keeps its persistent session by it), callbacks, queue limits,
reconnect delays and CONNECT properties.
"""

from __future__ import annotations

import ssl
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

from onescreen.settings import MqttSettings

C = TypeVar("C", bound=mqtt.Client)


def make_client(cfg: MqttSettings, client_id: str, client_class: type[C] = mqtt.Client, **kwargs: Any) -> C:
    """A paho client (MQTT v5, callback API 2) with the settings' credentials and TLS; not connected yet."""
    client = client_class(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, **kwargs)
    if cfg.username:
        client.username_pw_set(cfg.username, cfg.password.get_secret_value() if cfg.password else None)
    if cfg.tls:
        client.tls_set_context(tls_context(cfg))
    return client


def tls_context(cfg: MqttSettings) -> ssl.SSLContext:
    """The TLS context of a broker connection: certificate and host name verified, TLS 1.2 or newer."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cfg.ca_file) if cfg.ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context  # create_default_context: CERT_REQUIRED and check_hostname already


def connect(client: mqtt.Client, cfg: MqttSettings, **kwargs: Any) -> None:
    """Connect in the background (``connect_async`` + ``loop_start``) to the configured broker."""
    client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive_s, **kwargs)
    client.loop_start()
