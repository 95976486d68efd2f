"""The ingest-video process: RTSP cameras → people counts per zone, dwell, snapshots and health in Redis.

One process handles many cameras, each a ``CameraPipeline`` (a reader thread and an analyser thread;
OpenCV and onnxruntime release the GIL while they work). The main loop only does bookkeeping, every
half second:

1. every ``lease_s / 3`` (at most 2 s): renew the leases held, stop the cameras whose lease was lost,
   then claim or release cameras towards this worker's fair share (leases.py), starting or stopping
   their pipelines;
2. every ``registry_refresh_s``: reload the registry if an import happened; a camera whose URL, zones or
   place changed is restarted, a removed one released;
3. every ``health_interval_s``: write the health hash of every held camera (health.py).
If Redis is unreachable for longer than a lease the worker stops its cameras: by then their leases have
expired and another worker may hold them, and two workers must not publish the same camera.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import redis
from sqlalchemy.exc import SQLAlchemyError

from ingest.video.capture import configure_ffmpeg, ffmpeg_binary
from ingest.video.detectors import make_detector
from ingest.video.fairness import FairSlots
from ingest.video.leases import Leases
from ingest.video.pipeline import CameraPipeline, stop_all
from ingest.video.publish import Publisher
from onescreen.db.session import make_engine
from onescreen.redisconn import connect
from onescreen.registry.cache import CameraInfo, RegistryCache
from onescreen.worker import Worker

log = logging.getLogger(__name__)


class VideoIngestWorker(Worker):
    kind = "ingest-video"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pipelines: dict[str, CameraPipeline] = {}
        self.counts = {"claimed": 0, "released": 0, "lost": 0}
        self._next = {"lease": 0.0, "registry": 0.0, "health": 0.0}
        self._lease_ok_at = time.monotonic()

    # ------------------------------------------------------------ Worker hooks
    def setup(self) -> None:
        v = self.settings.video
        configure_ffmpeg(v)
        ffmpeg_binary()        # fail at start: every camera is decoded by an ffmpeg process
        make_detector(v)       # fail at start, with the config key named, rather than in every camera thread
        self.registry = RegistryCache.load(make_engine(self.settings.database.url))
        self.redis = connect(self.settings.redis)
        self.publisher = Publisher(self.redis, self.settings)
        self.leases = Leases(self.redis, self.instance, self.kind, v.lease_s, v.capacity, self.heartbeat_s)
        self.concurrency = v.detect_concurrency or max(1, len(os.sched_getaffinity(0)) - 1)
        self.detect_slots = FairSlots(self.concurrency)
        now = time.monotonic()
        # First claim after one heartbeat, so workers started together see each other and share at once.
        self._next = {"lease": now + self.heartbeat_s, "registry": now + v.registry_refresh_s, "health": now}
        log.info("video worker: capacity %d, detector %s (%d at once), analysis %.1f fps, %d streamed cameras",
                 v.capacity, v.detector, self.concurrency, v.analysis_fps, len(self._streamed()))

    def step(self) -> None:
        now = time.monotonic()
        if now >= self._next["registry"]:
            self._next["registry"] = now + self.settings.video.registry_refresh_s
            self._refresh_registry()
        if now >= self._next["lease"]:
            self._next["lease"] = now + self._lease_period()
            self._lease_round(now)
        if now >= self._next["health"]:
            self._next["health"] = now + self.settings.video.health_interval_s
            self.publisher.health({cam: p.health() for cam, p in self.pipelines.items()})
        self.stop_event.wait(0.5)

    def teardown(self) -> None:
        stop_all(list(self.pipelines.values()), timeout=2.0)
        self.pipelines.clear()
        try:
            self.leases.release_all()
        except redis.RedisError as exc:
            log.warning("could not release leases (%s): they expire in %d s", exc, self.settings.video.lease_s)

    def health(self) -> dict[str, Any]:
        return {"cameras": sorted(self.pipelines), "capacity": self.settings.video.capacity,
                "detector": self.settings.video.detector, **self.counts}

    # ------------------------------------------------------------ leases and cameras
    def _lease_period(self) -> float:
        """Renew and claim every third of a lease, and at least every 2 s so orphans are picked up fast."""
        return min(self.settings.video.lease_s / 3, 2.0)

    def _streamed(self) -> dict[str, CameraInfo]:
        return {c.id: c for c in self.registry.cameras(streamed_only=True) if c.rtsp_url}

    def _lease_round(self, now: float) -> None:
        try:
            lost = self.leases.renew()
            claimed, released = self.leases.balance(self._streamed())
        except redis.RedisError as exc:
            if now - self._lease_ok_at > self.settings.video.lease_s and self.pipelines:
                log.error("Redis unreachable for over a lease (%s): stopping %d cameras", exc, len(self.pipelines))
                for cam in list(self.pipelines):
                    self._stop_camera(cam)
                self.leases.held.clear()
            return
        self._lease_ok_at = now
        for cam in lost:
            log.warning("lease of camera %s lost (expired or taken): stopping it", cam)
            self.counts["lost"] += 1
            self._stop_camera(cam)
        for cam in released:
            self.counts["released"] += 1
            self._stop_camera(cam)
        for cam in claimed:
            self.counts["claimed"] += 1
            self._start_camera(cam)
        if lost or claimed or released:
            log.info("cameras: %d held (+%d -%d lost %d)", len(self.pipelines), len(claimed), len(released),
                     len(lost))

    def _start_camera(self, camera_id: str) -> None:
        cam = self.registry.camera(camera_id)
        if cam is None or not cam.rtsp_url:
            return
        pipe = CameraPipeline(cam, self.registry.place_of_device(cam.id), self.settings.video,
                              make_detector(self.settings.video), self.publisher, instance=self.instance,
                              detect_slots=self.detect_slots)
        self.pipelines[camera_id] = pipe.start()

    def _stop_camera(self, camera_id: str) -> None:
        pipe = self.pipelines.pop(camera_id, None)
        if pipe is not None:
            pipe.stop()

    def _refresh_registry(self) -> None:
        try:
            if not self.registry.refresh_if_changed():
                return
        except SQLAlchemyError as exc:  # the database may be briefly unavailable: keep the cameras we have
            log.warning("registry refresh failed (%s): keeping the current cameras", exc)
            return
        streamed = self._streamed()
        for cam_id, pipe in list(self.pipelines.items()):
            new = streamed.get(cam_id)
            if new is None:
                continue          # released at the next lease round
            if new != pipe.camera or self.registry.place_of_device(cam_id) != pipe.place:
                log.info("camera %s changed in the registry: restarting it", cam_id)
                self._stop_camera(cam_id)
                self._start_camera(cam_id)
