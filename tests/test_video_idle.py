"""Idle mode (ingest/video/idle.py): when a camera goes idle and when not (table-driven), what health expects
of it, the reader dropping frames unread (ffmpeg.Pipes.discard), and a real pipeline on the generated figure
scene: the empty street goes idle, the man walking in brings the full rate back at once, and his dwell in
the zone is what it is without idle mode (the lingering rule's measure)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ingest.video.analysis import Analyser
from ingest.video.capture import CaptureStatus
from ingest.video.detectors import make_detector
from ingest.video.ffmpeg import Pipes, Progress, command, idle_command
from ingest.video.health import classify
from ingest.video.idle import IdleState, enabled, period, should_idle
from ingest.video.publish import Publisher
from onescreen.events import StreamRecord
from onescreen.services import RtspServer
from onescreen.settings import VideoSettings
from tests.mqtt_helpers import wait_for
from tests.test_video_capture import MID, camera, pipelines, runs_of_presence, settings  # noqa: F401 (fixture)

CFG = VideoSettings(analysis_fps=5.0, idle_after_s=5.0, idle_fps=1.0)


@pytest.mark.parametrize("kw,want", [
    ({}, True),                                          # still for 6 s, nobody, no line
    ({"last_motion": 96.0}, False),                      # moved 4 s ago: not yet
    ({"last_motion": 95.0}, True),                       # exactly idle_after_s
    ({"tracks": 1}, False),                              # someone tracked (standing still: lingering)
    ({"visits": 1}, False),                              # a zone visit still open (track lost < track_gap_s)
    ({"lines": 1}, False),                               # entrance lines: never idle
    ({"cfg": CFG.model_copy(update={"idle_after_s": 0.0})}, False),       # idle mode off
    ({"cfg": CFG.model_copy(update={"idle_fps": 5.0})}, False),           # idle rate not below the full one
    ({"cfg": CFG.model_copy(update={"idle_after_s": 30.0})}, False),      # a longer delay
])
def test_when_a_camera_goes_idle(kw, want):
    args = {"cfg": CFG, "now": 100.0, "last_motion": 94.0, "tracks": 0, "visits": 0, "lines": 0, **kw}
    assert should_idle(**args) is want


@pytest.mark.parametrize("update,on,secs", [
    ({}, True, 1.0),
    ({"idle_fps": 0.5}, True, 2.0),
    ({"idle_fps": 5.0}, False, 0.0),
    ({"idle_fps": 8.0}, False, 0.0),
    ({"idle_after_s": 0.0}, False, 0.0),
])
def test_idle_period(update, on, secs):
    cfg = CFG.model_copy(update=update)
    assert enabled(cfg) is on and period(cfg) == secs


@pytest.mark.parametrize("steps,now,target", [
    ([], 100.0, 5.0),                                    # never idle
    ([(90.0, True)], 100.0, 1.0),                        # idle
    ([(80.0, True), (97.0, False)], 100.0, 1.0),         # woke 3 s ago: the 5 s window still holds idle frames
    ([(80.0, True), (93.0, False)], 100.0, 5.0),         # woke 7 s ago: judged at the full rate again
    ([(80.0, True), (93.0, False), (99.0, True)], 100.0, 1.0),
])
def test_what_health_expects_of_an_idle_camera(steps, now, target):
    state = IdleState()
    for ts, idle in steps:
        assert state.update(idle, ts)
    assert not state.update(state.idle, now)             # no change, nothing recorded
    assert state.analysis_target(CFG, now) == target
    assert list(state.changes) == steps and state.spells == sum(1 for _t, i in steps if i)


def status(**kw) -> CaptureStatus:
    base = {"connected": True, "opened_at": 100.0, "last_frame_at": 119.9, "fps": 25.0, "nominal_fps": 25.0,
            "reconnects": 0, "reason": "", "abandoned": 0, "attempts": 1}
    return CaptureStatus(**{**base, **kw})


@pytest.mark.parametrize("analysed,target,state,reason", [
    (1.0, 1.0, "online", ""),                            # idle at 1 fps: as expected, not starved
    (1.0, None, "degraded", "analysed at 1.0 fps of 5 configured"),   # the same rate, not idle: starved
    (0.4, 1.0, "degraded", "analysed at 0.4 fps of 1 (idle)"),        # idle and starved even of that
    (4.8, 5.0, "online", ""),
])
def test_an_idle_camera_is_judged_against_the_idle_rate(analysed, target, state, reason):
    got = classify(status(), 120.0, CFG, analysed, target)
    assert got[0] == state and reason in got[1]


@pytest.mark.parametrize("splice", [True, False])
def test_the_reader_drops_bytes_unread_and_keeps_its_place(splice):
    """discard() moves exactly n bytes (splice into /dev/null, or reads into a scratch buffer where splice is
    missing), so the next read starts on the next frame; at the end of the stream it says so."""
    code = "import sys; sys.stdout.buffer.write(b'a' * 700000 + b'FRAME\\n' + b'b' * 10)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            bufsize=0)
    pipes = Pipes(proc)
    try:
        if not splice:
            pipes._scratch = memoryview(bytearray(4096))
        assert pipes.discard(700000)
        assert pipes.read_stdout(6) == b"FRAME\n" and pipes.read_stdout(10) == b"b" * 10
        assert not pipes.discard(1)                      # the writer is done: end of stream
        assert (pipes._null >= 0) is splice
    finally:
        proc.wait(10)
        pipes.close()


@pytest.mark.services
def test_ffmpeg_drops_an_idle_cameras_frames_itself():
    """With idle mode on, FFmpeg reads filter commands on stdin and holds the idle filter (disabled: every frame
    passes); the command line of going idle passes one decoded frame in K, waking passes all again. Frames
    output while idle count K decoded frames each, so the stream's rate in health stays the camera's."""
    argv = command("ffmpeg", "rtsp://cam/1", CFG, idle=True)
    assert "-nostdin" not in argv and argv[argv.index("-vf") + 1] == "framestep@idle=step=1000000000:enable=0"
    assert argv.index("-vf") > argv.index("-i") and argv[-3:] == ["-f", "yuv4mpegpipe", "pipe:1"]
    plain = command("ffmpeg", "rtsp://cam/1", CFG)
    assert "-nostdin" in plain and "-vf" not in plain
    assert idle_command(25) == b"cframestep@idle -1 enable mod(n,25)\n"
    assert idle_command(1) == idle_command(0) == b"cframestep@idle -1 enable 0\n"
    p = Progress()
    reply = (b"\nEnter command: <target>|all <time>|-1 <command>[ <argument>]\n"
             b"\nCommand reply for stream 0: ret:0 res:\n")
    block = b"frame=%d\ndrop_frames=%d\ndup_frames=0\nprogress=continue\n"
    assert p.feed(block % (10, 40)) and p.input_frames == 50
    p.expect(25)                                         # going idle: one decoded frame in 25 reaches -r
    assert p.feed(block % (12, 44)) and p.input_frames == 56 and p.scale == 1     # not applied yet
    assert not p.feed(reply) and p.scale == 25
    assert p.feed(block % (13, 46)) and p.input_frames == 59   # the report spanning the change: scale 1
    assert p.feed(block % (14, 46)) and p.input_frames == 84   # then 25 each
    p.expect(1)                                          # waking
    assert p.feed(reply + block % (16, 50)) and p.input_frames == 90 and p.scale == 1
    assert p.feed(block % (17, 54)) and p.input_frames == 95
    p.expect(25)
    assert p.feed(reply.replace(b"ret:0", b"ret:-22") + block % (18, 58)) and p.scale == 1   # refused
    assert p.input_frames == 100 and p.output_frames == 18


def test_a_still_empty_street_goes_idle_and_the_man_walking_in_brings_the_full_rate_back(
        redis_client, redis_server, pipelines):  # noqa: F811 (fixture)
    """The figure walks in over 2 s, stands 6 s, walks out, and the street is empty for 8 s: idle after 2 s of
    it (idle_after_s=2, 1 fps). Waking: the frame on which the gate sees him ends idle mode and the next frames
    come at 5 fps again. His dwell in the zone after an idle spell is what test_video_capture measures without
    idle mode, within the same ±1 s; health says ``analysis: idle`` and ``online`` (not starved) meanwhile."""
    walk, stand, gap = 2.0, 6.0, 8.0
    speed = (640 / 2 + 640 / 8) / walk
    expected = stand + 2 * (MID["mid"]["polygon"][1][0] - 0.5) * 640 / speed
    s = settings(redis_server.url, analysis_fps=5.0, idle_after_s=2.0, idle_fps=1.0)
    seen: list[dict] = []
    with RtspServer({"fig": f"scene:figure?walk={walk:g}&stand={stand:g}&gap={gap:g}"}) as server:
        pipe = pipelines(camera("C-IDLE", server.url("fig"), MID), s, Publisher(redis_client, s))
        idle = pipe.analyser.idle

        def visit_after_idle() -> list[float] | None:
            seen.append(pipe.health())
            woke = [ts for ts, on in idle.changes if not on]
            if not woke:
                return None
            docs = [StreamRecord.decode(f) for _i, f in redis_client.xrange(pipe.stream)]
            runs = runs_of_presence([d for d in docs if d["ts"] >= woke[0] * 1000 - 1], "mid")
            return runs or None

        got = wait_for(visit_after_idle, 3 * (2 * walk + stand + gap) + 15, 0.5)
        frames = list(pipe.analyser.stats.recent)
        changes = list(idle.changes)
    assert got, (changes, seen[-1:])
    assert abs(got[0] - expected) <= 1.0, (got, expected)
    assert pipe.capture.frames > 0 and pipe.capture.dropped <= 3 * idle.spells   # FFmpeg dropped them
    # the first idle spell that ended: ~1 s between its frames (the reader may already be reading the frame
    # after the one that made the camera idle: that one comes at the full rate), then 5 fps from the frame
    # that woke it
    start, end = next((a, b) for (a, on_a), (b, on_b) in zip(changes, changes[1:]) if on_a and not on_b)
    idle_gaps = [b - a for a, b in zip(frames, frames[1:]) if start <= a and b <= end][1:]
    assert idle_gaps and all(0.6 <= g <= 1.6 for g in idle_gaps), idle_gaps
    after = [t for t in frames if t > end][:6]
    assert len(after) == 6 and after[0] - end <= 0.6, (end, after)
    assert (after[-1] - end) / 6 <= 0.35, (end, after)
    idle_health = [h for h in seen if h.get("analysis") == "idle"]
    assert idle_health and all(h["state"] == "online" for h in idle_health), idle_health
    assert max(h["fps"] for h in idle_health) >= 20, idle_health      # the stream's own rate, 25 fps
    assert all(h["state"] == "online" for h in seen[seen.index(idle_health[0]):]), seen


def test_a_camera_with_an_entrance_line_never_goes_idle():
    """A crossing takes less than an idle period: a camera counting a line analyses every frame."""
    cfg = CFG.model_copy(update={"detector": "hog", "idle_after_s": 1.0})
    lines = {"gate": {"a": [0.5, 0.0], "b": [0.5, 1.0], "in": "right"}}
    still = np.full((90, 160, 3), 80, np.uint8)
    for with_lines, want in ((None, True), (lines, False)):
        an = Analyser(cfg, make_detector(cfg), {}, lines=with_lines)
        for i in range(20):
            an.process(still, 1000.0 + i * 0.2)
        assert an.idle.idle is want, with_lines
