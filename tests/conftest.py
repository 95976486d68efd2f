"""Shared fixtures: real Redis, Mosquitto, RTSP and PostgreSQL started on free ports for the test session.

Services are session-scoped because starting them costs seconds; per-test isolation comes from the
function-scoped helpers (``redis_client`` flushes Redis, ``sqlite_url`` is a fresh file per test).
Tests that stop/restart a service must leave it running when they finish.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from onescreen.services import (
    MosquittoServer,
    PostgresCluster,
    RedisClusterServer,
    RedisServer,
    RtspServer,
    ServiceError,
)

pytest_plugins = ["tests.city_fixtures", "tests.auth_helpers"]

from sim.streams import VTEST, VTEST_INSTALL

REPO = Path(__file__).resolve().parents[1]
VTEST_MISSING = f"sample video {VTEST} is absent: {VTEST_INSTALL}"


@pytest.fixture(scope="session", autouse=True)
def _clean_onescreen_env():
    """Ignore the developer's ONESCREEN_* variables so tests see only what they set themselves."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("ONESCREEN_")}
    for key in saved:
        del os.environ[key]
    yield
    os.environ.update(saved)


def _start_or_fail(service):
    """Start a service; a missing binary fails loudly (it is a set-up problem, not a reason to skip)."""
    try:
        service.start()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    return service


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server (no persistence) for the whole session."""
    server = _start_or_fail(RedisServer())
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_cluster():
    """A private Redis Cluster (3 masters + 3 replicas) for the whole session, started on first use (~2 s)."""
    cluster = _start_or_fail(RedisClusterServer())
    yield cluster
    cluster.close()


class RedisTarget:
    """The Redis a test runs on: ``server`` (a RedisServer or RedisClusterServer), its ``url`` and ``kind``."""

    def __init__(self, kind: str, server):
        self.kind, self.server, self.url = kind, server, server.url

    def __repr__(self) -> str:
        return f"<RedisTarget {self.kind} {self.url}>"


@pytest.fixture
def redis_target(request) -> RedisTarget:
    """The ONE switch between a single Redis and Redis Cluster: ``redis_client``, ``settings`` and the modules'
    settings fixtures build on it. Single Redis unless a test is marked ``@both_redis`` (tests/redis_kinds.py),
    which runs it once on each."""
    kind = getattr(request, "param", "single")
    server = request.getfixturevalue("redis_server" if kind == "single" else "redis_cluster")
    if kind == "cluster":
        server.wait_healthy(timeout=60)  # a previous test's failover may still be healing
    return RedisTarget(kind, server)


@pytest.fixture(scope="session")
def mqtt_broker():
    """A private Mosquitto broker (anonymous, never drops queued QoS 1) for the whole session."""
    broker = _start_or_fail(MosquittoServer())
    yield broker
    broker.close()


@pytest.fixture(scope="session")
def rtsp_server():
    """A real RTSP server with mounts ``vtest`` (if the sample exists), ``quiet`` and ``figure``."""
    mounts = {"quiet": "scene:quiet", "figure": "scene:figure"}
    if VTEST.is_file():
        mounts["vtest"] = f"file:{VTEST}"
    server = _start_or_fail(RtspServer(mounts))
    yield server
    server.close()


@pytest.fixture
def vtest_path() -> Path:
    """OpenCV's sample pedestrian video (Debian's opencv-doc); a missing one fails the test (a set-up problem)."""
    if not VTEST.is_file():
        pytest.fail(VTEST_MISSING, pytrace=False)
    return VTEST


@pytest.fixture
def vtest_url(rtsp_server, vtest_path) -> str:
    """RTSP URL of the looping sample video."""
    return rtsp_server.url("vtest")


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL cluster with database ``onescreen``."""
    cluster = _start_or_fail(PostgresCluster())
    yield cluster
    cluster.close()


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster) -> str:
    return postgres_cluster.url


@pytest.fixture
def redis_client(redis_target):
    """A client on the test's Redis (single or cluster, see ``redis_target``), emptied before each test."""
    from onescreen.redisconn import connect
    from onescreen.settings import RedisSettings

    client = connect(RedisSettings(url=redis_target.url))
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite database with the schema at head."""
    from onescreen.db.session import upgrade

    url = f"sqlite:///{tmp_path / 'onescreen.db'}"
    upgrade(url)
    return url


@pytest.fixture
def settings(redis_target, mqtt_broker, sqlite_url, redis_client):
    """Settings pointing at the fixture Redis (flushed), Mosquitto and a fresh SQLite database."""
    from onescreen.settings import load_settings

    return load_settings(
        redis={"url": redis_target.url},
        mqtt={"host": mqtt_broker.host, "port": mqtt_broker.port},
        database={"url": sqlite_url},
        log={"format": "text"},
    )


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser download), one per test module."""
    from playwright.sync_api import sync_playwright

    from tests.wall_browser_helpers import CHROMIUM, launch

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium package (make test does)", pytrace=False)
    with sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()
