"""A video alert's evidence frame shows the zone, the people's boxes with their dwell, and marks the one who
lingers; the marked snapshot is in Redis before the figures that can raise the alert.

A pipeline (not started: frames fed to ``on_frame`` as its analyser thread would) with the real ssd detector,
the generated figure scene (a real person standing in the middle) and a real Redis."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import orjson
import pytest

from ingest.video.capture import configure_ffmpeg
from ingest.video.detectors import make_detector
from ingest.video.pipeline import CameraPipeline
from ingest.video.publish import Publisher
from onescreen import names
from onescreen.registry.cache import CameraInfo
from onescreen.settings import load_settings
from sim.rtsp_scenes import Scene

pytestmark = pytest.mark.services

CAM = "C-EVID"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ZONES = {"mid": {"polygon": [[0.3, 0.5], [0.7, 0.5], [0.7, 1.0], [0.3, 1.0]], "door_id": None}}


def red_pixels(jpeg: bytes, box: tuple[float, float, float, float]) -> int:
    """Strongly red pixels in a band around the box's top edge (the mark's frame and label)."""
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).astype(int)
    h, w = img.shape[:2]
    x0, y0, x1 = int(box[0] * w) - 6, int(box[1] * h) - 20, int(box[2] * w) + 6
    band = img[max(0, y0):int(box[1] * h) + 6, max(0, x0):x1]
    b, g, r = band[..., 0], band[..., 1], band[..., 2]
    return int(((r > 170) & (g < 90) & (b < 90)).sum())


def test_the_snapshot_marks_the_lingering_person_before_the_alerting_figures(redis_server, redis_client):
    s = load_settings(redis={"url": redis_server.url}, video={"mark_dwell_s": 3.0})
    configure_ffmpeg(s.video)
    cam = CameraInfo(CAM, "cell", CAM, 0.0, 0.0, "rtsp://unused", None, None, True, 25.0, ZONES)
    publisher = Publisher(redis_client, s)
    pipe = CameraPipeline(cam, None, s.video, make_detector(s.video), publisher)
    scene = Scene("figure", {"walk": "2", "stand": "30", "gap": "1"})
    box = scene.person_box(5.0)
    stream = pipe.stream
    seen = []
    try:
        for i in range(30):                           # 6 s of the figure standing, at 5 fps
            t = 2.5 + 0.2 * i
            frame = np.ascontiguousarray(
                np.frombuffer(scene.render(t), np.uint8).reshape(scene.height, scene.width, 3)[:, :, ::-1])
            pipe.on_frame(frame, 1000.0 + t)
            dwell = max((d for _tid, d in pipe.last_doc["zones"]["mid"]["tracks"]), default=0.0)
            seen.append((dwell, red_pixels(redis_client.get(names.camera_snapshot(CAM)), box)))
    finally:
        if pipe.appender is not None:
            pipe.appender.close()
    crossing = next(i for i, (d, _r) in enumerate(seen) if d >= 3.0)
    assert all(r < 20 for d, r in seen[:crossing]), seen          # green before: not marked
    assert seen[crossing][1] >= 40, seen                          # marked in the very frame that crossed
    last = orjson.loads(redis_client.xrevrange(stream, count=1)[0][1][b"d"])
    assert last["zones"]["mid"]["tracks"][0][1] >= 3.0
    img = cv2.imdecode(np.frombuffer(redis_client.get(names.camera_snapshot(CAM)), np.uint8), cv2.IMREAD_COLOR)
    ARTIFACTS.mkdir(exist_ok=True)
    cv2.imwrite(str(ARTIFACTS / "video-evidence-lingering.png"), img)      # for people to look at
    zone_px = img[int(0.5 * img.shape[0]) - 1:int(0.5 * img.shape[0]) + 2, int(0.35 * img.shape[1])].astype(int)
    assert ((zone_px[:, 2] > 170) & (zone_px[:, 1] > 150) & (zone_px[:, 0] < 130)).any()   # the yellow zone edge
