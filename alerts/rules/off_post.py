"""``off_post`` (脱岗): a patrol unit on shift is further than ``max_distance_m`` from its post for
≥ ``hold_s``,
or sends no position for ≥ ``silent_s``; yellow.

One due-time timer per unit: the earlier of "away long enough" and "silent long enough". Units outside their
post's shift (local time, overnight shifts allowed) raise nothing. A unit that never reported is not tracked
(its terminal's own silence is device_offline's business); from its first position on, silence counts.
"""

from __future__ import annotations

from typing import Any

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, location, ts_s
from onescreen import names
from onescreen.geo import distance_m
from onescreen.timeutil import local_time, on_shift

NAME = "off_post"


class OffPost:
    name = NAME
    families = (names.PATROL,)

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        unit = event["unit_id"]
        post = ctx.registry.post_of_unit(unit)
        cfg = ctx.cfg(NAME, event.get("community_id"))
        if post is None or not cfg.enabled:
            return []
        subject = Subject("unit", unit)
        s = state.get(subject.key) or {"loc": {**location(event), "lat": post.lat, "lon": post.lon}}
        ts = ts_s(event)
        if ts < s.get("ts", 0):
            return []  # a late fix: the newer one already placed the unit
        dist = distance_m(event["lat"], event["lon"], post.lat, post.lon)
        s.update(ts=ts, dist=round(dist, 1), lat=event["lat"], lon=event["lon"], post_id=post.id)
        if dist > cfg.max_distance_m:
            s.setdefault("away", ts)
        else:
            s.pop("away", None)
        return self._evaluate(state, subject, s, ts, post, cfg, ctx)

    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        s = state.get(key)
        subject = Subject.from_key(key)
        post = ctx.registry.post_of_unit(subject.id)
        if s is None or post is None:
            state.drop(key)
            return []
        return self._evaluate(state, subject, s, now, post, ctx.cfg(NAME, s["loc"].get("community_id")), ctx)

    def _evaluate(
        self,
        state: RuleState,
        subject: Subject,
        s: dict[str, Any],
        now: float,
        post: Any,
        cfg: Any,
        ctx: RuleContext,
    ) -> list[Decision]:
        reason = None
        if on_shift(post.shift_start, post.shift_end, local_time(now, ctx.tz)):
            if now - s["ts"] >= cfg.silent_s:
                reason = "no_position"
            elif "away" in s and now - s["away"] >= cfg.hold_s:
                reason = "away"
        out: list[Decision] = []
        if reason and not s.get("active"):
            s.update(active=True, reason=reason)
            out.append(self._decision("raise", subject, s, now, cfg, ctx))
        elif reason and reason != s.get("reason"):
            s["reason"] = reason
            out.append(self._decision("update", subject, s, now, cfg, ctx))
        elif not reason and s.get("active"):
            s.update(active=False, reason=None)
            out.append(self._decision("clear", subject, s, now, cfg, ctx))
        state.put(subject.key, s)
        dues = [s["ts"] + cfg.silent_s] + ([s["away"] + cfg.hold_s] if "away" in s else [])
        pending = [d for d in dues if d > now]
        state.arm(subject.key, min(pending) if pending else now + cfg.silent_s)
        return out

    def _decision(
        self, action: str, subject: Subject, s: dict[str, Any], now: float, cfg: Any, ctx: RuleContext
    ) -> Decision:
        evidence = {
            "unit_id": subject.id,
            "post_id": s.get("post_id"),
            "reason": s.get("reason"),
            "distance_m": s.get("dist"),
            "last_position": {"lat": s.get("lat"), "lon": s.get("lon"), "ts": ctx.iso(s["ts"])},
            "since": ctx.iso(s["away"] if s.get("reason") == "away" and "away" in s else s["ts"]),
        }
        return Decision(action, NAME, subject, cfg.level, s["loc"], evidence, now)  # type: ignore[arg-type]


RULE = OffPost()
