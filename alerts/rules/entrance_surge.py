"""``entrance_surge`` (出入异常): ≥ min_crossings people cross one camera's entrance line in one direction
within ``window_s``, during the watched local hours (default 30 in 5 min between 23:00 and 05:00); yellow.

Input: the ``crossings`` of the ``video`` family (``{line: {"in": n, "out": n}}``, the crossings counted on
one analysed frame, see ingest/video/crossing.py). State per line (subject ``camera_zone`` ``camera/line``,
like a zone): the recent crossings of each direction as ``[ts, n]`` pairs. The hours are judged on the time of
the latest crossing, in the display timezone. A timer at the oldest crossing's expiry re-counts, so the alert
clears once the window holds fewer than ``min_crossings`` again, without scanning every line each second.
While the alert is open the evidence is updated each time the count passes another multiple of the threshold
(30, 60, 90 …), not on every person. A crossing older than the window behind the newest one is ignored.
"""

from __future__ import annotations

from typing import Any

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, cooled_down, location, ts_s
from onescreen import names
from onescreen.timeutil import local_time, on_shift

NAME = "entrance_surge"
DIRECTIONS = ("in", "out")


class EntranceSurge:
    name = NAME
    families = (names.VIDEO,)

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        crossings = event.get("crossings")
        if not crossings:
            return []
        cfg = ctx.cfg(NAME, event.get("community_id"))
        if not cfg.enabled:
            return []
        out: list[Decision] = []
        ts = ts_s(event)
        for line, per in sorted(crossings.items()):
            subject = Subject("camera_zone", f"{event['camera_id']}/{line}")
            s = state.get(subject.key) or {"in": [], "out": [], "ts": ts}
            if ts < s["ts"] - cfg.window_s:
                continue  # older than anything the window still holds
            for direction in DIRECTIONS:
                n = int(per.get(direction, 0) or 0)
                if n > 0:
                    s[direction].append([ts, n])
            s["ts"] = max(s["ts"], ts)
            s["loc"] = location(event)
            out += self._evaluate(state, subject, s, s["ts"], cfg, ctx)
        return out

    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        s = state.get(key)
        if s is None:
            return []
        cfg = ctx.cfg(NAME, s["loc"].get("community_id"))
        return self._evaluate(state, Subject.from_key(key), s, now, cfg, ctx)

    def _evaluate(
        self, state: RuleState, subject: Subject, s: dict[str, Any], now: float, cfg: Any, ctx: RuleContext
    ) -> list[Decision]:
        for direction in DIRECTIONS:
            s[direction] = [e for e in s[direction] if e[0] > now - cfg.window_s]
        counts = {d: sum(n for _, n in s[d]) for d in DIRECTIONS}
        out: list[Decision] = []
        active = s.get("active")
        if active:
            if counts[active] < cfg.min_crossings:
                s.update(active=None, cleared_at=now)
                out.append(self._decision("clear", subject, s, active, counts[active], now, cfg, ctx))
            elif counts[active] // cfg.min_crossings > s["step"]:
                s["step"] = counts[active] // cfg.min_crossings
                out.append(self._decision("update", subject, s, active, counts[active], now, cfg, ctx))
        else:
            watched = on_shift(cfg.start, cfg.end, local_time(now, ctx.tz))
            for direction in DIRECTIONS:
                if watched and counts[direction] >= cfg.min_crossings and cooled_down(s, now, cfg.cooldown_s):
                    s.update(active=direction, step=counts[direction] // cfg.min_crossings)
                    out.append(self._decision("raise", subject, s, direction, counts[direction], now, cfg, ctx))
                    break
        if not s["in"] and not s["out"] and not s.get("active"):
            if cooled_down(s, now, cfg.cooldown_s):
                state.drop(subject.key)
            else:  # keep the clear time until the cooldown is over, then forget the line
                state.put(subject.key, s)
                state.arm(subject.key, s["cleared_at"] + cfg.cooldown_s)
            return out
        state.put(subject.key, s)
        state.arm(subject.key, min(e[0] for d in DIRECTIONS for e in s[d]) + cfg.window_s)
        return out

    def _decision(self, action: str, subject: Subject, s: dict[str, Any], direction: str, count: int,
                  now: float, cfg: Any, ctx: RuleContext) -> Decision:
        camera_id, _, line = subject.id.partition("/")
        first = min((e[0] for e in s[direction]), default=now)
        evidence = {
            "crossings": count,
            "direction": direction,
            "window_s": cfg.window_s,
            "camera_id": camera_id,
            "line": line,
            "hours": f"{cfg.start}-{cfg.end}",
            "since": ctx.iso(first),
        }
        return Decision(action, NAME, subject, cfg.level, s["loc"], evidence, now,  # type: ignore[arg-type]
                        camera_id=camera_id)


RULE = EntranceSurge()
