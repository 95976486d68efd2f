"""`onescreen demo` end to end: everything comes up, the browser shows the simulated city, Ctrl-C stops all.

This is the README's first command (minus the install step), run as a user runs it, in its own work folder
and on a free dashboard port so it never meets a demo or services already running on this machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml
from playwright.sync_api import sync_playwright

from onescreen.services import free_port, port_open
from tests.auth_helpers import login

EXPECTED = {"dashboard", "ingest-mqtt", "ingest-video", "alerts", "archiver", "assessment", "sim", "cases"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=3) as resp:
            return json.loads(resp.read())
    except OSError as exc:
        if hasattr(exc, "read"):  # 503 still carries the JSON body
            return json.loads(exc.read())
        return None


def alive_kinds(doc: dict | None) -> set[str]:
    if not doc:
        return set()
    return {p["kind"] for p in doc.get("processes", []) if p.get("alive")}


@pytest.fixture
def demo(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
    env.update({"ONESCREEN_DASHBOARD_PORT": str(port), "ONESCREEN_SIM_RATE": "50"})
    log = (tmp_path / "demo.out").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "onescreen.cli", "demo", "--workdir", str(tmp_path / "demo")],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield proc, port, tmp_path
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def onescreen(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
    return subprocess.run([sys.executable, "-m", "onescreen.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def wait_alerts(port: int, token: str, rule: str, timeout: float = 15) -> list[dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/alerts?status=open",
                                     headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=5) as resp:
            found = [a for a in json.loads(resp.read()) if a["rule"] == rule]
        if found:
            return found
        time.sleep(0.5)
    return []


def redis_outage_heals_itself(port: int, tmp_path) -> None:
    """The demo's Redis ended from outside (SIGTERM): the demo restarts it and says so, every process comes
    back by itself, /api/health never calls a live process dead, the dashboard logs no traceback."""
    config = yaml.safe_load((tmp_path / "demo" / "onescreen.yaml").read_text(encoding="utf-8"))
    redis_port = config["redis"]["url"].rsplit(":", 1)[1].split("/")[0]  # redis-server shows host:port as its title
    pids = subprocess.run(["pgrep", "-f", f"redis-server .*:{redis_port}"], capture_output=True,
                          text=True).stdout.split()
    assert len(pids) == 1, pids
    os.kill(int(pids[0]), signal.SIGTERM)
    out_path = tmp_path / "demo.out"
    called_dead, doc, t0 = [], None, time.monotonic()
    while time.monotonic() - t0 < 30:
        doc = health(port)
        called_dead += [p["kind"] for p in (doc or {}).get("processes", []) if p.get("alive") is False]
        restarted = "redis restarted" in out_path.read_text(errors="replace")
        if restarted and doc and doc["components"]["redis"]["status"] == "ok" and alive_kinds(doc) == EXPECTED:
            break
        time.sleep(0.3)
    out = out_path.read_text(errors="replace")
    assert "redis exited with 0: restarting it" in out and "redis restarted" in out, out[-2000:]
    assert alive_kinds(doc) == EXPECTED and doc["status"] == "ok", doc
    assert called_dead == [], f"health called live processes dead: {called_dead}"
    time.sleep(1.0)  # the dashboard's recovery line follows its first good heartbeat
    dashboard_log = (tmp_path / "demo" / "logs" / "dashboard.log").read_text(errors="replace")
    assert "Traceback" not in dashboard_log, dashboard_log[-3000:]
    lost, back = dashboard_log.count("Redis unavailable"), dashboard_log.count("Redis reachable again")
    assert lost == back <= 1, dashboard_log[-3000:]  # one line per outage and per recovery, if it noticed


def test_demo_comes_up_shows_the_city_and_stops_cleanly(demo):
    proc, port, tmp_path = demo
    t0 = time.monotonic()
    doc = None
    while time.monotonic() - t0 < 90 and alive_kinds(doc) != EXPECTED:
        assert proc.poll() is None, (tmp_path / "demo.out").read_text(errors="replace")[-3000:]
        time.sleep(1)
        doc = health(port)
    up_s = time.monotonic() - t0
    assert alive_kinds(doc) == EXPECTED, (doc, (tmp_path / "demo.out").read_text(errors="replace")[-3000:])
    assert up_s < 60, f"demo took {up_s:.0f} s to come up"
    # the demo prints its line once the dashboard answers; it may poll a moment after our own health check
    out_path = tmp_path / "demo.out"
    wait_until = time.monotonic() + 10
    while "OneScreen demo is up" not in out_path.read_text(errors="replace") and time.monotonic() < wait_until:
        time.sleep(0.2)
    out = out_path.read_text(errors="replace")
    assert "Demo accounts" in out and "OneScreen demo is up" in out, out[-3000:]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        # the accounts printed once at the first start: sign in as the demo admin
        password = re.search(r"^ +admin +admin +(\S+)$", out, re.MULTILINE)
        assert password, out[-3000:]
        login(page, f"http://127.0.0.1:{port}", "admin", password.group(1), "/")
        page.wait_for_selector("#city-map path.leaflet-interactive", timeout=30_000)
        polygons = page.locator("#city-map path.leaflet-interactive").count()
        page.screenshot(path=str(tmp_path / "demo.png"))
        browser.close()
    assert polygons >= 4  # the simulated city's districts (at least) are drawn

    # the printed way to make an alert happen works: a scenario joins the demo through its config file
    config = str(tmp_path / "demo" / "onescreen.yaml")
    scenario = onescreen("-c", config, "sim", "scenario", "lingering", "--duration", "3")
    assert scenario.returncode == 0, scenario.stderr
    token = onescreen("-c", config, "users", "token", "admin")
    assert token.returncode == 0, token.stderr
    alerts = wait_alerts(port, token.stdout.strip().splitlines()[-1], "lingering")
    assert alerts, "the lingering scenario raised no alert in the demo"

    redis_outage_heals_itself(port, tmp_path)

    # Ctrl-C: every child and service stops, nothing is left listening
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    time.sleep(0.5)
    assert not port_open(port)
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "demo")], capture_output=True, text=True).stdout
    assert leftovers.strip() == "", f"processes left behind: {leftovers}"
