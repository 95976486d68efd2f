"""The snapshot of a still scene is reused, kept alive, and encoded again when the scene changes.

A pipeline (not started: frames are fed to ``on_frame`` with their times, as its analyser thread would)
with the real motion gate, detector, JPEG encoder and a real Redis. Frames are a still street with sensor
noise, so every encoding of a new frame gives different bytes, and a dark block walking across it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ingest.video.capture import configure_ffmpeg
from ingest.video.detectors import make_detector
from ingest.video.pipeline import CameraPipeline
from ingest.video.publish import Publisher
from onescreen import names
from onescreen.registry.cache import CameraInfo
from onescreen.settings import load_settings

pytestmark = pytest.mark.services

CAM = "C-SNAP"
TTL_MS = 30_000


def frames(count: int, walking: bool, seed: int) -> list[np.ndarray]:
    """320x180 frames of a noisy still street; with ``walking`` a 20x50 px block crosses it, 8 px a frame."""
    rng = np.random.default_rng(seed)
    street = np.zeros((180, 320, 3), np.uint8)
    street[:70], street[70:110], street[110:] = (62, 52, 52), (114, 120, 122), (92, 86, 86)
    out = []
    for i in range(count):
        frame = np.clip(street + rng.normal(0, 2.5, street.shape), 0, 255).astype(np.uint8)
        if walking:
            x = 20 + 8 * i
            frame[100:150, x:x + 20] = (30, 30, 160)
        out.append(frame)
    return out


@pytest.fixture
def pipe(redis_server, redis_client):
    video = {"snapshot_still_s": 5.0, "snapshot_interval_s": 1.0}
    s = load_settings(redis={"url": redis_server.url}, video=video)
    configure_ffmpeg(s.video)
    cam = CameraInfo(CAM, "cell", CAM, 0.0, 0.0, "rtsp://unused", None, None, True, 25.0, {})
    return CameraPipeline(cam, None, s.video, make_detector(s.video), Publisher(redis_client, s))


def feed(pipe: CameraPipeline, redis_client, start: float, batch: list[np.ndarray]) -> list[tuple]:
    """Feed frames at 5 fps from ``start``; after each snapshot, age its key (shorten its expiry) so the next
    refresh shows. Returns (ts, stored JPEG, its PTTL) right after each snapshot."""
    key, seen = names.camera_snapshot(CAM), []
    for i, frame in enumerate(batch):
        ts = start + 0.2 * i
        due = ts >= pipe._next_snapshot
        pipe.on_frame(frame, ts)
        if due:
            seen.append((ts, redis_client.get(key), redis_client.pttl(key)))
            redis_client.pexpire(key, 5_000)
    return seen


def test_still_snapshot_is_reused_kept_alive_and_renewed(pipe, redis_client):
    t0 = 1_800_000_000.0
    learn = feed(pipe, redis_client, t0, frames(100, walking=False, seed=1))      # 20 s: the gate learns
    assert all(jpeg and jpeg[:2] == b"\xff\xd8" for _ts, jpeg, _ttl in learn)
    still = feed(pipe, redis_client, t0 + 20, frames(60, walking=False, seed=2))  # 12 s of a still scene
    jpegs = [jpeg for _ts, jpeg, _ttl in still]
    # One picture per snapshot_still_s (5 s): reused for the snapshots in between, never older than that.
    assert 2 <= len(set(jpegs)) <= 4, [hash(j) for j in jpegs]
    runs = [len(list(group)) for _j, group in itertools.groupby(jpegs)]
    assert max(runs) == 5 and all(r <= 5 for r in runs), runs
    # Every snapshot, reused or not, set the key's expiry back to the full TTL (the test had shortened it).
    assert all(ttl > TTL_MS - 2_000 for _ts, _jpeg, ttl in still), [ttl for *_x, ttl in still]

    # The key disappears (Redis restarted): the next snapshot writes the same picture again.
    redis_client.delete(names.camera_snapshot(CAM))
    again = feed(pipe, redis_client, t0 + 32, frames(5, walking=False, seed=3))
    assert again[0][1] == pipe.last_jpeg and again[0][2] > TTL_MS - 2_000

    # Something moves: the very next snapshot is a new picture, and so is every one while it moves.
    before = pipe.last_jpeg
    moving = feed(pipe, redis_client, t0 + 33, frames(30, walking=True, seed=4))
    pictures = [jpeg for _ts, jpeg, _ttl in moving]
    assert before not in pictures and len(set(pictures)) == len(pictures), [hash(j) for j in pictures]
