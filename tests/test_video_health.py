"""Honest camera health: the analysis rate against the configured one, detection time shared fairly between
a worker's cameras, image usability (ok, dark, frozen, covered), and the FFmpeg side of capture (its
command line and stream parsing). Pure and table-driven; no services."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ingest.video.capture import CaptureStatus
from ingest.video.fairness import FairSlots
from ingest.video.ffmpeg import Progress, Y4mError, command, parse_header
from ingest.video.health import classify, health_record
from ingest.video.usability import ImageCheck
from onescreen.settings import VideoSettings

CFG = VideoSettings(analysis_fps=5.0)


def status(**kw) -> CaptureStatus:
    base = {"connected": True, "opened_at": 100.0, "last_frame_at": 109.9, "fps": 25.0, "nominal_fps": 25.0,
            "reconnects": 0, "reason": "", "abandoned": 0, "attempts": 1}
    base.update(kw)
    return CaptureStatus(**base)


@pytest.mark.parametrize("analysed,stream_fps,now,state,reason", [
    (4.8, 25.0, 110.0, "online", ""),
    (2.6, 25.0, 110.0, "online", ""),                 # over half the configured rate
    (0.8, 25.0, 110.0, "degraded", "analysed at 0.8 fps of 5 configured"),
    (0.8, 25.0, 104.0, "online", ""),                 # the analysis window is not warm yet
    (1.6, 2.0, 110.0, "online", ""),                  # a 2 fps stream cannot be analysed faster than 2
    (0.6, 2.0, 110.0, "degraded", "analysed at 0.6 fps"),
])
def test_a_camera_starved_of_analysis_is_degraded(analysed, stream_fps, now, state, reason):
    st = status(fps=stream_fps, nominal_fps=stream_fps)
    got_state, got_reason = classify(st, now, CFG, analysed)
    assert got_state == state and reason in got_reason
    rec = health_record(st, now, CFG, analysed, image="ok")
    assert rec["analysis_fps"] == analysed and rec["analysis_fps_target"] == 5.0 and rec["image"] == "ok"


def test_fair_slots_serve_the_camera_that_used_the_detector_least():
    """One slot; 'busy' has used the detector a lot lately, 'quiet' little: when the slot frees, 'quiet' gets
    it first even though 'busy' asked first; and usage decays (half-life) so 'busy' is not starved for ever."""
    clock = [0.0]
    slots = FairSlots(1, half_life_s=10.0, clock=lambda: clock[0])
    with slots.use("busy"):
        clock[0] += 3.0                                 # a 3 s detection
    with slots.use("quiet"):
        clock[0] += 0.1
    assert slots.usage("busy") == pytest.approx(3.0 * 0.5 ** 0.01, rel=1e-3)
    order: list[str] = []
    hold = threading.Event()
    ready = threading.Barrier(3)

    def ask(key: str) -> None:
        ready.wait()
        with slots.use(key):
            order.append(key)

    with slots.use("other"):                            # the slot is taken while both queue
        threads = [threading.Thread(target=ask, args=(k,)) for k in ("busy", "quiet")]
        for t in threads:
            t.start()
        ready.wait()
        hold.wait(0.3)                                  # both are waiting now
    for t in threads:
        t.join(5)
    assert order == ["quiet", "busy"]
    clock[0] += 60.0                                    # six half-lives later the history is nearly gone
    assert slots.usage("busy") < 0.1


def frames_of(level: float, std: float, n: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.clip(rng.normal(level, std, (90, 160)), 0, 255).astype(np.uint8) for _ in range(n)]


@pytest.mark.parametrize("frames,expected", [
    (frames_of(120, 30, 80), "ok"),                    # a live, detailed picture
    (frames_of(12, 4, 80), "dark"),                    # unlit
    (frames_of(128, 1.5, 80), "covered"),              # no detail: lens covered or turned to a wall
    (frames_of(120, 30, 1) * 80, "frozen"),            # the very same picture again and again
])
def test_image_usability(frames, expected):
    check = ImageCheck(VideoSettings(image_frozen_s=10.0, image_hold_s=5.0))
    states = [check.update(f, 100.0 + 0.2 * i) for i, f in enumerate(frames)]   # 16 s at 5 fps
    assert states[-1] == expected
    if expected in ("dark", "covered"):
        assert states[int(4.5 / 0.2)] == "ok" and states[int(5.5 / 0.2)] == expected   # held 5 s first
    assert check.update(frames_of(120, 30, 1, seed=9)[0], 200.0) == "ok"               # back at once


def test_ffmpeg_command_and_stream_parsing():
    cfg = VideoSettings(analysis_fps=2.5, read_timeout_s=4.0, open_timeout_s=3.0)
    argv = command("ffmpeg", "rtsp://u:p@cam/1", cfg)
    assert argv[argv.index("-r") + 1] == "2.5" and argv[argv.index("-timeout") + 1] == "4000000"
    assert argv[argv.index("-loglevel") + 1] == "quiet" and argv[-3:] == ["-f", "yuv4mpegpipe", "pipe:1"]
    assert argv[argv.index("-fpsprobesize") + 1] == "0" and "-rtsp_transport" in argv
    assert "-rtsp_transport" not in command("ffmpeg", "/tmp/file.mp4", cfg)
    h = parse_header(b"YUV4MPEG2 W640 H360 F5:1 Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=FULL")
    assert (h.width, h.height, h.mono, h.frame_bytes) == (640, 360, False, 640 * 360 * 3 // 2)
    assert parse_header(b"YUV4MPEG2 W64 H48 F5:1 Ip Cmono").frame_bytes == 64 * 48
    with pytest.raises(Y4mError) as exc:
        parse_header(b"YUV4MPEG2 W64 H48 F5:1 Ip C444")
    assert exc.value.chroma == "444"
    with pytest.raises(Y4mError):
        parse_header(b"RIFF....")
    p = Progress()
    assert not p.feed(b"frame=10\ndup_frames=0\ndrop_fr")
    assert p.feed(b"ames=40\nspeed=1x\nprogress=continue\nframe=1")
    assert (p.input_frames, p.output_frames, p.ended) == (50, 10, False)
