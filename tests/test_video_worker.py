"""ingest-video as a process, against a real registry, Redis and RTSP server: what it publishes, and how
workers share cameras by leases and take over a killed worker's cameras (within 30 s, kill -9)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import orjson
import pytest

from ingest.video.worker import VideoIngestWorker
from onescreen import names
from onescreen.db.session import make_engine, upgrade
from onescreen.events import StreamRecord
from onescreen.registry.bundle import write_bundle
from onescreen.registry.cache import RegistryCache
from onescreen.registry.importer import import_bundle
from onescreen.services import RtspServer
from onescreen.settings import load_settings
from sim.citygen import generate_city
from tests.mqtt_helpers import ThreadWorker, wait_for
from tests.redis_kinds import both_redis

pytestmark = pytest.mark.services

SECRET = "s3cret-Pw"
PW_ENV = "VIDEO_TEST_CAMERA_PASSWORD"
CAMERAS = 4
PARTITIONS = 4


@pytest.fixture(scope="module")
def video_city(tmp_path_factory):
    """Four streamed cameras (user admin7, password from the environment at import) on a private server."""
    mounts = {f"q{i}": "scene:quiet?size=320x180&fps=10" for i in range(CAMERAS)}
    root = tmp_path_factory.mktemp("video-city")
    with RtspServer(mounts) as server:
        bundle = generate_city(seed=11, districts=2, communities=4, cells=8, doors=12, cameras=CAMERAS, units=3,
                               watchlist=6, sensors=2, streamed_cameras=0)
        for i, cam in enumerate(bundle.cameras):
            cam.streamed, cam.rtsp_url, cam.username, cam.nominal_fps = True, server.url(f"q{i}"), "admin7", 10.0
        write_bundle(root / "bundle", bundle)
        yaml_path = root / "bundle" / "cameras.yaml"
        yaml_path.write_text(yaml_path.read_text().replace("  username: admin7\n",
                                                           f"  username: admin7\n  password_env: {PW_ENV}\n"))
        url = f"sqlite:///{root / 'registry.db'}"
        upgrade(url)
        engine = make_engine(url)
        os.environ[PW_ENV] = SECRET
        try:
            import_bundle(engine, root / "bundle")
        finally:
            del os.environ[PW_ENV]
        registry = RegistryCache.load(engine)
        assert all(SECRET in (c.source_url() or "") for c in registry.cameras(streamed_only=True))
        yield url, registry


def worker_settings(redis_url: str, db_url: str, **video):
    return load_settings(redis={"url": redis_url, "partitions": PARTITIONS}, database={"url": db_url},
                         video={"analysis_fps": 2.0, **video}, log={"format": "text"})


def leases(client) -> dict[str, str]:
    """camera id -> instance holding its lease."""
    out = {}
    for key in client.scan_iter(match=names.camera_lease("*")):
        value = client.get(key)
        if value is not None:
            out[key.decode().split("{")[1].split("}")[0]] = value.decode()
    return out


def health(client, camera_id: str) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(names.camera_health(camera_id)).items()}


def test_worker_publishes_counts_snapshots_and_health(redis_client, redis_server, video_city, caplog):
    caplog.set_level(logging.DEBUG)
    db_url, registry = video_city
    cams = [c.id for c in registry.cameras(streamed_only=True)]
    # a quiet street changes nothing: entries are the first frame and heartbeats (1 s here, so two come quickly)
    s = worker_settings(redis_server.url, db_url, publish_heartbeat_s=1.0)
    with ThreadWorker(VideoIngestWorker(s, "vw-solo")) as worker:
        ok = wait_for(lambda: all(health(redis_client, c).get("state") == "online" for c in cams), 30)
        assert ok, {c: health(redis_client, c) for c in cams}
        time.sleep(1.5)
        assert leases(redis_client) == {c: "vw-solo" for c in cams}
        now_ms = time.time() * 1000
        for cam_id in cams:
            cam, place = registry.camera(cam_id), registry.place_of_device(cam_id)
            stream = names.event_stream(names.VIDEO, names.partition_of(place.community_id, PARTITIONS))
            docs = [StreamRecord.decode(f) for _i, f in redis_client.xrange(stream)]
            docs = [d for d in docs if d["camera_id"] == cam_id]
            assert len(docs) >= 2, cam_id
            doc = docs[-1]
            assert set(doc) == {"family", "camera_id", "ts", "zones", "cell_id", "community_id", "district_id"}
            assert doc["family"] == "video" and abs(doc["ts"] - now_ms) < 10_000
            assert (doc["cell_id"], doc["community_id"], doc["district_id"]) == \
                (place.cell_id, place.community_id, place.district_id)
            assert set(doc["zones"]) == set(cam.zones)
            assert all(z == {"persons": 0, "tracks": []} for z in doc["zones"].values())   # a quiet street
            assert orjson.loads(redis_client.get(names.camera_zones(cam_id)))["camera_id"] == cam_id
            jpeg = redis_client.get(names.camera_snapshot(cam_id))
            assert jpeg[:2] == b"\xff\xd8" and 0 < redis_client.pttl(names.camera_snapshot(cam_id)) <= 30_000
            # the stream's rate is measured from FFmpeg's progress reports: give it a few reports to settle
            assert wait_for(lambda: float(health(redis_client, cam_id).get("fps") or 0) > 5, 10)
            h = health(redis_client, cam_id)
            assert h["worker"] == "vw-solo" and h["url"] == cam.rtsp_url
            assert SECRET not in str(h)
        detail = orjson.loads(redis_client.hget(names.process_health("ingest-video", "vw-solo"), "detail"))
        assert detail["cameras"] == sorted(cams)
        assert worker.health()["claimed"] == CAMERAS
    assert leases(redis_client) == {}, "a stopped worker gives its leases back"
    assert SECRET not in caplog.text


def video_process(s, instance: str, log_path) -> subprocess.Popen:
    """``onescreen ingest-video`` in its own process (logs at DEBUG into ``log_path``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
    env.update({"ONESCREEN_REDIS_URL": s.redis.url, "ONESCREEN_REDIS_PARTITIONS": str(PARTITIONS),
                "ONESCREEN_DATABASE_URL": s.database.url, "ONESCREEN_VIDEO_ANALYSIS_FPS": "2",
                "ONESCREEN_LOG_FORMAT": "text", "ONESCREEN_LOG_LEVEL": "DEBUG"})
    with open(log_path, "ab") as out:      # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "onescreen.cli", "--instance", instance, "ingest-video"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


@both_redis
def test_two_workers_split_then_the_survivor_takes_over(redis_client, redis_target, video_city, tmp_path):
    db_url, registry = video_city
    cams = sorted(c.id for c in registry.cameras(streamed_only=True))
    s = worker_settings(redis_target.url, db_url)          # default lease_s (15 s)
    log_path = tmp_path / "vw-a.log"
    proc = video_process(s, "vw-a", log_path)
    try:
        assert wait_for(lambda: set(leases(redis_client).values()) == {"vw-a"}, 30), log_path.read_text()
        with ThreadWorker(VideoIngestWorker(s, "vw-b")):
            def split() -> bool:
                held = list(leases(redis_client).values())
                return len(held) == CAMERAS and held.count("vw-a") == held.count("vw-b") == CAMERAS // 2
            assert wait_for(split, 40), leases(redis_client)
            by_a = [c for c, w in leases(redis_client).items() if w == "vw-a"]
            assert wait_for(lambda: all(health(redis_client, c).get("worker") == "vw-a"
                                        and health(redis_client, c).get("state") == "online" for c in by_a), 20)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            killed = time.monotonic()

            def taken_over() -> bool:
                if leases(redis_client) != {c: "vw-b" for c in cams}:
                    return False
                return all((h := health(redis_client, c)).get("worker") == "vw-b" and h.get("state") == "online"
                           for c in cams)
            assert wait_for(taken_over, 30, 0.25), (leases(redis_client), [health(redis_client, c) for c in cams])
            handover = time.monotonic() - killed
        print(f"\ncameras of the killed worker analysed again by the survivor after {handover:.1f} s")
        assert handover < 30
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    log_text = log_path.read_text()
    assert "opened rtsp://" in log_text and SECRET not in log_text
