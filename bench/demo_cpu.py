"""Issue #17: what `onescreen demo` costs the machine, per process, over a window once it is up.

Starts ``onescreen demo --preset <preset>`` in a fresh work folder on a free dashboard port, waits for "demo is
up", lets it settle, then reads every process of the demo's tree from ``/proc`` at the start and the end of the
window: CPU % of one core (user + system time over the window) and resident memory at the end, per process,
named by its role (dashboard, ingest-video, sim, rtsp_server, redis-server…). Stops the demo with SIGTERM.

Last line: ``RESULT total_cpu_pct=… rtsp_cpu_pct=… video_cpu_pct=… rtsp_rss_mb=… streamed=… analysed=…``.
``--quick`` uses a 20 s window; the issue's figures are with the default 60 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree(root: int) -> list[int]:
    """The root and all its descendants."""
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo += _children(pid)
    return seen


def role(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "?"
    joined = " ".join(argv)
    if "rtsp_server" in joined:
        return "rtsp_server"
    if "onescreen.cli" in joined and "demo" in argv:
        return "demo"
    if "onescreen.cli" in joined:
        return argv[-2] if argv[-1] == "" else argv[-1]
    return Path(argv[0]).name or "?"


def sample(root: int) -> dict[int, tuple[str, float, float]]:
    """pid -> (role, cpu seconds, rss MB)."""
    out = {}
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        rss = int(fields[21]) * PAGE / 1e6
        out[pid] = (role(pid), cpu, rss)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="nanchang")
    ap.add_argument("--window", type=float, default=60.0, help="seconds measured (default 60)")
    ap.add_argument("--settle", type=float, default=20.0, help="seconds after 'demo is up' before measuring")
    ap.add_argument("--quick", action="store_true", help="20 s window, 10 s settle")
    ap.add_argument("--workdir", type=Path, default=None, help="reuse a demo folder (its city is kept)")
    args = ap.parse_args()
    if args.quick:
        args.window, args.settle = 20.0, 10.0
    sys.path.insert(0, str(ROOT))
    from onescreen.services import free_port

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="onescreen-democpu-"))
    env = dict(os.environ, ONESCREEN_DASHBOARD_PORT=str(free_port()), ONESCREEN_SIM_RTSP_PORT=str(free_port()))
    log = open(workdir.parent / f"{workdir.name}.out", "w")  # noqa: SIM115 (kept open for the child)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "onescreen.cli", "demo", "--preset", args.preset,
                             "--workdir", str(workdir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=log, text=True)
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if "demo is up" in line:
                break
        else:
            print("the demo never came up; see", log.name)
            return 1
        up_s = time.monotonic() - t0
        time.sleep(args.settle)
        first = sample(proc.pid)
        time.sleep(args.window)
        last = sample(proc.pid)
        rows: dict[str, list[float]] = {}
        for pid, (name, cpu, rss) in last.items():
            before = first.get(pid, (name, cpu, 0.0))[1] if pid in first else 0.0
            r = rows.setdefault(name, [0.0, 0.0, 0])
            r[0] += 100.0 * (cpu - before) / args.window
            r[1] += rss
            r[2] += 1
        print(f"demo --preset {args.preset}: up in {up_s:.1f} s; {args.window:.0f} s window after "
              f"{args.settle:.0f} s; CPU in % of one core (2 cores = 200 %)")
        for name, (cpu, rss, n) in sorted(rows.items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:<16} {cpu:6.1f} %  {rss:7.1f} MB  ({n} process{'es' if n > 1 else ''})")
        streamed, analysed = _cameras(workdir)
        total = sum(r[0] for r in rows.values())
        print(f"streamed cameras {streamed}, analysed (leased by a video worker) {analysed}")
        print(f"RESULT total_cpu_pct={total:.1f} rtsp_cpu_pct={rows.get('rtsp_server', [0])[0]:.1f} "
              f"video_cpu_pct={rows.get('ingest-video', [0])[0]:.1f} "
              f"rtsp_rss_mb={rows.get('rtsp_server', [0, 0])[1]:.0f} streamed={streamed} analysed={analysed}")
        return 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _cameras(workdir: Path) -> tuple[int, int]:
    """Streamed cameras of the demo's registry and those with a fresh health hash (a worker analyses them)."""
    import redis
    import yaml
    from sqlalchemy import create_engine, select

    from onescreen import names
    from onescreen.db.models import Camera

    cfg = yaml.safe_load((workdir / "onescreen.yaml").read_text())
    engine = create_engine(cfg["database"]["url"])
    with engine.connect() as c:
        ids = list(c.scalars(select(Camera.id).where(Camera.streamed.is_(True))))
    engine.dispose()
    r = redis.Redis.from_url(cfg["redis"]["url"])
    now_ms = time.time() * 1000
    fresh = 0
    for cid in ids:
        at = r.hget(names.camera_health(cid), "last_frame_at")
        fresh += at is not None and now_ms - int(at) < 60_000
    return len(ids), fresh


if __name__ == "__main__":
    raise SystemExit(main())
