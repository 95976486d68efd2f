#!/usr/bin/env python3
"""A real RTSP server for the simulated city and the tests: looped video files and generated scenes.

Run by the Debian Python that has GStreamer's gi bindings (the project's virtualenv usually has not), so it
imports nothing but gi, the standard library and its sibling rtsp_scenes.py. Usage::

    rtsp_server.py --port 8554 vtest=file:/data/vtest.avi quiet=scene:quiet 'door=scene:figure?stand=20'

Mount specs:
  ``file:/abs/path``        the file, decoded and re-encoded to H.264, looped forever inside the server
                            (segment seeks), so a client reading for hours never sees an end of stream;
  ``scene:quiet``           a street at dusk with almost no motion (one window light blinks);
  ``scene:figure``          a person-like figure walks in, stands ``stand`` s in the middle, walks out,
                            the street stays empty ``gap`` s, and again (``walk``, ``stand``, ``gap``);
  query options:            ``size=640x360`` and ``fps=25`` for scenes (files keep their native ones).

Each mount is one shared pipeline however many clients watch it, and mounts with the same spec share it too:
the simulated city serves 24 cameras from three kinds of picture, so it decodes, renders and encodes each
kind once (``SharedFactory``: one media per spec, not per path) instead of 24 times; ``down NAME`` still
takes only that name off the air. Frames come from a producer (a decoding
pipeline for files, a render thread for scenes) through an appsrc, so a producer never stops or rewinds
when clients come and go, just like a camera. With ``--control-stdin`` the lines ``down NAME`` / ``up NAME``
take a mount off the air (its clients are disconnected, new ones get 404) and back; each is acknowledged
with ``ok down NAME`` on stdout. The server exits on SIGTERM/SIGINT, and on stdin EOF when controlled.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from urllib.parse import parse_qs

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

try:
    from sim.rtsp_scenes import Scene
except ImportError:  # run as a script: its own folder is on sys.path
    from rtsp_scenes import Scene

log = logging.getLogger("rtsp")

ENCODE = ("videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast "
          "key-int-max={gop} bitrate={kbps} threads=1 ! video/x-h264,profile=constrained-baseline ! "
          "rtph264pay name=pay0 pt=96 config-interval=-1")
APPSRC = "appsrc name=src is-live=true format=time do-timestamp=true max-buffers=8 leaky-type=downstream"


# ---------------------------------------------------------------- mounts
class SharedFactory(GstRtspServer.RTSPMediaFactory):
    """A media factory whose media is shared by every path it is mounted on (the default key is the URL)."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def do_gen_key(self, _url) -> str:
        return self.key


class Mount:
    """One mount: a frame producer feeding the appsrc of each (shared) media built for it."""

    def __init__(self, name: str, spec: str):
        self.name = name
        self.spec = spec
        self.caps: Gst.Caps | None = None
        self.fps = 25
        self._sinks: list[Gst.Element] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.factory = SharedFactory(spec)
        self.factory.set_shared(True)
        self.factory.connect("media-configure", self._on_configure)

    def start(self) -> None:
        kbps = min(4000, max(300, self.width * self.height * self.fps // 8000))
        self.factory.set_launch(f"( {APPSRC} ! {ENCODE.format(gop=self.fps, kbps=kbps)} )")

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _on_configure(self, _factory, media) -> None:
        src = media.get_element().get_by_name("src")
        src.set_property("caps", self.caps)
        media.connect("unprepared", lambda _m, s=src: self._track(s, False))
        self._track(src, True)

    def _track(self, src, active: bool) -> None:
        with self._lock:
            if active:
                self._sinks.append(src)
            elif src in self._sinks:
                self._sinks.remove(src)
            count = len(self._sinks)
        if active:
            self._wake.set()
        log.info("mount %s: media %s (%d active)", self.name, "on" if active else "off", count)

    def push(self, buf: Gst.Buffer) -> None:
        with self._lock:
            sinks = list(self._sinks)
        for src in sinks:
            # A buffer pushed before the media plays is stamped (do-timestamp) against no base time: its
            # timestamp lies far in the future and the RTSP sink waits for it forever. Seen under CPU load.
            if src.current_state == Gst.State.PLAYING:
                src.emit("push-buffer", buf)

    def has_clients(self) -> bool:
        with self._lock:
            return bool(self._sinks)


class SceneMount(Mount):
    """A generated scene rendered by a thread at the scene's fps, only while someone watches."""

    def __init__(self, name: str, spec: str, kind: str, opts: dict[str, str]):
        super().__init__(name, spec)
        try:
            self.scene = Scene(kind, opts)
        except ValueError as exc:
            raise ValueError(f"mount {name}: {exc}") from None
        self.width, self.height, self.fps = self.scene.width, self.scene.height, self.scene.fps
        self.caps = Gst.Caps.from_string(f"video/x-raw,format=RGB,width={self.width},height={self.height},"
                                         f"framerate={self.fps}/1")
        self._t0 = time.monotonic()

    def start(self) -> None:
        super().start()
        threading.Thread(target=self._run, name=f"scene-{self.name}", daemon=True).start()

    def _run(self) -> None:
        period = 1.0 / self.fps
        while not self._stop.is_set():
            self._wake.clear()            # before the check, so a media arriving in between is not missed
            if not self.has_clients():
                self._wake.wait(1.0)
                continue
            now = time.monotonic()
            buf = Gst.Buffer.new_wrapped(self.scene.render(now - self._t0))
            self.push(buf)
            # Absolute frame grid: frames stay at the nominal rate even if one render is slow.
            nxt = (int((now - self._t0) / period) + 1) * period + self._t0
            self._stop.wait(max(0.0, nxt - time.monotonic()))


class FileMount(Mount):
    """A video file decoded in real time and looped with segment seeks, feeding the RTSP media."""

    def __init__(self, name: str, spec: str, path: str):
        super().__init__(name, spec)
        self.path = path
        self.loops = 0
        pipe = Gst.parse_launch(
            "filesrc name=file ! decodebin ! videoconvert ! video/x-raw,format=I420 ! "
            "appsink name=sink sync=true emit-signals=true max-buffers=4 drop=false")
        pipe.get_by_name("file").set_property("location", path)
        self.pipeline = pipe
        sink = pipe.get_by_name("sink")
        sink.connect("new-sample", self._on_sample)
        pipe.set_state(Gst.State.PAUSED)
        ok, _state, _pending = pipe.get_state(20 * Gst.SECOND)
        if ok == Gst.StateChangeReturn.FAILURE:
            msg = pipe.get_bus().pop_filtered(Gst.MessageType.ERROR)
            err = msg.parse_error()[0].message if msg else "unknown error"
            raise RuntimeError(f"mount {name}: cannot play {path}: {err}")
        self.caps = sink.get_static_pad("sink").get_current_caps()
        st = self.caps.get_structure(0)
        self.width, self.height = st.get_value("width"), st.get_value("height")
        ok, num, den = st.get_fraction("framerate")
        self.fps = max(1, round(num / den)) if ok and num and den else 25

    def start(self) -> None:
        super().start()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)
        self._seek(Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT)
        self.pipeline.set_state(Gst.State.PLAYING)
        log.info("mount %s: %s %dx%d@%d looped", self.name, self.path, self.width, self.height, self.fps)

    def stop(self) -> None:
        super().stop()
        self.pipeline.set_state(Gst.State.NULL)

    def _seek(self, flags: Gst.SeekFlags) -> None:
        if not self.pipeline.seek_simple(Gst.Format.TIME, flags, 0):
            log.warning("mount %s: seek to start refused", self.name)

    def _on_message(self, _bus, msg) -> None:
        if msg.type == Gst.MessageType.SEGMENT_DONE:
            # A non-flushing segment seek: running time goes on, so playback continues without a gap.
            self.loops += 1
            self._seek(Gst.SeekFlags.SEGMENT)
            log.info("mount %s: looped (%d)", self.name, self.loops)
        elif msg.type == Gst.MessageType.EOS:
            # The demuxer ignored the segment flag; a flushing seek still restarts it (tiny pause).
            self.loops += 1
            self._seek(Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT)
            log.info("mount %s: end of stream, restarted (%d)", self.name, self.loops)
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            log.error("mount %s: %s (%s)", self.name, err.message, dbg)

    def _on_sample(self, sink) -> Gst.FlowReturn:
        sample = sink.emit("pull-sample")
        if sample is not None and self.has_clients():
            buf = sample.get_buffer().copy()       # shares the memory; only the metadata is new
            # Clear the file's timestamps (they restart at every loop): appsrc stamps arrival time.
            buf.pts = buf.dts = buf.duration = Gst.CLOCK_TIME_NONE
            self.push(buf)
        return Gst.FlowReturn.OK


def make_mount(name: str, spec: str) -> Mount:
    """Parse ``file:/path`` or ``scene:kind?opt=v`` into a mount."""
    kind, _, rest = spec.partition(":")
    target, _, query = rest.partition("?")
    opts = {k: v[-1] for k, v in parse_qs(query).items()}
    if kind == "file":
        return FileMount(name, spec, target)
    if kind == "scene":
        return SceneMount(name, spec, target, opts)
    raise ValueError(f"mount {name}: spec must be file:/path or scene:NAME, not {spec!r}")


# ---------------------------------------------------------------- server
class Server:
    """The RTSP server, its mounts, and the stdin control channel."""

    def __init__(self, host: str, port: int, mounts: dict[str, Mount], down: set[str]):
        self.loop = GLib.MainLoop()
        self.mounts = mounts
        self.server = GstRtspServer.RTSPServer()
        # Handle every client in this main loop, one request at a time: with a thread per client, one
        # client's DESCRIBE can catch a shared media while another client's exit is tearing it down (503).
        self.server.get_thread_pool().set_max_threads(0)
        self.server.set_address(host)
        self.server.set_service(str(port))
        self.points = self.server.get_mount_points()
        self.clients: dict[GstRtspServer.RTSPClient, str] = {}
        self.server.connect("client-connected", self._on_client)
        for mount in {id(m): m for m in mounts.values()}.values():  # a mount shared by names starts once
            mount.start()
        for name, mount in mounts.items():
            if name not in down:
                self.points.add_factory(f"/{name}", mount.factory)
        self.port = port

    def _on_client(self, _server, client) -> None:
        self.clients[client] = ""
        for request in ("describe-request", "setup-request", "play-request"):
            client.connect(request, self._on_request)
        client.connect("closed", lambda c: self.clients.pop(c, None))

    def _on_request(self, client, ctx) -> None:
        path = ctx.uri.abspath if ctx.uri is not None else ""
        self.clients[client] = path.strip("/").split("/")[0]

    def set_enabled(self, name: str, enabled: bool) -> None:
        mount = self.mounts[name]
        if enabled:
            self.points.remove_factory(f"/{name}")
            self.points.add_factory(f"/{name}", mount.factory)
        else:
            self.points.remove_factory(f"/{name}")
            for client, path in list(self.clients.items()):
                if path == name:
                    client.close()   # as when a camera drops off the network: the TCP connection ends
        log.info("mount %s %s", name, "up" if enabled else "down")

    def _command(self, line: str) -> bool:
        word, _, name = line.strip().partition(" ")
        if word in ("up", "down") and name in self.mounts:
            self.set_enabled(name, word == "up")
            reply = f"ok {word} {name}"
        else:
            reply = f"error unknown command {line.strip()!r}"
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()
        return False

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            GLib.idle_add(self._command, line)
        log.info("stdin closed: exiting")
        GLib.idle_add(self.loop.quit)

    def run(self, control_stdin: bool) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, self.loop.quit)
        if control_stdin:
            threading.Thread(target=self._read_stdin, name="stdin", daemon=True).start()
        if self.server.attach(None) == 0:
            raise RuntimeError(f"cannot listen on port {self.port}")
        log.info("listening on rtsp://%s:%s/ with %s", self.server.get_address(), self.port,
                 ", ".join(self.mounts))
        try:
            self.loop.run()
        finally:
            for mount in {id(m): m for m in self.mounts.values()}.values():
                mount.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (0.0.0.0 in a container)")
    parser.add_argument("--control-stdin", action="store_true", help="obey up/down lines; exit on stdin EOF")
    parser.add_argument("--down", action="append", default=[], help="start with this mount off the air")
    parser.add_argument("mounts", nargs="+", metavar="NAME=SPEC")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Gst.init(None)
    for element in ("x264enc", "rtph264pay", "decodebin", "appsrc", "videoconvert"):
        if Gst.ElementFactory.find(element) is None:
            log.error("GStreamer element %s missing: apt-get install gstreamer1.0-plugins-base "
                      "gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav", element)
            return 2
    mounts: dict[str, Mount] = {}
    by_spec: dict[str, Mount] = {}
    try:
        for item in args.mounts:
            name, sep, spec = item.partition("=")
            if not sep or not name:
                parser.error(f"mount {item!r}: expected NAME=SPEC")
            if spec not in by_spec:  # the same picture under several names: produced and encoded once
                by_spec[spec] = make_mount(name, spec)
            mounts[name] = by_spec[spec]
        Server(args.host, args.port, mounts, set(args.down)).run(args.control_stdin)
    except (RuntimeError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
