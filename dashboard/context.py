"""What every page, callback and API blueprint of one app shares: settings, texts, connections, registry.

One ``AppContext`` is built by ``create_app`` and hung on the Flask app (``server.extensions``), so a
blueprint finds it through ``current_app`` and a page gets it as an argument; nothing is module-global,
which lets tests create several apps (with different settings) in one process.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import redis
from flask import Flask, current_app
from sqlalchemy import Engine

from dashboard.i18n import Translator
from dashboard.readers.snapshot import RegistrySnapshot
from dashboard.registry import CityView
from onescreen import names
from onescreen.redisconn import connect
from onescreen.settings import Settings

log = logging.getLogger(__name__)

EXTENSION = "onescreen"


@dataclass
class AppContext:
    """Shared state of one dashboard app; connections are thread-safe pools, the registry one snapshot
    (immutable, swapped whole after an import: ``readers.snapshot``)."""

    settings: Settings
    t: Translator
    redis: redis.Redis
    engine: Engine
    registry: RegistrySnapshot

    @property
    def city(self) -> CityView:
        """The map's view of the current registry snapshot."""
        return self.registry.view

    @functools.cached_property
    def redis_bytes(self) -> redis.Redis:
        """A second client whose replies stay bytes (``redis`` decodes them to str; a JPEG is bytes)."""
        return connect(self.settings.redis, decode=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.city.timezone)

    def now(self) -> datetime:
        """Now in the display timezone."""
        return datetime.now(self.tz)

    def open_alert_count(self) -> int:
        """Number of open alerts (ZCARD of the alert engine's open-alert index); raises redis.RedisError."""
        return int(self.redis.zcard(names.OPEN_ALERTS))

    def close(self) -> None:
        self.redis.close()
        if "redis_bytes" in self.__dict__:
            self.redis_bytes.close()
        self.engine.dispose()


def attach(server: Flask, ctx: AppContext) -> None:
    server.extensions[EXTENSION] = ctx


def app_context(server: Flask | None = None) -> AppContext:
    """The AppContext of ``server`` (default: the Flask app handling the current request)."""
    return (server or current_app).extensions[EXTENSION]
