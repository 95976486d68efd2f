"""Where a quiet camera's CPU goes beyond decoding: one stream, several clients, one window.

bench/video.py gives the quiet camera's total against the floor; this splits that total. Starts its own
RTSP server and Redis; on one quiet 25 fps scene (``--size``, 640x360 like bench/video.py's), side by side
over the same window:

- ``floor``: ``ffmpeg -threads 1 -rtsp_transport tcp -i URL -f null -`` (bench/video.py's baseline; CPU of
  this and the bare readers from /proc/PID/task/*/schedstat, the same clock as /proc/PID/stat in ns);
- ``reduce``: the pipeline's own FFmpeg command line (ingest/video/ffmpeg.py: decode, drop to the analysis
  rate, YUV4MPEG out, progress reports) writing to /dev/null: what decoding costs the way the pipeline
  decodes, i.e. how far the rate reduction and the output are from the floor;
- one real ``CameraPipeline``: its FFmpeg process (``decoder``), its reader and analyser threads, and
  inside the analyser the CPU of each
  stage (the stages are wrapped with per-thread CPU clocks by this script: gate, detector, tracker and
  zones, the per-frame Redis write, the once-a-second snapshot encode and its write); what is left of the
  analyser thread is the loop itself (waits, hand-over, watchdog, building the document). A stage still
  running when the window ends is in its thread's total but not yet in its stage (it shows as loop).

The window is a whole number of ``empty_detect_s`` periods (30 s, the quick run; 60 s by default), so the
detector's safety-net runs on an empty view are in the figures in their steady-state proportion.

    python bench/video_breakdown.py [--quick] [--seconds 60] [--fps 5] [--size 640x360]

All figures are CPU milliseconds per second of stream. Last line: ``RESULT ratio=… ratio_wo_detect=…
floor_ms=… reduce_ms=… decoder_ms=… reader_ms=… analyser_ms=… gate_ms=… detect_ms=… publish_ms=…
snapshot_ms=…`` (``ratio_wo_detect``: the pipeline without its detector runs, against the floor).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))

from video import ZONES, floor

from ingest.video import pipeline as pipeline_module
from ingest.video.capture import configure_ffmpeg
from ingest.video.ffmpeg import command
from ingest.video.detectors import make_detector
from ingest.video.pipeline import CameraPipeline
from ingest.video.publish import Publisher
from onescreen.redisconn import connect
from onescreen.registry.cache import CameraInfo
from onescreen.services import RedisServer, RtspServer, find_binary
from onescreen.settings import load_settings


class Stages:
    """Per-thread CPU seconds spent inside wrapped callables, by stage name."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[name] += time.thread_time() - t0
        return timed


def thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds of one live thread of this process (its own clock, nanoseconds)."""
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def tasks_cpu(pid: int) -> float:
    """CPU seconds of all threads of a process, nanosecond resolution (/proc/PID/task/*/schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def instrument(pipe: CameraPipeline, stages: Stages) -> None:
    """Wrap the analyser's stages with CPU clocks (this process only: the pipeline module is patched)."""
    an = pipe.analyser
    an.gate.moving_grey = stages.wrap("gate", an.gate.moving_grey)
    an.detector = type("Timed", (), {"detect": staticmethod(stages.wrap("detect", an.detector.detect))})()
    an.tracker.update = stages.wrap("track", an.tracker.update)
    an.zones.update = stages.wrap("track", an.zones.update)
    pipe.appender.append = stages.wrap("publish", pipe.appender.append)
    pipe.publisher.latest = stages.wrap("snapshot", pipe.publisher.latest)
    pipeline_module.encode_jpeg = stages.wrap("snapshot", pipeline_module.encode_jpeg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="measure 30 s (finishes within 45 s)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds (a multiple of 30 s)")
    parser.add_argument("--fps", type=float, default=5.0, help="analysis rate")
    parser.add_argument("--size", default="640x360", help="frame size of the scene (bench/video.py: 640x360)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    seconds, warmup = (30.0, 5.0) if args.quick else (args.seconds, 5.0)
    ffmpeg = find_binary("ffmpeg", "ffmpeg")
    scene = f"scene:quiet?size={args.size}&fps=25"
    with RedisServer() as redis_server, RtspServer({"quiet": scene}) as server:
        settings = load_settings(redis={"url": redis_server.url}, video={"analysis_fps": args.fps})
        cfg = settings.video
        configure_ffmpeg(cfg)
        url = server.url("quiet")
        cam = CameraInfo("BENCH-quiet", "bench", "quiet", 0.0, 0.0, url, None, None, True, 25.0, ZONES)
        stages = Stages()
        publisher = Publisher(connect(settings.redis), settings)
        pipe = CameraPipeline(cam, None, cfg, make_detector(cfg), publisher, instance="bench")
        instrument(pipe, stages)
        reduce = command(ffmpeg, url, cfg)[:-1] + ["-y", "/dev/null"]
        procs = {"floor": floor(ffmpeg, url),
                 "reduce": subprocess.Popen(reduce, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)}
        pipe.start()
        try:
            time.sleep(warmup)
            threads = {"reader": pipe.capture._thread, "analyser": pipe._thread}
            decoder = pipe.capture.decoder_pid()

            def sample() -> dict[str, float]:
                ended = [p for p in procs.values() if p.poll() is not None]
                if ended or not all(t.is_alive() for t in threads.values()) or decoder != pipe.capture.decoder_pid():
                    raise SystemExit("a client ended during the window: its figures would be wrong")
                return {**{n: thread_cpu(t) for n, t in threads.items()}, "decoder": tasks_cpu(decoder),
                        **{n: tasks_cpu(p.pid) for n, p in procs.items()}, **stages.cpu}

            before, wall0 = sample(), time.monotonic()
            time.sleep(seconds)
            after, wall = sample(), time.monotonic() - wall0
        finally:
            for proc in procs.values():
                proc.kill()
                proc.wait(10)
            pipe.stop()
    ms = {name: 1000 * (after[name] - before.get(name, 0.0)) / wall for name in after}
    for name in ("gate", "detect", "track", "publish", "snapshot"):
        ms.setdefault(name, 0.0)
    ms["loop"] = ms["analyser"] - sum(ms[n] for n in ("gate", "detect", "track", "publish", "snapshot"))
    total = ms["decoder"] + ms["reader"] + ms["analyser"]
    print(f"\nquiet {args.size} 25 fps camera, analysis {args.fps:g} fps, {seconds:.0f} s window; "
          f"CPU ms per second of stream (share of the floor)")
    rows = [("floor: ffmpeg -threads 1 to null", "floor"), ("our ffmpeg command to /dev/null", "reduce"),
            ("pipeline decoder (its ffmpeg)", "decoder"), ("pipeline reader thread", "reader"),
            ("pipeline analyser thread", "analyser"), ("  motion gate", "gate"),
            ("  detector (safety net)", "detect"), ("  tracker + zones", "track"),
            ("  Redis XADD per frame", "publish"), ("  snapshot: JPEG + SETs", "snapshot"),
            ("  loop, waits, document", "loop")]
    for label, key in rows:
        print(f"{label:40} {ms[key]:7.2f}  ({ms[key] / ms['floor']:.2f})")
    print(f"{'pipeline total':40} {total:7.2f}  ({total / ms['floor']:.2f})")
    print(f"{'pipeline total without the detector':40} {total - ms['detect']:7.2f}  "
          f"({(total - ms['detect']) / ms['floor']:.2f})", flush=True)
    keys = ("floor", "reduce", "decoder", "reader", "analyser", "gate", "detect", "publish", "snapshot")
    gated = (total - ms["detect"]) / ms["floor"]
    print(f"RESULT ratio={total / ms['floor']:.2f} ratio_wo_detect={gated:.2f} "
          + " ".join(f"{k}_ms={ms[k]:.2f}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
