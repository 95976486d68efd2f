"""What one camera costs in ingest-video, against the floor of just decoding its stream, in the same run.

Starts its own RTSP server (onescreen.services.RtspServer, free port) and Redis. For each of two 640x360
25 fps scenes, two clients pull the same live stream at the same time:

- the floor: ``ffmpeg -threads 1 -rtsp_transport tcp -i URL -f null -`` (decode only; CPU from /proc);
- one real ``CameraPipeline`` (its FFmpeg decoding and reducing the rate, reader thread, motion gate,
  configured detector, tracker, zones, Redis writes, JPEG once a second) at ``--fps`` analysis; CPU from
  its threads' own clocks plus its FFmpeg process's (/proc).

Both scenes run side by side; after a warm-up (connection, stream probing, the gate learning the
background) the CPU of every client is sampled at the start and the end of one window, so start-up costs
are in neither figure and both sides are measured over exactly the same stream time. The window is a
multiple of 30 s, the detector's safety-net period on an empty still view (``video.empty_detect_s``), so
the quiet camera's figure holds its steady-state share of those runs (the former 20 s window held none).

Scenes: ``quiet`` (a still street, one blinking light: the motion gate should keep the cost near the floor)
and ``busy`` (a 640x360 crop of OpenCV's vtest.avi from opencv-doc, people walking all the time: the detector runs on
every analysed frame and dominates). Reports CPU seconds per camera-minute, ratios to the floor, the
detector's CPU ms per analysed frame, and how many such busy streams one core keeps up with in real time.

Also counts the entries each camera writes to its video stream per second (``quiet_entries_s``,
``busy_entries_s``): on change plus a heartbeat (ingest/video/onchange.py); ``--every-frame`` measures the
former design (one entry per analysed frame, ``video.publish_every_frame``) for comparison.

    python bench/video.py [--quick] [--seconds 60] [--fps 5] [--every-frame]

The busy camera has an entrance line across the path (vtest's hand-counted line, tests/data/vtest_crossings.json,
in the crop's coordinates): ``crossing_us`` is the crossing counter's CPU µs per analysed frame (its own
thread-time clock in the analyser, ``AnalysisStats.crossing_cpu_s``) and ``crossing_share`` its share of
the busy camera's whole CPU (issue #18: it should be lost in the noise). ``bench/crossing.py`` stays: it
stresses the counter alone with many walkers and lines.

The last line is ``RESULT quiet_ratio=… busy_ratio=… detector=… detector_ms=… streams_per_core=…
quiet_entries_s=… busy_entries_s=… crossing_us=… crossing_share=…``.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from ingest.video.capture import configure_ffmpeg
from ingest.video.detectors import make_detector
from ingest.video.pipeline import CameraPipeline
from ingest.video.publish import Publisher
from onescreen.redisconn import connect
from onescreen.registry.cache import CameraInfo
from onescreen.services import RedisServer, RtspServer, find_binary
from onescreen.settings import load_settings
from sim.streams import VTEST

REPO = Path(__file__).resolve().parents[1]
ZONES = {"square": {"polygon": [[0.05, 0.3], [0.95, 0.3], [0.95, 0.98], [0.05, 0.98]], "door_id": None}}
# vtest's counted line (x 154 px, y 161-323 px of 768x576) in the busy clip's centre crop (offset 64, 108)
LINES = {"busy": {"path": {"a": [0.14, 0.15], "b": [0.14, 0.6], "in": "left"}}}


def busy_clip(ffmpeg: str, workdir: Path) -> str:
    """A 640x360 H.264 clip of vtest (centre crop, the path people walk on, at their native size), or a stand-in."""
    if not VTEST.is_file():
        print(f"note: {VTEST} absent: the busy scene is the generated walking figure instead", flush=True)
        return "scene:figure?walk=3&stand=1&gap=0"
    cap = cv2.VideoCapture(str(VTEST))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    vf = f"crop=640:360:{(w - 640) // 2}:{(h - 360) // 2}" if w >= 640 and h >= 360 else "scale=640:360"
    out = workdir / "busy.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(VTEST), "-vf", vf, "-an", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", "25", str(out)], check=True, timeout=120)
    return f"file:{out}"


def floor(ffmpeg: str, url: str) -> subprocess.Popen:
    """Start decoding the stream to nowhere, one thread, until killed."""
    return subprocess.Popen([ffmpeg, "-v", "error", "-nostdin", "-threads", "1", "-rtsp_transport", "tcp",
                             "-i", url, "-f", "null", "-"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def process_cpu(pid: int) -> float:
    """User+system CPU seconds of a running process so far (/proc, clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads_cpu(threads) -> float:
    """CPU seconds of the given live threads (nanosecond per-thread clocks)."""
    return sum(time.clock_gettime(time.pthread_getcpuclockid(t.ident)) for t in threads if t.is_alive())


class Scene:
    """One camera pipeline and its floor on the same stream, sampled at the start and end of the window."""

    def __init__(self, name: str, url: str, settings, publisher, ffmpeg: str):
        self.name = name
        cam = CameraInfo(f"BENCH-{name}", "bench", name, 0.0, 0.0, url, None, None, True, 25.0, ZONES,
                         LINES.get(name, {}))
        self.pipe = CameraPipeline(cam, None, settings.video, make_detector(settings.video), publisher,
                                   instance="bench").start()
        self.ffmpeg = floor(ffmpeg, url)

    def sample(self) -> tuple[float, float, int, float, int, int, float]:
        stats = self.pipe.analyser.stats
        if self.ffmpeg.poll() is not None:
            raise SystemExit(f"ffmpeg floor exited: {self.ffmpeg.stderr.read().decode(errors='replace')[-500:]}")
        decoder = self.pipe.capture.decoder_pid()
        own = threads_cpu(self.pipe.threads()) + (process_cpu(decoder) if decoder else 0.0)
        return (own, process_cpu(self.ffmpeg.pid), stats.detections_run,
                stats.detect_cpu_s, stats.frames, sum(self.pipe.onchange.reasons.values()), stats.crossing_cpu_s)

    def close(self) -> None:
        self.ffmpeg.kill()
        self.ffmpeg.wait(10)
        self.pipe.stop()


def measure(scenes: list[Scene], warmup: float, seconds: float) -> list[dict]:
    """Steady-state CPU of every scene over the same window (after ``warmup``), all running side by side."""
    time.sleep(warmup)
    before = [sc.sample() for sc in scenes]
    wall0 = time.monotonic()
    time.sleep(seconds)
    after = [sc.sample() for sc in scenes]
    wall = time.monotonic() - wall0
    rows = []
    for sc, (cpu0, fl0, runs0, det0, fr0, en0, cr0), (cpu1, fl1, runs1, det1, fr1, en1, cr1) in zip(
            scenes, before, after):
        runs = runs1 - runs0
        health = sc.pipe.health()
        rows.append({"name": sc.name, "cpu": cpu1 - cpu0, "floor": fl1 - fl0, "wall": wall, "runs": runs,
                     "frames": fr1 - fr0, "det_ms": 1000 * (det1 - det0) / runs if runs else 0.0,
                     "fps": health["fps"], "state": health["state"], "entries_s": (en1 - en0) / wall,
                     "cross_s": cr1 - cr0, "crossings": dict(sc.pipe.analyser.lines.totals)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="measure 30 s (finishes within 45 s)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per scene")
    parser.add_argument("--fps", type=float, default=5.0, help="analysis rate")
    parser.add_argument("--detector", default="ssd", help="video.detector (onnx needs --model)")
    parser.add_argument("--model", help="ONNX model file for --detector onnx")
    parser.add_argument("--every-frame", action="store_true",
                        help="publish every analysed frame (the design before on-change publishing)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    seconds, warmup = (30.0, 5.0) if args.quick else (args.seconds, 5.0)
    ffmpeg = find_binary("ffmpeg", "ffmpeg")
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp, RedisServer() as redis_server:
        video = {"analysis_fps": args.fps, "detector": args.detector, "publish_every_frame": args.every_frame}
        if args.model:
            video["onnx_model"] = args.model
        settings = load_settings(redis={"url": redis_server.url}, video=video)
        configure_ffmpeg(settings.video)
        publisher = Publisher(connect(settings.redis), settings)
        mounts = {"quiet": "scene:quiet?size=640x360&fps=25", "busy": busy_clip(ffmpeg, Path(tmp))}
        with RtspServer(mounts) as server:
            scenes = [Scene(name, server.url(name), settings, publisher, ffmpeg) for name in mounts]
            try:
                rows = measure(scenes, warmup, seconds)
            finally:
                for sc in scenes:
                    sc.close()
    print(f"\ningest-video, one 640x360 25 fps camera per scene, analysis {args.fps:g} fps, detector "
          f"{args.detector}, {os.cpu_count()} cores, steady state over {seconds:.0f} s (scenes side by side)")
    print(f"{'scene':6} {'CPU s/cam-min':>14} {'floor s/cam-min':>16} {'ratio':>6} {'analysed':>9} {'detected':>9} "
          f"{'det ms':>7} {'stream fps':>10} {'entries/s':>9}")
    for r in rows:
        per_min, floor_min = r["cpu"] / r["wall"] * 60, r["floor"] / r["wall"] * 60
        print(f"{r['name']:6} {per_min:14.2f} {floor_min:16.2f} {r['cpu'] / r['floor']:6.2f} {r['frames']:9d} "
              f"{r['runs']:9d} {r['det_ms']:7.1f} {r['fps']:10.1f} {r['entries_s']:9.2f}")
    quiet, busy = rows
    per_core = 1.0 / (busy["cpu"] / busy["wall"])
    print(f"busy: entrance line counter {1e6 * busy['cross_s'] / max(busy['frames'], 1):.1f} us CPU per analysed "
          f"frame, {100 * busy['cross_s'] / busy['cpu']:.3f}% of the camera's CPU; counted since start "
          f"{busy['crossings']}")
    print(f"busy: {busy['cpu'] / busy['wall'] * 100:.1f}% of a core per camera -> {per_core:.1f} streams per core "
          f"in real time; total run {time.monotonic() - t_start:.0f} s", flush=True)
    print(f"RESULT quiet_ratio={quiet['cpu'] / quiet['floor']:.2f} busy_ratio={busy['cpu'] / busy['floor']:.2f} "
          f"detector={args.detector} detector_ms={busy['det_ms']:.1f} streams_per_core={per_core:.1f} "
          f"quiet_entries_s={quiet['entries_s']:.2f} busy_entries_s={busy['entries_s']:.2f} "
          f"crossing_us={1e6 * busy['cross_s'] / max(busy['frames'], 1):.1f} "
          f"crossing_share={busy['cross_s'] / busy['cpu']:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
