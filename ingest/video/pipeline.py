"""One camera, end to end: its reader (capture.py), its analyser thread, and what they publish.

The analyser thread runs at ``analysis_fps`` whatever the stream's rate: FFmpeg hands over only that many
frames a second (capture.py); the analyser takes the newest, analyses it (analysis.py) and publishes the
zone figures when they change, with a heartbeat (onchange.py), plus the snapshot (annotated, evidence.py)
and the latest figures for screens about once a second. If analysis is slower than the period the newest
frame is taken next (no burst, no queue). It also runs the reader's watchdog (read deadlines, hangs), since
it wakes at least once a second (an idle period more while idle) whatever the camera does. A worker runs
one pipeline per claimed camera.

A camera whose view is still and empty goes idle (idle.py): after each frame the analyser's decision is
handed to the capture, whose FFmpeg then passes one frame per ``1 / idle_fps`` seconds, until a frame with
motion (or a person) brings it back to ``analysis_fps``. Health reports
``analysis: idle`` and judges the analysis rate against ``idle_fps`` meanwhile.

While the motion gate sees nothing move, the snapshot's JPEG is not encoded again: the key's expiry is
refreshed and the same picture kept, re-encoded at least every ``snapshot_still_s`` for what changes too
slowly or too little to move the gate (light, an on-screen clock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ingest.video.analysis import Analyser
from ingest.video.capture import Capture, FrameSlot
from ingest.video.crossing import summary
from ingest.video.detectors import Detector
from ingest.video.evidence import annotate, marked
from ingest.video.fairness import FairSlots
from ingest.video.frame import Frame, as_frame
from ingest.video.health import health_record
from ingest.video.idle import period as idle_period
from ingest.video.onchange import OnChange
from ingest.video.publish import Publisher
from onescreen import names
from onescreen.events import Place
from onescreen.registry.cache import CameraInfo
from onescreen.settings import VideoSettings

log = logging.getLogger(__name__)


def track_id_base(now: float | None = None) -> int:
    """Track ids unique per camera across restarts and hand-overs: seconds since 2024 x 2^16."""
    return (int((now or time.time()) - 1_704_067_200) & 0xFFFFFFF) << 16


def encode_jpeg(frame: np.ndarray, width: int, quality: int,
                draw: Callable[[np.ndarray], np.ndarray] | None = None) -> bytes | None:
    """The frame as JPEG, scaled down to ``width`` (0 = as is), annotated by ``draw`` after scaling."""
    h, w = frame.shape[:2]
    if width and w > width:
        frame = cv2.resize(frame, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    if draw is not None:
        frame = draw(frame)
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else None


def stop_all(pipelines: list[CameraPipeline], timeout: float = 1.0) -> None:
    """Stop many pipelines in about ``timeout`` in all: signal every one first, then wait on them together."""
    for pipe in pipelines:
        pipe._stop.set()
        pipe.slot.close()
        pipe.capture.request_stop()
    deadline = time.monotonic() + timeout
    for pipe in pipelines:
        for thread in (pipe._thread, pipe.capture._thread):
            if thread is not None and thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))


class CameraPipeline:
    """Capture + analysis + output of one camera; ``start()``, ``stop()``, ``health(now)``."""

    def __init__(self, camera: CameraInfo, place: Place | None, cfg: VideoSettings, detector: Detector,
                 publisher: Publisher | None, url: str | None = None, instance: str = "",
                 detect_slots: FairSlots | None = None):
        self.camera = camera
        self.cfg = cfg
        self.publisher = publisher
        self.instance = instance
        self.slot = FrameSlot()
        self.capture = Capture(url or camera.source_url() or "", cfg, self.slot, camera.nominal_fps, camera.id,
                               shown=camera.rtsp_url or "")
        self.analyser = Analyser(cfg, detector, camera.zones, track_id_base(), detect_slots, camera.id, camera.lines)
        self.place = place
        self.ids = {"cell_id": place.cell_id, "community_id": place.community_id,
                    "district_id": place.district_id} if place else {}
        self.stream = publisher.stream_of(place.community_id if place else camera.id) if publisher else ""
        self.appender = publisher.appender(camera.id) if publisher else None
        self.last_doc: dict[str, Any] | None = None
        self.onchange = OnChange(cfg.publish_heartbeat_s, cfg.publish_dwell_step_s, cfg.mark_dwell_s,
                                 cfg.publish_every_frame)
        self.last_jpeg: bytes | None = None
        self._jpeg_ts = 0.0               # wall-clock time of the frame last_jpeg shows
        self._next_snapshot = 0.0
        self._marks: frozenset[int] = frozenset()   # tracks marked as lingering in the latest snapshot
        self._idle_period = idle_period(cfg)        # 0: idle mode off
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"analyse-{camera.id}", daemon=True)

    def start(self) -> CameraPipeline:
        self.capture.start()
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop both threads; a reader still inside a blocking call finishes it on its own (daemon)."""
        stop_all([self], timeout)

    def threads(self) -> list[threading.Thread]:
        """The camera's threads (analyser, current reader): what its CPU is spent in (bench/video.py)."""
        return [t for t in (self._thread, self.capture._thread) if t is not None]

    def health(self, now: float | None = None) -> dict[str, Any]:
        """The camera's health record (no URL with credentials: the shown URL is redacted)."""
        now = time.time() if now is None else now
        st, idle = self.analyser.stats, self.analyser.idle
        return health_record(self.capture.status(now), now, self.cfg, url=self.capture.shown,
                             worker=self.instance, analysis_fps=round(st.rate(now), 2),
                             analysis_target=idle.analysis_target(self.cfg, now),
                             analysis="idle" if idle.idle else "full",
                             detector_ms=round(st.detect_ms, 1), analysed_frames=st.frames,
                             image=self.analyser.image.state)

    # ------------------------------------------------------------ analyser thread
    def _loop(self) -> None:
        half_period = 0.5 / self.cfg.analysis_fps
        seq, last_ts, got_at = 0, 0.0, time.monotonic()
        while not self._stop.is_set():
            # FFmpeg paces the frames at analysis_fps: one wake-up per frame. The wait is bounded so the hang
            # watchdog runs at least once a second (an idle camera's period more: its frames come that far
            # apart, and waking in between for nothing costs as much as a frame), frames or not. A frame that
            # came while the previous one was being analysed is replaced by the next: the newest is taken.
            idle = self.capture.idle_period
            got = self.slot.take(seq, timeout=1.0 + idle)
            self.capture.check_hung()
            if got is None:
                # No frame for a second (an idle camera's period more): the engine's "last frame" is the real last one
                if time.monotonic() - got_at >= 1.0 + idle:
                    self._publish(self.onchange.flush())
                continue
            got_at = time.monotonic()
            frame, ts, seq = got
            if ts - last_ts < half_period:
                continue          # a burst (FFmpeg catching up after a hiccup, or the first frames): keep the rate
            last_ts = ts
            try:
                self.on_frame(frame, ts)
            except Exception:   # one bad frame or a detector bug must not end the camera's analysis
                log.exception("camera %s: analysis failed on a frame", self.camera.id)
            idle = self._idle_period if self.analyser.idle.idle else 0.0
            if idle != self.capture.idle_period:   # the reader picks it up from its next frame
                self.capture.set_idle(idle)
                log.debug("camera %s: %s", self.camera.id, "idle" if idle else "full analysis rate")
        self._publish(self.onchange.flush())
        if self.appender is not None:
            self.appender.close()

    def on_frame(self, frame: Frame | np.ndarray, ts: float) -> None:
        """Analyse one frame received at wall-clock ``ts``; publish its figures when they changed (onchange.py),
        and the snapshot when due.

        When someone starts or stops being marked as lingering, the snapshot showing it is written before
        the figures that can raise the alert, so the frame the alert engine keeps as evidence shows the mark.
        """
        frame = as_frame(frame)
        zones = self.analyser.process(frame, ts)
        doc = {"family": names.VIDEO, "camera_id": self.camera.id, "ts": int(ts * 1000), "zones": zones,
               **self.ids}
        if self.analyser.crossed:  # entrance lines (issue #18): rare, so the hot path is unchanged
            doc["crossings"] = summary(self.analyser.crossed)
            if self.publisher is not None and self.place is not None:
                self.publisher.crossings(self.place.community_id, self.camera.id, ts, doc["crossings"])
        self.last_doc = doc
        marks = marked(zones, self.cfg.mark_dwell_s) if self.cfg.snapshot_annotate else frozenset()
        if ts >= self._next_snapshot or marks != self._marks:
            self._next_snapshot = ts + self.cfg.snapshot_interval_s
            self._latest(frame, ts, force=marks != self._marks)
            self._marks = marks
        self._publish(self.onchange.offer(doc))

    def _publish(self, docs: list[dict[str, Any]]) -> None:
        if self.appender is not None:
            for doc in docs:
                self.appender.append(self.stream, doc)

    def _latest(self, frame: Frame, ts: float, force: bool = False) -> None:
        """The snapshot and the latest figures; a still scene's JPEG is reused (expiry refreshed) a while."""
        # Still: nothing moved since the frame the JPEG shows (the gate would have said so), and it is recent.
        still = (not force and self.last_jpeg is not None and self.analyser.last_motion <= self._jpeg_ts
                 and ts - self._jpeg_ts < self.cfg.snapshot_still_s)
        if not still:
            draw = None
            if self.cfg.snapshot_annotate:
                tracks, zones, polygons = self.analyser.tracks, self.last_doc["zones"], self.analyser.zones.polygons
                mark = self.cfg.mark_dwell_s

                def draw(image: np.ndarray) -> np.ndarray:
                    return annotate(image, polygons, tracks, zones, mark)
            jpeg = encode_jpeg(frame.bgr(), self.cfg.snapshot_width, self.cfg.jpeg_quality, draw)
            if jpeg is not None:
                self.last_jpeg, self._jpeg_ts = jpeg, ts
        if self.publisher is not None and self.last_doc is not None:
            self.publisher.latest(self.camera.id, self.last_doc, self.last_jpeg, fresh=not still)
