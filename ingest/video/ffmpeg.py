"""The FFmpeg side of capture: the command line, the YUV4MPEG stream it writes and its progress reports.

FFmpeg decodes the camera and reduces the rate in its own loop (``-r <analysis_fps> -vsync vfr``: frames
are dropped, never duplicated), then writes only the frames we analyse to a pipe as YUV4MPEG: a one-line
header with the size (so nothing has to be probed first), then ``FRAME\\n`` + the planes of each frame, in
the decoder's own 4:2:0 layout (no conversion in FFmpeg; the luma plane is the motion gate's grey frame).
``-progress pipe:2`` reports twice a second how many frames were output and dropped, which gives the
stream's real input rate for health; ``-loglevel quiet`` keeps anything else (FFmpeg's messages quote the
URL, and ours may carry credentials) off stderr. Pure functions, tested directly.

**Idle cameras** (idle.py): FFmpeg reduces the rate further in its own loop, so an idle camera's dropped
frames are never written to the pipe at all. Its filter graph holds ``framestep@idle``, a filter that drops
every frame while enabled (its step is never reached) and passes every frame while disabled; FFmpeg reads
filter commands on stdin (its interactive ``c`` key: ``c<filter> -1 <command> <argument>\n``, applied to
the next frame, stdin polled every 100 ms), and going idle sets its ``enable`` expression to ``mod(n,K)``:
dropping, except every K-th decoded frame (K = the stream's rate / ``idle_fps``); waking sets it to 0.
The frames it drops are not in ``-progress``'s counters (those count the ``-r`` drops only), but K is
exact, so ``Progress`` counts each frame output while idle as K decoded ones (``scale``), from FFmpeg's
reply to the command on (``Command reply … ret:0``, printed in order with the progress reports): the one
report that spans the change counts at the lower scale (a short dip in the stream's rate, never a spike).
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import threading
from collections import deque
try:
    import fcntl
except ImportError:              # not Unix: the pipe keeps its default size
    fcntl = None
from collections.abc import Callable
from dataclasses import dataclass

from onescreen.settings import VideoSettings

log = logging.getLogger(__name__)

FRAME_MARK = b"FRAME\n"
IDLE_FILTER = "framestep@idle"
NEVER = 1_000_000_000            # the idle filter's step: while enabled, it passes no frame (at 25 fps: 463 days)


def command(ffmpeg: str, url: str, cfg: VideoSettings, to_yuv420: bool = False, idle: bool = False) -> list[str]:
    """argv of the FFmpeg process reading ``url`` (credentials included: argv is never logged); ``idle``: with
    the idle filter (disabled) and commands read on stdin, else stdin is not read at all."""
    argv = [ffmpeg, *(() if idle else ("-nostdin",)), "-hide_banner", "-loglevel", "quiet", "-nostats",
            "-progress", "pipe:2", "-stats_period", "0.5"]
    if url.startswith(("rtsp:", "rtsps:")):
        argv += ["-rtsp_transport", cfg.rtsp_transport]
        argv += ["-timeout", str(int(max(cfg.open_timeout_s, cfg.read_timeout_s) * 1_000_000))]
    for item in filter(None, cfg.ffmpeg_options.split("|")):
        key, _, value = item.partition(";")
        argv += [f"-{key}", value]
    if cfg.decode_threads:
        argv += ["-threads", str(cfg.decode_threads)]
    argv += ["-i", url, "-map", "0:v:0", "-an", "-sn", "-dn",
             "-r", f"{cfg.analysis_fps:g}", "-vsync", "vfr"]
    if idle:
        argv += ["-vf", f"{IDLE_FILTER}=step={NEVER}:enable=0"]
    if to_yuv420:
        argv += ["-pix_fmt", "yuv420p"]
    return argv + ["-f", "yuv4mpegpipe", "pipe:1"]


def idle_command(every: int) -> bytes:
    """The stdin line that makes FFmpeg pass one decoded frame in ``every`` (idle), or all of them (<= 1)."""
    expr = f"mod(n,{every})" if every > 1 else "0"
    return f"c{IDLE_FILTER} -1 enable {expr}\n".encode()


@dataclass(frozen=True)
class Y4mHeader:
    width: int
    height: int
    mono: bool

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame's planes (after its FRAME line)."""
        return self.width * self.height if self.mono else self.width * self.height * 3 // 2


class Y4mError(ValueError):
    """A YUV4MPEG header this reader does not take (``chroma`` set when only the pixel format is wrong)."""

    def __init__(self, message: str, chroma: str = ""):
        super().__init__(message)
        self.chroma = chroma


def parse_header(line: bytes) -> Y4mHeader:
    """The stream header (without its newline): size and 4:2:0 or grey; anything else raises Y4mError."""
    fields = line.split(b" ")
    if not fields or fields[0] != b"YUV4MPEG2":
        raise Y4mError("not a YUV4MPEG stream")
    width = height = 0
    chroma = "420jpeg"                            # the format's default
    for f in fields[1:]:
        tag, value = f[:1], f[1:].decode("ascii", "replace")
        if tag == b"W":
            width = int(value)
        elif tag == b"H":
            height = int(value)
        elif tag == b"C":
            chroma = value
        elif tag == b"I" and value not in ("p", "?"):
            raise Y4mError(f"interlaced YUV4MPEG ({value}) not supported")
    if width <= 0 or height <= 0:
        raise Y4mError("YUV4MPEG header without a size")
    if chroma == "mono":
        return Y4mHeader(width, height, True)
    if not chroma.startswith("420") or width % 2 or height % 2:
        raise Y4mError(f"pixel format {chroma} at {width}x{height}: not 4:2:0 with even sides", chroma)
    return Y4mHeader(width, height, False)


class Progress:
    """Reads ``-progress`` blocks (key=value lines ending with ``progress=…``): frames in and out."""

    def __init__(self) -> None:
        self._block: dict[str, str] = {}
        self._partial = b""
        self.input_frames = 0          # decoded frames: output + dropped - duplicated (x scale while idle)
        self.output_frames = 0
        self.ended = False
        self.scale = 1                 # decoded frames per frame reaching -r (K while the idle filter runs)
        self._counted = 0              # output + dropped - duplicated at the previous report
        self._pending: deque[int] = deque()   # scales of the commands sent and not yet replied to
        self._spanning = 0             # the scale of the report that spans a change (0 = none)

    def expect(self, scale: int) -> None:
        """A command was sent that makes the scale ``scale`` once FFmpeg replies to it."""
        self._pending.append(scale)

    def feed(self, data: bytes) -> bool:
        """Take more bytes; True when at least one block completed (the counters moved)."""
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > 4096:       # not progress output: never keep growing
            self._partial = b""
        done = False
        for raw in lines:
            if raw.startswith(b"Command reply"):
                self._replied(raw)
                continue
            key, sep, value = raw.decode("ascii", "replace").strip().partition("=")
            if not sep:
                continue
            if key == "progress":
                block, self._block = self._block, {}
                try:
                    out = int(block.get("frame", "0"))
                    counted = out + int(block.get("drop_frames", "0")) - int(block.get("dup_frames", "0"))
                except ValueError:
                    continue
                self.input_frames += max(0, counted - self._counted) * (self._spanning or self.scale)
                self._counted, self.output_frames, self._spanning = counted, out, 0
                self.ended = value == "end"
                done = True
            elif key in ("frame", "drop_frames", "dup_frames"):
                self._block[key] = value
        return done

    def _replied(self, line: bytes) -> None:
        """FFmpeg applied (ret >= 0) or refused the oldest command sent."""
        scale = self._pending.popleft() if self._pending else self.scale
        ok = b"ret:" in line and not line.split(b"ret:", 1)[1].lstrip().startswith(b"-")
        if ok and scale != self.scale:
            self._spanning = min(self.scale, scale, self._spanning or scale)
            self.scale = scale


F_SETPIPE_SZ = 1031              # Linux fcntl
PIPE_BYTES = 1 << 20             # the default maximum for unprivileged processes (/proc/sys/fs/pipe-max-size)


def grow_pipe(fd: int) -> None:
    """Make the frame pipe hold a whole frame (64 KB by default: a 640x360 frame took six writes and six
    wake-ups on each side; measured, that was a fifth of the reader's and a tenth of FFmpeg's CPU)."""
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
    except (OSError, AttributeError):    # not Linux, or a lower limit: the default size works, a bit slower
        pass


class Pipes:
    """Blocking reads of one FFmpeg's stdout (frames; deadlines are the capture watchdog's, which kills the
    process) and non-blocking drains of its stderr (progress, a few hundred bytes a second)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.out = proc.stdout
        self.err = proc.stderr.fileno() if proc.stderr is not None else -1
        self.progress = Progress()
        self.cmd = proc.stdin.fileno() if proc.stdin is not None else -1
        if self.cmd >= 0:
            os.set_blocking(self.cmd, False)   # a command must never block the analyser that sends it
        self._cmd_lock = threading.Lock()      # the analyser sends, the reader closes: never write a closed fd
        self._null = -1                   # /dev/null, opened on the first discard
        self._scratch: memoryview | None = None   # where splice is not available: read and overwritten
        grow_pipe(self.out.fileno())
        if self.err >= 0:
            os.set_blocking(self.err, False)

    def read_stdout(self, n: int) -> bytes:
        """Up to ``n`` bytes (blocking); b"" at the end of the stream."""
        try:
            return self.out.read(n) or b""
        except (OSError, ValueError):
            return b""

    def fill_stdout(self, view: memoryview) -> bool:
        """Fill ``view`` completely (blocking); False at the end of the stream."""
        pos, size, readinto = 0, len(view), self.out.readinto
        try:
            while pos < size:
                n = readinto(view[pos:])
                if not n:
                    return False
                pos += n
        except (OSError, ValueError):
            return False
        return True

    def send(self, line: bytes) -> bool:
        """Write one command line to FFmpeg's stdin (one write: FFmpeg reads it whole); False if it could not."""
        with self._cmd_lock:
            try:
                return self.cmd >= 0 and os.write(self.cmd, line) == len(line)
            except OSError:              # FFmpeg has ended, or (never with a few bytes) its stdin is full
                return False

    def discard(self, n: int) -> bool:
        """Drop the next ``n`` bytes of stdout (blocking) without copying them to user space: ``splice`` moves
        the pipe's pages to /dev/null, which frees them (Linux); elsewhere they are read into one reused
        scratch buffer. False at the end of the stream."""
        fd = self.out.fileno()
        try:
            if self._null < 0 and self._scratch is None:
                self._null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC) if hasattr(os, "splice") else -1
                if self._null < 0:
                    self._scratch = memoryview(bytearray(1 << 20))
            while n > 0:
                if self._null >= 0:
                    try:
                        got = os.splice(fd, self._null, n)
                    except OSError as exc:
                        if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                            raise
                        os.close(self._null)           # not supported here: read instead, from now on
                        self._null, self._scratch = -1, memoryview(bytearray(1 << 20))
                        continue
                else:
                    got = self.out.readinto(self._scratch[:min(n, len(self._scratch))])
                if not got:
                    return False
                n -= got
        except (OSError, ValueError):
            return False
        return True

    def drain_progress(self, on_progress: Callable[[Progress], None]) -> None:
        """Read whatever progress FFmpeg wrote; ``on_progress`` for each completed report."""
        while self.err >= 0:
            try:
                data = os.read(self.err, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.err = -1
                return
            if self.progress.feed(data):
                on_progress(self.progress)

    def close(self) -> None:
        with self._cmd_lock:
            self.cmd = -1
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        if self._null >= 0:
            os.close(self._null)
            self._null = -1


def kill(proc: subprocess.Popen, wait: bool = True) -> None:
    """End an FFmpeg at once; with ``wait``, reap it (a killed process exits within milliseconds)."""
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    if not wait:
        return
    try:
        proc.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        log.warning("ffmpeg pid %d did not exit after SIGKILL", proc.pid)
