"""Start-up checks: a process that cannot reach a service it needs says so in one line and exits.

Later outages are each worker's business (retry, backpressure); this only turns "nothing is there at all"
into an actionable message instead of a traceback.
"""

from __future__ import annotations

import socket

import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from onescreen.log import redact_url
from onescreen.redisconn import connect
from onescreen.settings import Settings


def _redis(s: Settings) -> None:
    client = connect(s.redis)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConnectionError(
            f"cannot reach Redis at {redact_url(s.redis.url)}: {exc}. "
            "Start redis-server or set ONESCREEN_REDIS_URL.") from None
    finally:
        client.close()


def _mqtt(s: Settings) -> None:
    try:
        socket.create_connection((s.mqtt.host, s.mqtt.port), timeout=3).close()
    except OSError as exc:
        raise ConnectionError(
            f"cannot reach the MQTT broker at {s.mqtt.host}:{s.mqtt.port}: {exc.strerror or exc}. "
            "Start mosquitto or set ONESCREEN_MQTT_HOST / ONESCREEN_MQTT_PORT.") from None


def _database(s: Settings) -> None:
    from onescreen.db.session import make_engine

    engine = make_engine(s.database.url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if not conn.dialect.has_table(conn, "grid_node"):
                raise ConnectionError(
                    f"database {redact_url(s.database.url)} has no schema: run `onescreen db upgrade` first")
    except SQLAlchemyError as exc:
        raise ConnectionError(f"cannot open the database {redact_url(s.database.url)}: "
                              f"{exc.__class__.__name__}: {str(exc.orig if hasattr(exc, 'orig') else exc)[:200]}. "
                              "Check ONESCREEN_DATABASE_URL.") from None
    finally:
        engine.dispose()


CHECKS = {"redis": _redis, "mqtt": _mqtt, "database": _database}


def require(s: Settings, needs: tuple[str, ...]) -> None:
    """Raise ConnectionError with an operator-readable message for the first service that does not answer."""
    for name in needs:
        CHECKS[name](s)
