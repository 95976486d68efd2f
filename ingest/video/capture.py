"""Pulling one camera: an FFmpeg process decodes it and hands over only the frames we analyse.

- **Decoding near the floor**: FFmpeg (a child process per camera, ffmpeg.py) demuxes and decodes every
  frame in its own loop and drops all but ``analysis_fps`` of them there; Python reads just those, as
  YUV 4:2:0 planes of a size the stream header gives. No per-frame Python for frames nobody analyses and
  no colour conversion until something needs colour (frame.py).
- **Timeouts and transport**: TCP by default, FFmpeg's socket I/O timeout, plus our own: no header within
  ``open_timeout_s + read_timeout_s`` or no frame for ``read_timeout_s`` (+ one analysis period) ends the
  session. Reads block (a ``select`` per read cost as much as the read); the watchdog (``check_hung``, run
  by the analyser at least once a second, an idle period more while idle) enforces their deadlines by
  killing FFmpeg, which a thread could not be.
- **Isolation**: a reader thread per camera; the watchdog replaces a reader stuck in one call past
  ``hang_s`` and kills its FFmpeg. Health counts ``abandoned_reads``.
- **No credentials in any log**: FFmpeg runs with ``-loglevel quiet``; its stderr carries only the
  ``-progress`` counters, parsed and never printed. Logs and health show the registry's credential-free URL.
  (FFmpeg's argv holds the URL: it is never logged, but local users can read it in /proc; see docs/video.md.)
- **Idle cameras** (idle.py): ``set_idle`` (by the pipeline, for a still and empty view) tells FFmpeg, on
  its stdin, to pass one decoded frame in K (ffmpeg.py), so it writes one frame per idle period and the
  reader wakes once; the stream's decoded rate stays exact (each frame then counts K). Should frames
  still come faster (FFmpeg has not applied the command yet, or ignored it), the reader hands over one
  per period and drops the others in the kernel (``splice`` into /dev/null, never copied to user space).
- **Latest frame only**: the reader puts each frame into a one-frame slot (three reused buffers, never the
  one the analyser holds); a frame the analyser had no time for is replaced by the next. Frame time is the
  wall clock when the frame arrived.
- **Reconnect** with exponential backoff and full jitter (a fleet of cameras behind one restarted NVR does
  not reconnect in lock-step), reset once a session has delivered frames for a while.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from ingest.video.ffmpeg import (FRAME_MARK, Pipes, Progress, Y4mError, Y4mHeader, command, idle_command, kill,
                                 parse_header)
from ingest.video.idle import enabled as idle_enabled
from ingest.video.frame import Frame
from ingest.video.probe import open_failure_reason
from onescreen.log import redact_url
from onescreen.settings import VideoSettings

log = logging.getLogger(__name__)

FFMPEG_QUIET = "-8"           # AV_LOG_QUIET
GOOD_SESSION_S = 10.0         # a session this long resets the backoff
FPS_WINDOW_S = 5.0
HEADER_MAX = 512


def configure_ffmpeg(cfg: VideoSettings) -> None:
    """Process-wide settings of OpenCV (its own FFmpeg logging silenced, threads); call once at start."""
    options = f"rtsp_transport;{cfg.rtsp_transport}" + (f"|{cfg.ffmpeg_options}" if cfg.ffmpeg_options else "")
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = options
    os.environ["OPENCV_FFMPEG_LOGLEVEL"] = FFMPEG_QUIET
    cv2.setLogLevel(2)        # errors only: OpenCV's warnings may quote the URL it failed to open
    cv2.setNumThreads(cfg.cv_threads)


def ffmpeg_binary() -> str:
    """The ffmpeg executable; a missing one is a set-up error named at the worker's start."""
    path = shutil.which("ffmpeg")
    if path is None:
        raise FileNotFoundError("ffmpeg not found on PATH: install it (apt-get install -y ffmpeg, or make deps)")
    return path


class FrameSlot:
    """One-frame mailbox: the reader puts the newest frame, the analyser takes the newest it has not seen."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | np.ndarray | None = None
        self._ts = 0.0
        self._seq = 0
        self.taken = 0                # seq of the frame the analyser took last (its buffer is in use)
        self._closed = False

    @property
    def seq(self) -> int:
        return self._seq

    def put(self, frame: Frame | np.ndarray, ts: float) -> None:
        with self._cond:
            self._frame, self._ts, self._seq = frame, ts, self._seq + 1
            self._cond.notify_all()

    def take(self, after: int, timeout: float) -> tuple[Frame | np.ndarray, float, int] | None:
        """The newest frame numbered above ``after``, waiting up to ``timeout``; None if none or closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._seq > after or self._closed, timeout) or self._closed:
                return None
            self.taken = self._seq
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


class SessionEnd(Exception):
    """The current FFmpeg session is over; ``reason`` says why (credential-free)."""

    def __init__(self, reason: str, probe: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.probe = probe         # ask the camera why (the stream never started)


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
        self._peak_fps = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._gen = 0
        self._thread: threading.Thread | None = None
        self._procs: dict[int, subprocess.Popen] = {}   # generation -> its FFmpeg process
        # (generation, monotonic start, deadline, what) of the blocking read the reader is in; start 0 = none
        self._call: tuple[int, float, float, str] = (0, 0.0, 0.0, "")
        self._expired: dict[int, str] = {}    # generation -> why the watchdog ended its FFmpeg
        self._samples: deque[tuple[float, int]] = deque()   # (wall time, input frames) from FFmpeg's progress
        self._to_yuv420 = False               # the stream's pixel format needs converting to 4:2:0
        self.connected = False
        self.opened_at = 0.0
        self.last_frame_at = 0.0
        self.opens = 0
        self.attempts = 0
        self.frames = 0                       # frames handed to the analyser
        self.dropped = 0                      # frames dropped unread while idle
        self.idle_period = 0.0                # hand over one frame per this many s (0 = all): set_idle()
        self.idle_every = 1                   # FFmpeg passes one decoded frame in this many (1 = all)
        self._pipes: Pipes | None = None      # the current session's pipes (set_idle sends FFmpeg commands)
        self.reason = "connecting"
        self.abandoned = 0

    # ------------------------------------------------------------ control
    def start(self) -> None:
        self._spawn()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the reader to end and wait up to ``timeout`` (its FFmpeg is killed at once)."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def set_idle(self, period: float) -> None:
        """Hand over one frame every ``period`` s (idle.py), or every frame again (0); FFmpeg applies it from
        its next frame (it reads stdin every 100 ms)."""
        self.idle_period = period
        rate = self._fps(time.time()) or self.nominal_fps or self.cfg.analysis_fps
        self.idle_every = max(1, round(rate * period)) if period else 1
        self._command()

    def _command(self) -> None:
        """Send FFmpeg the idle filter's setting for ``idle_every`` (and count its frames accordingly)."""
        pipes = self._pipes
        if pipes is not None:
            pipes.progress.expect(self.idle_every)   # before sending: the reply may be read at once
            pipes.send(idle_command(self.idle_every))

    def request_stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._gen += 1
            procs = list(self._procs.values())
        for proc in procs:
            kill(proc)

    def check_hung(self, now_mono: float | None = None) -> bool:
        """Watchdog, run by the analyser at least once a second (an idle period more while idle): the
        reader's reads block (no per-read ``select``: that cost as much as the read), so their deadlines are
        enforced here. A read past its deadline (no header within ``open_timeout_s + read_timeout_s``, no
        frame for ``read_timeout_s`` plus a period, plus the idle period while idle) ends the session:
        FFmpeg is killed, the read returns, the reader reconnects. A reader stuck past ``hang_s`` is
        abandoned and a fresh one started (True)."""
        now_mono = time.monotonic() if now_mono is None else now_mono
        gen, since, deadline, what = self._call
        if gen != self._gen or not since or self._stop.is_set():
            return False
        if now_mono - since >= self.cfg.hang_s:
            self.abandoned += 1
            self.reason = f"read hung for {now_mono - since:.0f} s: reader replaced"
            log.warning("camera %s: %s (%d so far)", self.name, self.reason, self.abandoned)
            self._end(gen, self.reason)
            self._spawn()
            return True
        if now_mono >= deadline and gen not in self._expired:
            self._end(gen, what)
        return False

    def _end(self, gen: int, why: str) -> None:
        """Kill the FFmpeg of generation ``gen`` (its reader's blocked read returns), noting why."""
        with self._lock:
            self._expired[gen] = why
            proc = self._procs.get(gen)
        if proc is not None:
            kill(proc, wait=False)

    def status(self, now: float | None = None) -> CaptureStatus:
        now = time.time() if now is None else now
        fps = self._fps(now)
        return CaptureStatus(self.connected, self.opened_at, self.last_frame_at, fps, self.nominal_fps,
                             max(0, self.opens - 1), self.reason, self.abandoned, self.attempts)

    def decoder_pid(self) -> int | None:
        """Process id of the current FFmpeg (what the benchmark adds to the pipeline's own CPU)."""
        with self._lock:
            procs = list(self._procs.values())
        return procs[-1].pid if procs else None

    @property
    def nominal_fps(self) -> float:
        """The registry's nominal fps, else the best rate measured over a full window (0 when neither)."""
        return float(self._registry_fps or self._peak_fps or 0.0)

    def _fps(self, now: float) -> float:
        """The stream's decoded frames a second over the last FPS_WINDOW_S, from FFmpeg's progress counters.

        FFmpeg reports twice a second, and not at all while nothing arrives: the rate is measured up to the
        latest report, or up to now less a report period when that is later (so a stall decays to 0). An
        idle reader reads the reports when a frame comes, once per idle period: that much later again.
        """
        with self._lock:                       # the reader appends; status() may run in two threads
            samples = list(self._samples)
        if len(samples) < 2:
            return 0.0
        last_t, last_n = samples[-1]
        base_t, base_n = samples[0]
        for t, n in samples:
            if t >= now - FPS_WINDOW_S:
                break
            base_t, base_n = t, n
        span = max(last_t - base_t, now - base_t - 1.0 - self.idle_period)
        return max(0.0, (last_n - base_n) / span) if span > 0 else 0.0

    # ------------------------------------------------------------ reader thread
    def _spawn(self) -> None:
        with self._lock:
            self._gen += 1
            gen = self._gen
            self._call = (gen, 0.0, 0.0, "")
            self._thread = threading.Thread(target=self._run, args=(gen,), name=f"read-{self.name}", daemon=True)
            self._thread.start()

    def _current(self, gen: int) -> bool:
        return gen == self._gen and not self._stop.is_set()

    def _enter(self, gen: int, timeout: float, what: str) -> None:
        if gen == self._gen:
            now = time.monotonic()
            self._call = (gen, now, now + timeout, what)

    def _leave(self, gen: int) -> None:
        if gen == self._gen:                 # a replaced reader must not clear its successor's mark
            self._call = (gen, 0.0, 0.0, "")

    def _run(self, gen: int) -> None:
        backoff = Backoff(self.cfg.reconnect_min_s, self.cfg.reconnect_max_s)
        while self._current(gen):
            delivered = self._session(gen)
            if not self._current(gen):
                break
            if delivered >= GOOD_SESSION_S:
                backoff.reset()
            self._stop.wait(backoff.next())

    def _session(self, gen: int) -> float:
        """One FFmpeg process from start to end; returns seconds of delivered frames."""
        self.attempts += 1
        try:
            control = idle_enabled(self.cfg)
            argv = command(ffmpeg_binary(), self._url, self.cfg, self._to_yuv420, idle=control)
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE if control else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, bufsize=0, close_fds=True)
        except OSError as exc:
            self._fail(f"cannot start ffmpeg: {exc.strerror or exc}")
            return 0.0
        with self._lock:
            self._procs[gen] = proc
        if not self._current(gen):           # stopped or replaced while starting
            kill(proc)
        reader = Pipes(proc)
        last, started = 0.0, time.time()
        try:
            # The watchdog's mark: a silent camera holds the open up to here.
            self._enter(gen, self.cfg.open_timeout_s + self.cfg.read_timeout_s, "open timed out (no picture)")
            try:
                header = self._header(reader, gen)
            finally:
                self._leave(gen)
            self._opened(header)
            self._pipes = reader          # its filter graph exists now (the header follows the first frame)
            if self.idle_every > 1:
                self._command()           # a new FFmpeg starts at the full rate
            last = self._frames(reader, header, gen)
        except SessionEnd as end:
            if not self._current(gen):
                pass
            elif last or self.opened_at >= started:
                # It was open: the state stays connected (stalled, then offline if reconnecting fails).
                self.reason = end.reason
                log.warning("camera %s: %s; reconnecting", self.name, end.reason)
            else:
                reason = end.reason
                if end.probe:
                    reason = open_failure_reason(self._url, timeout=min(3.0, self.cfg.open_timeout_s))
                self._fail(reason)
        finally:
            if self._pipes is reader:
                self._pipes = None
            kill(proc)
            with self._lock:
                self._procs.pop(gen, None)
                self._expired.pop(gen, None)
            reader.close()
        return max(0.0, last - self.opened_at) if last else 0.0

    def _fail(self, reason: str) -> None:
        """An open failed: offline with the reason (logged when it changes)."""
        if self.connected or reason != self.reason:
            log.warning("camera %s: cannot open %s: %s", self.name, self.shown, reason)
        self.connected, self.reason = False, reason

    def _header(self, reader: Pipes, gen: int) -> Y4mHeader:
        line = bytearray()
        while not line.endswith(b"\n"):
            chunk = reader.read_stdout(1)
            if not chunk:
                expired = self._expired.get(gen)
                raise SessionEnd(expired or "open failed", probe=True)
            line += chunk
            if len(line) > HEADER_MAX:
                raise SessionEnd("unexpected output from ffmpeg")
        reader.drain_progress(self._progress)
        try:
            return parse_header(bytes(line[:-1]))
        except Y4mError as exc:
            if exc.chroma and not self._to_yuv420:
                self._to_yuv420 = True       # next session: FFmpeg converts to 4:2:0
            raise SessionEnd(f"stream format: {exc}") from None

    def _opened(self, header: Y4mHeader) -> None:
        self.opens += 1
        now = time.time()
        self.connected, self.opened_at = True, now
        with self._lock:
            self._samples = deque([(now, 0)])
        log.info("camera %s: opened %s (%dx%d, %s fps nominal, open #%d)", self.name, self.shown,
                 header.width, header.height, self.nominal_fps or "?", self.opens)

    def _progress(self, progress: Progress) -> None:
        now = time.time()
        with self._lock:
            samples = self._samples
            samples.append((now, progress.input_frames))
            while len(samples) > 2 and samples[1][0] < now - 2 * FPS_WINDOW_S:
                samples.popleft()
        if now - self.opened_at >= FPS_WINDOW_S + 1 and not self.idle_period:   # idle: counted K at a time
            self._peak_fps = max(self._peak_fps, self._fps(now))

    def _frames(self, reader: Pipes, header: Y4mHeader, gen: int) -> float:
        """Read frames into the slot until the stream ends or we are told to stop; the last frame's time."""
        size = len(FRAME_MARK) + header.frame_bytes
        rows = header.height if header.mono else header.height * 3 // 2
        pool = [bytearray(size) for _ in range(3)]
        owner = [-1, -1, -1]                # slot seq each buffer holds (-1 = none)
        slot, w, h = self.slot, header.width, header.height
        timeout = self.cfg.read_timeout_s + 1.0 / self.cfg.analysis_fps
        lost = f"stream lost (no frame for {timeout:.0f} s)"
        last = next_drain = 0.0
        enter, leave, fill, drain, on_progress = self._enter, self._leave, reader.fill_stdout, \
            reader.drain_progress, self._progress
        views = [memoryview(b) for b in pool]
        planes = [v[len(FRAME_MARK):] for v in views]
        mark = bytearray(len(FRAME_MARK))
        mark_view, discard, frame_bytes = memoryview(mark), reader.discard, header.frame_bytes
        period = 1.0 / self.cfg.analysis_fps
        handed = resent = 0.0                 # wall time of the latest frame handed over, idle command re-sent
        wall, current = time.time, self._current
        # Per frame: a few operations on locals (this loop runs five times a second for every camera).
        while current(gen):
            seq, taken = slot.seq, slot.taken      # the newest frame and the one being analysed stay untouched
            i = 0 if owner[0] != seq and owner[0] != taken else 1 if owner[1] != seq and owner[1] != taken else 2
            idle, hand = self.idle_period, True
            enter(gen, timeout + idle, lost)
            if not idle:
                ok = fill(views[i])
                marked = ok and pool[i][:6] == FRAME_MARK
            else:
                # Idle: the frame's mark first (its arrival decides), then its planes read or dropped unread.
                ok = fill(mark_view)
                marked = ok and mark == FRAME_MARK
                if marked:                    # FFmpeg's frames come about a period apart: take those
                    hand = wall() - handed >= idle - 1.5 * period
                    ok = fill(planes[i]) if hand else discard(frame_bytes)
            leave(gen)
            if not ok:
                if not current(gen):
                    break
                raise SessionEnd(self._expired.get(gen) or "stream lost (decoder ended)")
            if not marked:
                raise SessionEnd("unexpected output from ffmpeg")
            now = self.last_frame_at = last = wall()
            if self.reason:
                self.reason = ""
            if hand:
                slot.put(Frame(w, h, np.frombuffer(pool[i], np.uint8, rows * w, 6).reshape(rows, w)), now)
                owner[i], handed = slot.seq, now
                self.frames += 1
            else:                              # FFmpeg does not drop them (yet, or lost its filter's setting
                self.dropped += 1              # when its graph was rebuilt): tell it again, at most once a second
                if now - resent >= 1.0:
                    resent = now
                    self._command()
            if now >= next_drain:              # FFmpeg reports twice a second: no need to look every frame
                next_drain = now + 0.4
                drain(on_progress)
        return last
