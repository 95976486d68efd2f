"""The simulator's own camera streams: which RTSP mount serves what, and how the registry names them.

A streamed camera's URL is ``rtsp://127.0.0.1:{port}/{mount}`` and each streamed camera has its own mount
(``vtest``, ``figure``, ``quiet``, then ``vtest-2``…), so taking one camera down (scenario ``camera_down``)
leaves the others playing. What a mount shows is its kind, the part before the dash.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
# OpenCV's sample pedestrian video (768x576, 10 fps, 795 frames, MS-MPEG4 v3), from Debian's opencv-doc
# package, which scripts/system-deps.sh installs. Some distributions gzip documentation: then it is
# unpacked once into the project's own cache (var/data), since the RTSP server and OpenCV read plain files.
VTEST_DOC = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
VTEST_CACHE = REPO / "var" / "data" / "vtest.avi"
VTEST_INSTALL = "apt-get install -y opencv-doc (or: make deps)"


def find_vtest(doc: Path = VTEST_DOC, cache: Path = VTEST_CACHE) -> Path | None:
    """The sample video as a plain file, unpacking ``vtest.avi.gz`` into ``cache`` if needed; None if absent."""
    if doc.is_file():
        return doc
    packed = doc.with_name(doc.name + ".gz")
    if not packed.is_file():
        return None
    if not cache.is_file() or cache.stat().st_mtime < packed.stat().st_mtime:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".part")
        with gzip.open(packed, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.replace(cache)
    return cache


VTEST = find_vtest() or VTEST_DOC

# kind -> RtspServer spec; vtest (pedestrians on a square) first so the busiest camera gets real people
MOUNT_KINDS: dict[str, str] = {
    "vtest": f"file:{VTEST}",
    "figure": "scene:figure",
    "quiet": "scene:quiet",
}
# kind -> frames a second the mount serves (the registry's nominal_fps of a streamed camera): files keep their
# own rate (OpenCV's vtest.avi is 10 fps), scenes are rendered at 25
MOUNT_FPS: dict[str, float] = {"vtest": 10.0, "figure": 25.0, "quiet": 25.0}
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def mount_name(index: int) -> str:
    """Name of the index-th streamed camera's mount: vtest, figure, quiet, vtest-2, figure-2…"""
    kinds = list(MOUNT_KINDS)
    kind = kinds[index % len(kinds)]
    round_ = index // len(kinds) + 1
    return kind if round_ == 1 else f"{kind}-{round_}"


def mount_fps(mount: str) -> float:
    """The rate a mount serves, for the registry (a wrong nominal rate makes health say ``degraded``)."""
    return MOUNT_FPS.get(mount.split("-", 1)[0], 25.0)


def mount_url(port: int, mount: str, host: str = "127.0.0.1") -> str:
    return f"rtsp://{host}:{port}/{mount}"


def mount_spec(mount: str) -> str | None:
    """The RtspServer spec a mount name stands for, or None if it is not one of ours."""
    kind = mount.split("-", 1)[0]
    spec = MOUNT_KINDS.get(kind)
    if spec is None:
        return None
    if spec.startswith("file:") and not Path(spec[5:]).is_file():
        return "scene:figure"  # the sample video is optional test data; a moving figure stands in for it
    return spec


def local_mount(url: str | None) -> tuple[int, str] | None:
    """(port, mount) if ``url`` is one of the simulator's own streams, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "rtsp" or parts.hostname not in LOCAL_HOSTS:
        return None
    mount = parts.path.strip("/")
    if not mount or mount_spec(mount) is None:
        return None
    return parts.port or 554, mount
