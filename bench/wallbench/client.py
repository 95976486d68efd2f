"""Walls without a browser: replay what a real wall asks the dashboard, for ``bench/walls.py`` (issue #13).

In a command center every wall is a browser on its own PC; what the dashboard process must carry is their
requests. On this machine (2 cores) 20 headless Chromium renderers starve each other long before the server
does, so ``bench/walls.py`` opens a few real walls and runs the rest as *protocol walls*: this module, in a
process of its own (its CPU is not the dashboard's GIL).

The script comes from a real wall: ``bench/walls.py`` records one page's requests with Playwright and turns them
into a ``Spec`` (``spec_from_recording``): every ``/_dash-update-component`` callback the page sent while live,
its payload and its cadence (the ``dcc.Interval`` that drives it, else the mean gap in the recording), and
every GET it repeated (the camera tiles' frames). Each protocol wall then:

- signs in with its own session (login form, CSRF token, cookie) and loads the page like a browser's first
  request (``/``, ``/_dash-layout``, ``/_dash-dependencies``);
- sends every callback at its cadence, one in flight per callback (the wall's gate: ``wall.js`` sends the next
  refresh only after the previous answered), with the values the page would send: ``n_intervals`` counting up,
  the gate's ``{n, t}``, and every input or state the server set before taken from its answers (the refresh's
  section hashes, so the server sends only what changed, as to a real page);
- fetches each repeated GET at its cadence.

For event → wall without a browser, it notes when each alert id first came in an answer (the feed's
``data-alert-id``). It reports, per callback, (epoch s at the answer, request → response end in ms: the server's answer time seen
from the client) and the HTTP status counts, as one JSON line on stdout when stdin closes (the parent's "stop").
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import re
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field

DASH_PATH = "/_dash-update-component"
GATE_INPUT = "wall-refresh-request"  # dashboard/ids.py WALL_REQUEST: the clientside gate's {n, t}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ALERT_ID = re.compile(rb'"data-alert-id": ?"([^"]+)"')  # an item of the wall's alert feed in an answer


@dataclass
class Call:
    """One repeated request of a wall: a Dash callback (``body``) or a GET (``path``), every ``period_s``."""

    name: str
    period_s: float
    body: dict | None = None
    path: str | None = None


@dataclass
class Spec:
    calls: list[Call] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"calls": [asdict(c) for c in self.calls]})

    @classmethod
    def from_json(cls, text: str) -> Spec:
        return cls([Call(**c) for c in json.loads(text)["calls"]])


def _intervals(layout: object) -> dict[str, float]:
    """``dcc.Interval`` ids → interval in s, from the page's ``/_dash-layout`` JSON."""
    out: dict[str, float] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if node.get("type") == "Interval" and isinstance(props, dict) and isinstance(props.get("id"), str):
                out[props["id"]] = float(props.get("interval", 1000)) / 1000
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(layout)
    return out


def spec_from_recording(requests: list[dict], layout: object, base: str) -> Spec:
    """The repeated requests of a recorded live wall (``{"t": s, "method", "url", "body"}``, in time order)."""
    ticks = _intervals(layout)
    dash: dict[str, list[tuple[float, dict]]] = {}
    gets: dict[str, list[float]] = {}
    for r in requests:
        url = urllib.parse.urlsplit(r["url"])
        if not r["url"].startswith(base):
            continue
        path = url.path + (f"?{url.query}" if url.query else "")
        if r["method"] == "POST" and url.path == DASH_PATH and r.get("body"):
            body = json.loads(r["body"])
            dash.setdefault(body["output"], []).append((r["t"], body))
        elif r["method"] == "GET":
            gets.setdefault(path, []).append(r["t"])
    calls = []
    for output, seen in sorted(dash.items()):
        body = seen[-1][1]
        tick = [i["id"] for i in body.get("inputs", []) if isinstance(i, dict) and i.get("property") == "n_intervals"
                and isinstance(i.get("id"), str)]
        period = (ticks.get(tick[0]) if tick else None) or _gap([t for t, _ in seen])
        if period:  # sent once (a click, the first render): not part of the steady load
            calls.append(Call(name=output.strip(".").split("...")[0][:60], period_s=period, body=body))
    for path, times in sorted(gets.items()):
        gap = _gap(times)
        if gap:
            calls.append(Call(name=path.split("?")[0], period_s=gap, path=path))
    return Spec(calls)


def _gap(times: list[float]) -> float | None:
    """The mean period of a repeated request (a timer's jitter moves single gaps, not their mean)."""
    return (times[-1] - times[0]) / (len(times) - 1) if len(times) >= 3 else None


def _key(comp_id: object, prop: str) -> str:
    return (comp_id if isinstance(comp_id, str) else json.dumps(comp_id, sort_keys=True, separators=(",", ":"))) \
        + "." + prop


class ProtocolWall:
    """One wall's session and the values its page holds; every call on a thread of its own."""

    def __init__(self, base: str, spec: Spec):
        self.base = urllib.parse.urlsplit(base)
        self.spec, self.cookie = spec, ""
        self.origin = f"{self.base.scheme}://{self.base.netloc}"  # a POST without it is refused (CSRF gate)
        self.store: dict[str, object] = {}
        self.lock = threading.Lock()
        self.ms: dict[str, list[tuple[float, float]]] = {c.name: [] for c in spec.calls}  # (epoch s, ms)
        self.status: dict[str, int] = {}
        self.bytes: dict[str, list[int]] = {c.name: [] for c in spec.calls}
        self.sent: dict[str, int] = {}  # component prop -> answers that set it (what the page re-renders)
        self.first_seen: dict[str, float] = {}  # alert id -> epoch s of the first answer that carried it

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=30)

    def _cookies(self, resp: http.client.HTTPResponse) -> None:
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                self.cookie = value.split(";", 1)[0]

    def login(self, username: str, password: str) -> ProtocolWall:
        """The login form as a browser submits it; then the page's first requests."""
        c = self._conn()
        c.request("GET", "/login?next=/")
        resp = c.getresponse()
        page = resp.read().decode()
        self._cookies(resp)
        token = CSRF.search(page)
        if token is None:
            raise RuntimeError("no CSRF token on /login")
        form = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token.group(1),
                                       "next": "/"})
        c.request("POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                       "Cookie": self.cookie})
        resp = c.getresponse()
        resp.read()
        self._cookies(resp)
        if resp.status != 303 or "/login" in (resp.getheader("Location") or ""):
            raise RuntimeError(f"login failed: HTTP {resp.status}")
        for path in ("/", "/_dash-layout", "/_dash-dependencies"):
            c.request("GET", path, headers={"Cookie": self.cookie})
            resp = c.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {resp.status}")
        c.close()
        return self

    def _payload(self, call: Call, n: int) -> bytes:
        body = copy.deepcopy(call.body)
        for group in ("inputs", "state"):
            for item in body.get(group, []):
                if not isinstance(item, dict):
                    continue  # a wildcard (ALL) input: sent as recorded
                if item.get("property") == "n_intervals":
                    item["value"] = n
                elif item.get("id") == GATE_INPUT:
                    item["value"] = {"n": n, "t": int(time.time() * 1000)}
                else:
                    with self.lock:
                        k = _key(item.get("id"), item.get("property", ""))
                        if k in self.store:
                            item["value"] = self.store[k]
        return json.dumps(body).encode()

    def _learn(self, raw: bytes) -> None:
        """Remember what the server set, as the page's component props."""
        got = json.loads(raw).get("response") or {}
        with self.lock:
            for comp_id, props in got.items():
                for prop in props:
                    self.sent[_key(comp_id, prop)] = self.sent.get(_key(comp_id, prop), 0) + 1
            for comp_id, props in got.items():
                for prop, value in props.items():
                    self.store[_key(comp_id, prop)] = value

    def run_call(self, call: Call, stop: threading.Event, phase: float) -> None:
        conn, n = self._conn(), 0
        next_at = time.monotonic() + phase
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            n += 1
            next_at += call.period_s
            t0 = time.perf_counter()
            try:
                if call.body is not None:
                    conn.request("POST", DASH_PATH, body=self._payload(call, n),
                                 headers={"Content-Type": "application/json", "Cookie": self.cookie,
                                          "Origin": self.origin})
                else:
                    conn.request("GET", call.path, headers={"Cookie": self.cookie})
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = self._conn()
                self._count("error")
                continue
            now = time.time()
            self.ms[call.name].append((now, (time.perf_counter() - t0) * 1000))
            self.bytes[call.name].append(len(raw))
            self._count(str(resp.status))
            if call.body is not None and resp.status == 200:
                self._learn(raw)
                for m in ALERT_ID.finditer(raw):
                    self.first_seen.setdefault(m.group(1).decode(), now)
            next_at = max(next_at, time.monotonic())  # one in flight: a slow answer delays the next, no burst
        conn.close()

    def _count(self, status: str) -> None:
        with self.lock:
            self.status[status] = self.status.get(status, 0) + 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="dashboard URL")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--walls", type=int, required=True, help="protocol walls to run")
    ap.add_argument("--spec", required=True, help="JSON file written by spec_from_recording")
    a = ap.parse_args()
    spec = Spec.from_json(open(a.spec, encoding="utf-8").read())
    walls = [ProtocolWall(a.base, spec).login(a.user, a.password) for _ in range(a.walls)]
    stop = threading.Event()
    threads = []
    for i, w in enumerate(walls):
        for c in spec.calls:  # walls opened at different moments: their ticks spread over the period
            phase = c.period_s * ((i + 0.5) / len(walls))
            threads.append(threading.Thread(target=w.run_call, args=(c, stop, phase), daemon=True))
    for t in threads:
        t.start()
    print(json.dumps({"ready": len(walls)}), flush=True)
    sys.stdin.read()  # the parent closes stdin: stop
    stop.set()
    for t in threads:
        t.join(35)
    ms: dict[str, list[tuple[float, float]]] = {}
    status: dict[str, int] = {}
    for w in walls:
        for name, v in w.ms.items():
            ms.setdefault(name, []).extend(v)
        for k, v in w.status.items():
            status[k] = status.get(k, 0) + v
    size = {name: statistics.median(b for w in walls for b in w.bytes[name] or [0]) for name in walls[0].bytes}
    sent: dict[str, int] = {}
    for w in walls:
        for k, v in w.sent.items():
            sent[k] = sent.get(k, 0) + v
    print(json.dumps({"ms": ms, "status": status, "bytes": size, "sent": sent, "first_seen": [w.first_seen for w in walls]}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
