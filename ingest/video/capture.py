"""Pulling one camera: OpenCV's FFmpeg backend in a reader thread that can never freeze the worker.

- **Timeouts and transport**: TCP by default, open and read timeouts passed to OpenCV
  (CAP_PROP_OPEN_TIMEOUT_MSEC / CAP_PROP_READ_TIMEOUT_MSEC), so a dead camera fails a call instead of
  blocking it. FFmpeg's own log is silenced: it can print stream URLs, and ours may carry credentials.
- **Isolation**: ``grab()`` blocks, and OpenCV's read is known to hang after some reconnects despite the
  timeouts. Each camera has its own reader thread; the watchdog (``check_hung``) abandons a reader stuck
  past ``hang_s`` and starts a fresh one on a new generation; the old thread exits and releases its
  capture whenever its call returns (a thread cannot be killed; a bounded leak beats a frozen camera).
- **Latest frame only**: the reader grabs (decodes) every frame to keep up with the stream but converts
  (``retrieve``) only the first one grabbed once the analyser's due time has come, into a one-frame slot.
  Nothing queues; frames the analyser has no time for are dropped, and the colour conversion of unused
  frames is never paid.
- **Reconnect** with exponential backoff and full jitter (a fleet of cameras behind one restarted NVR does
  not reconnect in lock-step), reset once a session has delivered frames for a while.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from ingest.video.probe import open_failure_reason
from onescreen.log import redact_url
from onescreen.settings import VideoSettings

log = logging.getLogger(__name__)

FFMPEG_QUIET = "-8"           # AV_LOG_QUIET
GOOD_SESSION_S = 10.0         # a session this long resets the backoff
FPS_WINDOW_S = 5.0


def configure_ffmpeg(cfg: VideoSettings) -> None:
    """Process-wide FFmpeg options; call once before any capture opens (getenv is not thread-safe)."""
    options = f"rtsp_transport;{cfg.rtsp_transport}" + (f"|{cfg.ffmpeg_options}" if cfg.ffmpeg_options else "")
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = options
    os.environ["OPENCV_FFMPEG_LOGLEVEL"] = FFMPEG_QUIET
    cv2.setLogLevel(2)        # errors only: OpenCV's warnings may quote the URL it failed to open
    cv2.setNumThreads(cfg.cv_threads)


class FrameSlot:
    """One-frame mailbox: the analyser asks for the first frame grabbed after a due time; the reader puts it.

    The due time travels with the request, so the analyser sleeps once per frame (in ``take``) instead of
    sleeping until the due time and then again until the next frame is grabbed.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.due = math.inf           # monotonic time from which the next grabbed frame is wanted (inf: none)
        self._frame: np.ndarray | None = None
        self._ts = 0.0
        self._seq = 0
        self._closed = False

    def request(self, due: float = 0.0) -> None:
        """Ask for the first frame grabbed at or after monotonic time ``due`` (0: the next one)."""
        self.due = due

    def put(self, frame: np.ndarray, ts: float) -> None:
        with self._cond:
            self._frame, self._ts, self._seq = frame, ts, self._seq + 1
            self.due = math.inf
            self._cond.notify_all()

    def take(self, after: int, timeout: float) -> tuple[np.ndarray, float, int] | None:
        """The newest frame numbered above ``after``, waiting up to ``timeout``; None if none or closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._seq > after or self._closed, timeout) or self._closed:
                return None
            return self._frame, self._ts, self._seq

    def close(self) -> None:
        """Wake a waiting ``take`` for good (the pipeline is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Backoff:
    """Exponential delays with full jitter: uniform in [d/2, d], d doubling from ``lo`` up to ``hi``."""

    def __init__(self, lo: float, hi: float, rng: random.Random | None = None):
        self.lo, self.hi = lo, max(lo, hi)
        self.attempt = 0
        self.rng = rng or random.Random()

    def next(self) -> float:
        d = min(self.hi, self.lo * 2 ** self.attempt)
        self.attempt += 1
        return self.rng.uniform(d / 2, d)

    def reset(self) -> None:
        self.attempt = 0


@dataclass(frozen=True)
class CaptureStatus:
    """What the watchdog needs to judge a camera (wall-clock seconds; 0 = never)."""

    connected: bool            # the latest open succeeded
    opened_at: float
    last_frame_at: float
    fps: float
    nominal_fps: float
    reconnects: int
    reason: str
    abandoned: int             # readers given up as hung
    attempts: int              # open attempts so far


class Capture:
    """The reader of one camera; ``start``, ``stop``, ``status``, ``check_hung``."""

    def __init__(self, url: str, cfg: VideoSettings, slot: FrameSlot, nominal_fps: float | None = None,
                 name: str = "", shown: str | None = None):
        self._url = url                       # may hold credentials: never log it, use self.shown
        # What logs and health show: the registry's credential-free URL when given (redact_url only knows
        # scheme://user:pw@ URLs; a malformed one would slip through it), redacted again for good measure.
        self.shown = redact_url(shown if shown is not None else url)
        self.name = name or self.shown
        self.cfg = cfg
        self.slot = slot
        self._registry_fps = nominal_fps
        self._stream_fps = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._gen = 0
        self._thread: threading.Thread | None = None
        self._call: tuple[int, float] = (0, 0.0)   # (generation, monotonic start) of a blocking call, 0 = none
        self._frames: deque[float] = deque()
        self.connected = False
        self.opened_at = 0.0
        self.last_frame_at = 0.0
        self.opens = 0
        self.attempts = 0
        self.reason = "connecting"
        self.abandoned = 0

    # ------------------------------------------------------------ control
    def start(self) -> None:
        self._spawn()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the reader to end and wait up to ``timeout``; one inside a blocking call exits when it returns."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def request_stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._gen += 1

    def check_hung(self, now_mono: float | None = None) -> bool:
        """Watchdog: abandon a reader stuck in one call past ``hang_s`` and start a fresh one."""
        now_mono = time.monotonic() if now_mono is None else now_mono
        gen, since = self._call
        if gen != self._gen or not since or now_mono - since < self.cfg.hang_s or self._stop.is_set():
            return False
        self.abandoned += 1
        self.reason = f"read hung for {now_mono - since:.0f} s: reader replaced"
        log.warning("camera %s: %s (%d so far)", self.name, self.reason, self.abandoned)
        self._spawn()
        return True

    def status(self, now: float | None = None) -> CaptureStatus:
        now = time.time() if now is None else now
        window = min(FPS_WINDOW_S, max(1e-3, now - self.opened_at)) if self.opened_at else FPS_WINDOW_S
        frames = self._frames
        with self._lock:                 # against another status(); the reader only appends
            while frames and now - frames[0] > FPS_WINDOW_S:
                frames.popleft()
            fps = len(frames) / window
        return CaptureStatus(self.connected, self.opened_at, self.last_frame_at, fps, self.nominal_fps,
                             max(0, self.opens - 1), self.reason, self.abandoned, self.attempts)

    @property
    def nominal_fps(self) -> float:
        """The registry's nominal fps, else what the stream declares (0 when neither is known)."""
        return float(self._registry_fps or self._stream_fps or 0.0)

    # ------------------------------------------------------------ reader thread
    def _spawn(self) -> None:
        with self._lock:
            self._gen += 1
            gen = self._gen
            self._call = (gen, 0.0)
            self._thread = threading.Thread(target=self._run, args=(gen,), name=f"read-{self.name}", daemon=True)
            self._thread.start()

    def _current(self, gen: int) -> bool:
        return gen == self._gen and not self._stop.is_set()

    def _enter(self, gen: int) -> None:
        if gen == self._gen:
            self._call = (gen, time.monotonic())

    def _leave(self, gen: int) -> None:
        if gen == self._gen:                 # a replaced reader must not clear its successor's mark
            self._call = (gen, 0.0)

    def _run(self, gen: int) -> None:
        backoff = Backoff(self.cfg.reconnect_min_s, self.cfg.reconnect_max_s)
        while self._current(gen):
            cap = self._open(gen)
            if cap is None:
                if self._current(gen):
                    self._stop.wait(backoff.next())
                continue
            try:
                if self._read(cap, gen) >= GOOD_SESSION_S:
                    backoff.reset()
            finally:
                cap.release()
            if self._current(gen):
                self._stop.wait(backoff.next())

    def _open(self, gen: int) -> cv2.VideoCapture | None:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.cfg.open_timeout_s * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.cfg.read_timeout_s * 1000),
                  cv2.CAP_PROP_N_THREADS, self.cfg.decode_threads]
        self.attempts += 1
        self._enter(gen)
        try:
            cap = cv2.VideoCapture(self._url, cv2.CAP_FFMPEG, params)
        finally:
            self._leave(gen)
        if not self._current(gen):
            cap.release()
            return None
        if not cap.isOpened():
            cap.release()
            reason = open_failure_reason(self._url, timeout=min(3.0, self.cfg.open_timeout_s))
            if self.connected or reason != self.reason:
                log.warning("camera %s: cannot open %s: %s", self.name, self.shown, reason)
            self.connected, self.reason = False, reason
            return None
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._stream_fps = fps if 0 < fps <= 240 else 0.0
        self.opens += 1
        self.connected, self.opened_at = True, time.time()
        self._frames = deque()           # a new one: status() may be reading the old one
        log.info("camera %s: opened %s (%s fps nominal, open #%d)", self.name, self.shown,
                 self.nominal_fps or "?", self.opens)
        return cap

    def _read(self, cap: cv2.VideoCapture, gen: int) -> float:
        """Grab until the stream fails or we are told to stop; returns seconds of delivered frames."""
        # This loop runs for every frame of every camera: what it does besides grab() is kept to a few
        # operations on locals (even so, Python is a sixth of a quiet camera's reader; see docs/video.md).
        first = now = 0.0
        slot, stop, frames = self.slot, self._stop, self._frames
        grab, monotonic, wall = cap.grab, time.monotonic, time.time
        frame: np.ndarray | None = None
        while gen == self._gen and not stop.is_set():
            self._call = (gen, monotonic())          # the watchdog's mark (see check_hung)
            ok = grab()
            if gen != self._gen or stop.is_set():    # replaced meanwhile: the mark is the successor's now
                break
            self._call = (gen, 0.0)
            if not ok:
                self.reason = "stream lost (read failed or timed out)"
                log.warning("camera %s: %s; reconnecting", self.name, self.reason)
                break
            now = self.last_frame_at = wall()
            first = first or now
            frames.append(now)                       # deque appends are atomic; status() trims from the left
            if self.reason:
                self.reason = ""
            if monotonic() >= slot.due:
                # Into the same buffer each time: the analyser asks for a frame only once it is done with
                # the previous one, and a reused buffer saves a 1-6 MB allocation (and its page faults) a frame.
                ok, frame = cap.retrieve(frame)
                if ok and frame is not None:
                    slot.put(frame, now)
                else:
                    frame = None
        return now - first
