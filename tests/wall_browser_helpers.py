"""Shared pieces of the wall's browser tests and of bench/screen.py: Chromium offline, a signed-in wall page.

Every request that leaves 127.0.0.1 is recorded and aborted (the offline promise), console errors are
recorded, and the page signs in through the real login form (``tests.auth_helpers.login``) before it opens
the wall, as an operator at the wall's kiosk does once per shift.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sim.streams import VTEST  # OpenCV's sample video (Debian's opencv-doc), as in conftest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1"}


class WallPage:
    """A signed-in page on the wall with console errors and non-local requests recorded."""

    def __init__(self, browser, base_url: str, width: int, height: int, creds=None, path: str = "/"):
        from tests.auth_helpers import login

        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._only_local)
        if creds is not None:
            login(self.page, base_url, creds.username, creds.password, next_path=path)
        else:
            self.page.goto(base_url + path, wait_until="load")
        self.page.wait_for_selector("#wall-canvas", state="visible", timeout=15_000)
        self.page.wait_for_function("document.getElementById('wall-clock-time').textContent.length >= 8")

    def _only_local(self, route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def wait_live(self, timeout: float = 10_000) -> None:
        """Until the first refresh has answered (the "data as of" stamp shows a time)."""
        try:
            self.page.wait_for_function("window.onescreen && window.onescreen.live && window.onescreen.live.everOk",
                                        timeout=timeout)
        except Exception as exc:
            raise AssertionError(f"the wall never refreshed; console errors: {self.errors}") from exc
        self.page.wait_for_function("(e => !e.className.includes('stale') && /\\d:\\d\\d/.test(e.textContent))"
                                    "(document.getElementById('wall-data-as-of'))", timeout=3_000)

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"

    def assert_no_scrollbars(self) -> None:
        dims = self.page.evaluate("""() => ({sw: document.documentElement.scrollWidth, iw: innerWidth,
                                             sh: document.documentElement.scrollHeight, ih: innerHeight})""")
        assert dims["sw"] <= dims["iw"] and dims["sh"] <= dims["ih"], dims

    def screenshot(self, name: str, path: Path | None = None) -> Path:
        target = path or ARTIFACTS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target))
        return target

    def close(self) -> None:
        self.page.close()


def feed_frames(client, camera_ids: list[str]) -> None:
    """What ``ingest-video`` writes for the screens: each camera online with a latest JPEG (numbered, so the
    tiles differ in a screenshot; frames of the sample video when it is present)."""
    import time

    import cv2
    import numpy as np

    from onescreen import names

    cap = cv2.VideoCapture(str(VTEST)) if VTEST.is_file() else None
    now_ms = int(time.time() * 1000)
    for i, cid in enumerate(camera_ids):
        ok, img = cap.read() if cap is not None else (False, None)
        for _ in range(10 if ok else 0):
            cap.read()
        img = cv2.resize(img, (480, 270)) if ok else np.full((270, 480, 3), (90, 60, 30 + 15 * i), np.uint8)
        cv2.putText(img, cid, (16, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0, 255, 255), 2)
        client.set(names.camera_snapshot(cid), cv2.imencode(".jpg", img)[1].tobytes())
        client.hset(names.camera_health(cid), mapping={"state": "online", "fps": 5.0, "last_frame_at": now_ms})
    if cap is not None:
        cap.release()


def launch(pw):
    """Debian's Chromium, headless, offline-minded flags."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
