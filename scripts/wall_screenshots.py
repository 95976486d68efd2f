"""The wall's screenshots in docs/screenshots/: the running demo, drilled city → district → community → cell.

For each preset and language: ``onescreen demo --preset P`` in ``var/shots-P`` (the city is generated once
and kept) with the dashboard in that language on a free port, a screenshot user added to the demo's
database, a ``gathering`` scenario for a live alert, then headless Chromium at 1920×1080 signs in and clicks
its way down (real mouse clicks on the areas, as an operator does): the district and community that hold the
first streamed camera, then that community's first cell. Files: ``wall-<preset>-<lang>-<level>.png``.

    .venv/bin/python scripts/wall_screenshots.py [--preset default nanchang] [--lang zh en]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CURRENT = "#city-map-breadcrumb .crumb.current"
LEVELS = ("city", "district", "community", "cell")


def start_demo(preset: str, lang: str, port: int) -> tuple[subprocess.Popen, Path]:
    from onescreen.services import free_port

    workdir = ROOT / "var" / f"shots-{preset}"
    env = dict(os.environ, ONESCREEN_DASHBOARD_PORT=str(port), ONESCREEN_DASHBOARD_LANGUAGE=lang,
               ONESCREEN_SIM_RTSP_PORT=str(free_port()))
    log = open(ROOT / "var" / f"shots-{preset}.log", "a")  # noqa: SIM115 (the child writes to it)
    proc = subprocess.Popen([sys.executable, "-m", "onescreen.cli", "demo", "--preset", preset, "--workdir",
                             str(workdir)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    for line in proc.stdout:  # type: ignore[union-attr]
        if "demo is up" in line:
            return proc, workdir
    raise SystemExit(f"the {preset} demo did not come up: see {log.name}")


def add_user(workdir: Path) -> tuple[str, str]:
    from sqlalchemy.orm import Session

    from onescreen.accounts import add_user as add
    from onescreen.accounts import set_password
    from onescreen.db.models import User
    from onescreen.db.session import make_engine

    name, password = "shots", secrets.token_urlsafe(12)
    engine = make_engine(f"sqlite:///{workdir / 'onescreen.db'}")
    with Session(engine) as s:
        if not s.query(User).filter_by(username=name).count():
            add(s, name, password, "operator")
        else:
            set_password(s, name, password)
        s.commit()
    engine.dispose()
    return name, password


def targets(workdir: Path) -> tuple[str, str, str]:
    """District, community and first cell of the first streamed camera."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onescreen.db.models import Camera, GridNode
    from onescreen.db.session import make_engine

    engine = make_engine(f"sqlite:///{workdir / 'onescreen.db'}")
    with Session(engine) as s:
        cell = s.scalar(select(Camera.cell_id).where(Camera.streamed.is_(True)).order_by(Camera.id))
        community = s.get(GridNode, cell).parent_id
        district = s.get(GridNode, community).parent_id
        first = s.scalar(select(GridNode.id).where(GridNode.parent_id == community).order_by(GridNode.id))
    engine.dispose()
    return district, community, first


def click_area(page, node_id: str) -> None:
    box = page.locator(f"#city-map path.os-area-{node_id}").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def shoot(preset: str, lang: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from onescreen.services import free_port
    from tests.auth_helpers import login
    from tests.wall_browser_helpers import launch

    port = free_port()
    proc, workdir = start_demo(preset, lang, port)
    shots: list[Path] = []
    try:
        user, password = add_user(workdir)
        cfg = workdir / "onescreen.yaml"
        subprocess.run([sys.executable, "-m", "onescreen.cli", "-c", str(cfg), "sim", "scenario", "gathering"],
                       cwd=ROOT, capture_output=True, timeout=120, check=False)
        time.sleep(8)  # frames and patrol positions flowing
        _district, community, cell = targets(workdir)
        nodes = (community, community, cell)  # a click on a community at the city level opens its district
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            login(page, f"http://127.0.0.1:{port}", user, password)
            page.wait_for_function("window.onescreen && window.onescreen.live && window.onescreen.live.everOk",
                                   timeout=30_000)
            page.wait_for_timeout(3000)
            for level, node in zip(LEVELS, (None, *nodes)):
                if node is not None:
                    before = page.locator(CURRENT).inner_text()
                    click_area(page, node)
                    page.wait_for_function(f"document.querySelector('{CURRENT}').textContent !== {before!r}",
                                           timeout=15_000)
                    page.wait_for_timeout(4000)  # fly-to, the scope's refresh, camera frames
                path = out / f"wall-{preset}-{lang}-{level}.png"
                page.screenshot(path=str(path))
                shots.append(path)
                print(path, flush=True)
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    return shots


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", nargs="+", default=["default", "nanchang"])
    ap.add_argument("--lang", nargs="+", default=["zh", "en"])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    (ROOT / "var").mkdir(exist_ok=True)
    for preset in args.preset:
        for lang in args.lang:
            shoot(preset, lang, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
