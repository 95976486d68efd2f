"""The RTSP server serves what cameras would: decodable H.264 that never ends, and can go off the air."""

from __future__ import annotations

import socket
import subprocess
import time

import cv2
import numpy as np
import pytest

from onescreen.services import RtspServer, find_binary
from sim.rtsp_scenes import Scene

pytestmark = pytest.mark.services
TIMEOUTS = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 8000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000]


@pytest.fixture(autouse=True)
def _tcp_transport(monkeypatch):
    """Pull over TCP, as OneScreen does by default."""
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


def open_capture(url: str) -> cv2.VideoCapture:
    return cv2.VideoCapture(url, cv2.CAP_FFMPEG, TIMEOUTS)


def read_frames(url: str, count: int) -> list:
    cap = open_capture(url)
    assert cap.isOpened(), f"cannot open {url}"
    frames = []
    try:
        while len(frames) < count:
            ok, frame = cap.read()
            assert ok, f"read failed after {len(frames)} frames from {url}"
            frames.append(frame)
    finally:
        cap.release()
    return frames


def reads_until_failure(cap: cv2.VideoCapture, limit_s: float) -> bool:
    """True when reading fails within ``limit_s`` (the stream stopped)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        ok, _frame = cap.read()
        if not ok:
            return True
    return False


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    """A 3-second 25 fps test pattern (moving, with a frame counter), made with ffmpeg."""
    ffmpeg = find_binary("ffmpeg", "ffmpeg")
    path = tmp_path_factory.mktemp("clip") / "short.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "3",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def own_server(short_clip):
    """A private server for the tests that take mounts down or stop the server."""
    with RtspServer({"clip": f"file:{short_clip}", "quiet": "scene:quiet",
                     "fastfigure": "scene:figure?walk=0.5&stand=1.5&gap=0.5"}) as server:
        yield server


def test_vtest_frames_move(vtest_url, vtest_path):
    native = cv2.VideoCapture(str(vtest_path))
    ok, first = native.read()
    native.release()
    assert ok
    frames = read_frames(vtest_url, 30)
    assert all(f.shape == first.shape for f in frames)
    assert cv2.absdiff(frames[0], frames[-1]).mean() > 1.0, "vtest frames do not change"


@pytest.mark.parametrize("mount", ["quiet", "figure"])
def test_generated_scene_frames(rtsp_server, mount):
    frames = read_frames(rtsp_server.url(mount), 10)
    assert all(f.shape == (360, 640, 3) for f in frames)
    assert frames[-1].mean() > 20, "frame is black"


def test_scene_size_and_fps_options():
    with RtspServer({"small": "scene:quiet?size=320x180&fps=10"}) as server:
        frames = read_frames(server.url("small"), 3)
    assert frames[-1].shape == (180, 320, 3)


def test_file_loops_without_end_of_stream(own_server):
    """Reading 6 s of a 3 s file gets frames all along: the server loops it, the client never sees EOS."""
    cap = open_capture(own_server.url("clip"))
    assert cap.isOpened()
    started, frames = time.monotonic(), 0
    try:
        while time.monotonic() - started < 6.5:
            ok, frame = cap.read()
            assert ok, f"stream ended after {frames} frames ({time.monotonic() - started:.1f} s)"
            assert frame.shape == (240, 320, 3)
            frames += 1
    finally:
        cap.release()
    assert frames >= 0.8 * 25 * 6, frames


def _hog():
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


@pytest.mark.parametrize("size", ["640x360", "1280x720"])
def test_rendered_figure_is_a_person_in_every_pose(size):
    """Straight from the renderer (no video coding): HOG sees the figure whenever it is wholly in view."""
    scene, hog = Scene("figure", {"size": size, "walk": "2", "stand": "3", "gap": "1"}), _hog()
    w, h = scene.width, scene.height
    for t in np.arange(0.25, scene.period, 0.5):
        frame = np.frombuffer(scene.render(t), np.uint8).reshape(h, w, 3)[:, :, ::-1]
        found = len(hog.detectMultiScale(cv2.resize(frame, (640, 360)))[0])
        pose = scene.pose(t)
        if pose is None:
            assert found == 0, t
        elif 0.15 * w < pose[0] < 0.85 * w:
            assert found == 1, (t, pose, found)


def test_figure_cycle_timing():
    scene = Scene("figure", {"walk": "4", "stand": "20", "gap": "4"})
    assert scene.period == 32
    assert scene.pose(3.9)[0] < scene.width // 2
    assert all(scene.pose(t) == (scene.width // 2, 0) for t in (4.0, 10.0, 23.9))
    assert scene.pose(26.0)[0] > scene.width // 2
    assert scene.pose(29.0) is None and scene.pose(32.5) is not None
    with pytest.raises(ValueError, match="unknown scene"):
        Scene("crowd", {})


def test_figure_is_a_person_to_hog_and_quiet_is_not(own_server):
    """The figure scene exists for people/dwell tests: OpenCV's stock HOG people detector must see it."""
    hog = _hog()
    figure = read_frames(own_server.url("fastfigure"), 3 * 25)[::6]        # one 3 s cycle
    hits = sum(len(hog.detectMultiScale(f)[0]) > 0 for f in figure)
    assert hits >= len(figure) // 2, f"person seen in {hits} of {len(figure)} frames"
    quiet = read_frames(own_server.url("quiet"), 3)
    assert all(len(hog.detectMultiScale(f)[0]) == 0 for f in quiet)


def describe(server: RtspServer, mount: str) -> int:
    """Status code of a bare RTSP DESCRIBE (what a camera health probe sends)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"DESCRIBE {server.url(mount)} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        return int(sock.recv(1024).split(b" ", 2)[1])


def test_back_to_back_describes_all_succeed(own_server):
    """A client arriving while the previous one leaves gets the stream, not a 503 from a dying media."""
    for mount in ("clip", "quiet"):
        assert [describe(own_server, mount) for _ in range(20)] == [200] * 20


def test_one_shared_pipeline_for_many_clients(own_server):
    caps = [open_capture(own_server.url("quiet")) for _ in range(2)]
    try:
        for _ in range(5):
            assert all(cap.read()[0] for cap in caps)
    finally:
        for cap in caps:
            cap.release()
    log = own_server.log_path.read_text()
    assert log.count("media on (2 active)") == 0, "a second pipeline was built for the same mount"


def test_mount_down_and_up(own_server):
    url = own_server.url("quiet")
    cap = open_capture(url)
    assert cap.isOpened() and cap.read()[0]
    try:
        own_server.set_mount("quiet", False)
        assert reads_until_failure(cap, 8), "reads went on after the mount went down"
    finally:
        cap.release()
    try:
        dead = open_capture(url)
        assert not dead.isOpened(), "a down mount still opens"
        dead.release()
        assert read_frames(own_server.url("clip"), 3), "other mounts must stay up"
    finally:
        own_server.set_mount("quiet", True)
    assert len(read_frames(url, 5)) == 5


def test_server_stop_and_start(own_server):
    url = own_server.url("clip")
    cap = open_capture(url)
    assert cap.read()[0]
    own_server.stop()
    try:
        assert reads_until_failure(cap, 8), "reads went on after the server stopped"
        cap.release()
        dead = open_capture(url)
        assert not dead.isOpened()
        dead.release()
    finally:
        own_server.start()
    assert len(read_frames(url, 5)) == 5


def test_down_state_survives_restart(own_server):
    own_server.set_mount("quiet", False)
    try:
        own_server.restart()
        dead = open_capture(own_server.url("quiet"))
        assert not dead.isOpened()
        dead.release()
    finally:
        own_server.set_mount("quiet", True)
    assert read_frames(own_server.url("quiet"), 2)
