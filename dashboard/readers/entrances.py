"""The wall's entrances panel (issue 18): in and out today, this hour, the busiest gates and, for a site whose
every entrance is counted, an estimate of the people inside; read from the hourly hashes ingest-video keeps.

Source: ``names.entrance_hourly(community, hour)`` (``ingest.video.entrances``), one small hash per community
and local hour with a field per gate (``camera/line|in``). Which gates exist and where they lie comes from the
registry snapshot (cameras' ``lines``), so a scope counts exactly its own gates: a cell its cameras' lines,
a community or more the lines of every camera under it; a gate that counted nothing today still counts as a
gate. A past hour is cached for ``PAST_HOUR_TTL_S`` (a late crossing still reaches it), the current hour is
re-read at most every ``CURRENT_TTL_S``; one pipeline per refresh for what is due (a
first read of a city with gates in many communities: 24 small hashes each, once), shared by every wall on
the server. The figures are computed by ``scope_figures`` (pure).

People inside (估算): only for the communities named in ``dashboard.entrance_sites`` (those whose every
entrance has a counting line: the registry cannot know of a gap in a fence); base at local midnight + in - out
since then, never below 0. It drifts with every missed or double count, so it is shown as an estimate.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from ingest.video.entrances import EntranceHour, parse_hour, today_hours
from onescreen import names

PAST_HOUR_TTL_S = 300.0
CURRENT_TTL_S = 2.0
TOP_GATES = 3  # rows of busiest gates: the panel shares the left column with the alert feed

Gate = tuple[str, str, str, str]  # (gate key "camera/line", community, cell, display name)


def gates_of(cameras: Any, community_of: Any) -> tuple[Gate, ...]:
    """Every counted gate of the registry: one per (camera, line), sorted; cameras without a community skipped."""
    out = []
    for cam in cameras:
        community = community_of(cam.cell_id) if cam.lines else None
        for line in sorted(cam.lines or {}):
            if community:
                out.append((f"{cam.id}/{line}", community, cam.cell_id, f"{cam.name} · {line}"))
    return tuple(sorted(out))


def scope_figures(gates: list[Gate], hours: dict[str, list[EntranceHour]], sites: dict[str, int],
                  whole: set[str], top: int = TOP_GATES) -> dict[str, Any] | None:
    """The panel's figures for the gates of one scope, from each community's hours today (current first).

    ``whole``: the communities wholly inside the scope (the only ones an inside estimate can be made for);
    ``sites``: ``dashboard.entrance_sites`` (community -> people inside at midnight). None: no gate in scope."""
    if not gates:
        return None
    per_gate: dict[str, dict[str, int]] = {}
    cur = {"in": 0, "out": 0}
    net: dict[str, int] = {}
    for key, community, _cell, _name in gates:
        g = per_gate.setdefault(key, {"in": 0, "out": 0})
        for i, h in enumerate(hours.get(community, [])):
            c = h.gates.get(key)
            if not c:
                continue
            g["in"] += c["in"]
            g["out"] += c["out"]
            if i == 0:
                cur["in"] += c["in"]
                cur["out"] += c["out"]
        net[community] = net.get(community, 0) + g["in"] - g["out"]
    names = {key: name for key, _c, _cell, name in gates}
    busiest = sorted(per_gate.items(), key=lambda kv: (-(kv[1]["in"] + kv[1]["out"]), kv[0]))[:top]
    counted = sorted(c for c in {c for _k, c, _cell, _n in gates} if c in sites and c in whole)
    inside = None if not counted else sum(max(0, sites[c] + net.get(c, 0)) for c in counted)
    return {"gates": len(per_gate),
            "today_in": sum(g["in"] for g in per_gate.values()),
            "today_out": sum(g["out"] for g in per_gate.values()),
            "hour_in": cur["in"], "hour_out": cur["out"],
            "busiest": [{"gate": k, "name": names[k], "in": c["in"], "out": c["out"]}
                        for k, c in busiest if c["in"] + c["out"] > 0],
            "inside": inside, "inside_sites": len(counted)}


class EntranceReader:
    """One per app (``entrance_reader(ctx)``); thread-safe; the gate list is rebuilt per registry version."""

    def __init__(self, ctx: Any):
        self.ctx = ctx
        self._lock = threading.Lock()
        self._gates: tuple[Any, tuple[Gate, ...]] = (None, ())
        self._scoped: dict[tuple[Any, str | None], tuple[list[Gate], set[str]]] = {}  # (version, scope)
        self._hours: dict[tuple[str, str], tuple[float, EntranceHour]] = {}
        self._sums: dict[str, tuple[Any, EntranceHour]] = {}  # community -> (read times, hours before this one)
        self._gen = 0  # bumped when a read hour differs from the one cached: the figures must be computed again
        self._figs: dict[str | None, tuple[Any, dict[str, Any] | None]] = {}  # scope -> (key, figures)

    def all_gates(self) -> tuple[Gate, ...]:
        version = self.ctx.registry.current().version
        if self._gates[0] != version or version is None:
            cache = self.ctx.registry.cache
            self._gates = (version, gates_of(cache.cameras(), cache.community_of))
            self._scoped = {}
        return self._gates[1]

    def scoped(self, scope: str | None) -> tuple[list[Gate], set[str]]:
        """The scope's gates and the communities wholly inside it, memoised per registry version (a county
        has thousands of gates; the refresh asks every second)."""
        gates = self.all_gates()
        key = (self._gates[0], scope)  # a thread still on the old version never fills the new one's entry
        hit = self._scoped.get(key)
        if hit is None:
            ix = self.ctx.registry.index
            mine = [g for g in gates if ix.inside(g[2], scope)]
            if len(self._scoped) > 256:
                self._scoped = {}
            hit = self._scoped[key] = (mine, {g[1] for g in mine if ix.inside(g[1], scope)})
        return hit

    def read(self, scope: str | None) -> dict[str, Any] | None:
        """The scope's figures (None: no counted gate in it); a Redis failure raises ``redis.RedisError``."""
        gates, whole = self.scoped(scope)
        if not gates:
            return None
        now = datetime.now(self.ctx.tz)
        hours = self._today(sorted({g[1] for g in gates}), now)
        key = (self._gates[0], now.strftime("%Y%m%d%H"), self._gen)
        memo = self._figs.get(scope)
        if memo is not None and memo[0] == key:
            return memo[1]  # nothing read changed since: a quiet county costs the due check only
        fig = scope_figures(gates, hours, self.ctx.settings.dashboard.entrance_sites, whole)
        if len(self._figs) > 256:
            self._figs = {}
        self._figs[scope] = (key, fig)
        return fig

    def _today(self, communities: list[str], now: datetime) -> dict[str, list[EntranceHour]]:
        keys = today_hours(now)
        mono = time.monotonic()
        with self._lock:
            due: dict[str, list[str]] = {}
            for c in communities:
                for i, h in enumerate(keys):
                    got = self._hours.get((c, h))
                    if got is None or mono - got[0] > (CURRENT_TTL_S if i == 0 else PAST_HOUR_TTL_S):
                        due.setdefault(c, []).append(h)
            if due:
                pipe = self.ctx.redis.pipeline(transaction=False)
                wanted = [(c, h) for c, hs in due.items() for h in hs]
                for c, h in wanted:
                    pipe.hgetall(names.entrance_hourly(c, h))
                for (c, h), fields in zip(wanted, pipe.execute()):  # a RedisError leaves the cache as it was
                    new = parse_hour(h, fields)
                    old = self._hours.get((c, h))
                    if old is None or old[1] != new:
                        self._gen += 1
                    self._hours[(c, h)] = (mono, new)
                today = keys[-1][:8]
                for k in [k for k in self._hours if k[1][:8] != today]:
                    del self._hours[k]
            return {c: [self._hours[(c, keys[0])][1], self._earlier(c, keys)] for c in communities}

    def _earlier(self, community: str, keys: list[str]) -> EntranceHour:
        """Today's hours before the current one summed into one (as ``scope_figures`` reads it: the current
        hour first, then the rest), kept until one of them is read again: a county's 5,700 gates × 16 hours
        were 48 ms a refresh, summed once they are 2 ms."""
        stamp = (keys[0], tuple(self._hours[(community, h)][0] for h in keys[1:]))
        got = self._sums.get(community)
        if got is None or got[0] != stamp:
            gates: dict[str, dict[str, int]] = {}
            for h in keys[1:]:
                for gate, c in self._hours[(community, h)][1].gates.items():
                    g = gates.setdefault(gate, {"in": 0, "out": 0})
                    g["in"] += c["in"]
                    g["out"] += c["out"]
            summed = EntranceHour("earlier", gates, sum(g["in"] for g in gates.values()),
                                  sum(g["out"] for g in gates.values()))
            got = self._sums[community] = (stamp, summed)
        return got[1]


def entrance_reader(ctx: Any) -> EntranceReader:
    """The app's EntranceReader (created on first use, kept on the context like ``readers.wall.reader``)."""
    r = ctx.__dict__.get("_entrance_reader")
    if r is None:
        r = ctx.__dict__.setdefault("_entrance_reader", EntranceReader(ctx))
    return r
