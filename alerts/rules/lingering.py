"""``lingering`` (逗留异常): someone stays where people pass through.

Two signals, one rule:
- video: one tracked person in a camera zone for ≥ ``dwell_s`` (dwell is measured by ingest-video's tracker);
  subject ``camera_zone``. If the zone watches a door (``zones[name].door_id``) the video alone is not enough:
  a granted ``in`` at that door during the dwell means the person went in, so only a zone with no such entry
  raises, and the alert carries both the track and the door's recent events (fusion).
- door: one ``person_id`` makes ≥ ``door_attempts`` events at one door within ``door_window_s`` with no
  granted ``in``; subject ``door_person``; the attempts themselves are the evidence. A granted ``in`` ends it.
For fusion the rule keeps, per door watched by a camera, the last granted ``in`` and the last few events.
"""

from __future__ import annotations

from typing import Any

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, location, ts_s
from onescreen import names

NAME = "lingering"
DOOR_RECENT = 10  # door events kept per watched door as fusion evidence
DOOR_EVIDENCE = 20  # a person's latest attempts at a door kept as the alert's evidence


def _granted_in(event: dict[str, Any]) -> bool:
    return event.get("direction") == "in" and event.get("result") == "granted"


class Lingering:
    name = NAME
    families = (names.ACCESS, names.VIDEO)

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        cfg = ctx.cfg(NAME, event.get("community_id"))
        if not cfg.enabled:
            return []
        if event["family"] == names.ACCESS:
            return self._access(state, event, cfg, ctx)
        return self._video(state, event, cfg, ctx)

    # ------------------------------------------------------------ door
    def _access(self, state: RuleState, event: dict[str, Any], cfg: Any, ctx: RuleContext) -> list[Decision]:
        ts, door, person = ts_s(event), event["door_id"], event["person_id"]
        if ctx.registry.cameras_watching_door(door):
            d = state.get(f"door:{door}") or {"recent": []}
            if _granted_in(event):
                d["granted_in"] = max(d.get("granted_in", 0), ts)
            d["recent"] = sorted(d["recent"] + [[ts, person, event.get("direction"), event.get("result")]])[
                -DOOR_RECENT:
            ]
            state.put(f"door:{door}", d)
        subject = Subject("door_person", f"{door}/{person}")
        s = state.get(subject.key)
        if _granted_in(event):
            if s is None:
                return []
            state.drop(subject.key)
            return [self._door_decision("clear", subject, s, ts, cfg, ctx)] if s.get("active") else []
        s = s or {"attempts": [], "loc": location(event)}
        attempts = sorted(s["attempts"] + [ts])  # a late event slots in where it belongs
        newest = attempts[-1]
        s["attempts"] = [t for t in attempts if t > newest - cfg.door_window_s]
        seen = sorted(s.get("events", []) + [[ts, event.get("direction"), event.get("result"), event.get("method")]],
                      key=lambda e: e[0])
        s["events"] = [e for e in seen if e[0] > newest - cfg.door_window_s][-DOOR_EVIDENCE:]
        out = []
        if len(s["attempts"]) >= cfg.door_attempts:
            action = "update" if s.get("active") else "raise"
            s["active"] = True
            out.append(self._door_decision(action, subject, s, ts, cfg, ctx))
        state.put(subject.key, s)
        state.arm(subject.key, newest + cfg.door_window_s)
        return out

    def _door_decision(
        self, action: str, subject: Subject, s: dict[str, Any], now: float, cfg: Any, ctx: RuleContext
    ) -> Decision:
        door, _, person = subject.id.partition("/")
        evidence = {
            "door_id": door,
            "person_id": person,
            "attempts": len(s["attempts"]),
            "since": ctx.iso(s["attempts"][0]) if s["attempts"] else None,
            "cameras": list(ctx.registry.cameras_watching_door(door)),
            "events": [
                {"ts": ctx.iso(t), "door_id": door, "person_id": person, "direction": d, "result": r, "method": m}
                for t, d, r, m in s.get("events", [])
            ],
        }
        return Decision(action, NAME, subject, cfg.level, s["loc"], evidence, now)  # type: ignore[arg-type]

    # ------------------------------------------------------------ video
    def _video(self, state: RuleState, event: dict[str, Any], cfg: Any, ctx: RuleContext) -> list[Decision]:
        ts, camera_id = ts_s(event), event["camera_id"]
        cam = ctx.registry.camera(camera_id)
        out: list[Decision] = []
        for zone, z in (event.get("zones") or {}).items():
            subject = Subject("camera_zone", f"{camera_id}/{zone}")
            s = state.get(subject.key)
            tracks = [t for t in z.get("tracks") or [] if t[1] >= cfg.dwell_s]
            if s is not None and ts < s.get("ts", 0):
                continue  # out of order: the newer frame already spoke
            door_id = (cam.zones.get(zone) or {}).get("door_id") if cam is not None else None
            if tracks:
                longest = max(tracks, key=lambda t: t[1])
                d = state.get(f"door:{door_id}") if door_id else None
                if door_id and d and d.get("granted_in", 0) >= ts - longest[1]:
                    continue  # the person went in through the door: passing, not lingering
                s = s or {}
                if s.get("quiet") is not None:
                    state.disarm(subject.key)  # back before the hold ended: no clear
                s.update(ts=ts, loc=location(event), track=longest, door_id=door_id, quiet=None)
                if door_id:
                    s["door_events"] = [r for r in (d or {}).get("recent", []) if r[0] >= ts - longest[1]]
                action = "update" if s.get("active") else "raise"
                if action == "raise" or s.get("tracks_n") != len(tracks):
                    s["tracks_n"] = len(tracks)
                    s["active"] = True
                    out.append(self._video_decision(action, subject, s, camera_id, zone, cfg, ctx))
                state.put(subject.key, s)
            elif s is not None and s.get("active"):
                s["ts"] = ts
                quiet = s.get("quiet") or ts
                s["quiet"] = quiet
                if ts - quiet >= cfg.clear_hold_s:
                    state.drop(subject.key)
                    out.append(self._video_decision("clear", subject, s, camera_id, zone, cfg, ctx))
                else:
                    state.put(subject.key, s)
                    # Cameras publish on change (ingest/video/onchange.py): the next entry may be a heartbeat
                    # seconds after the hold ends, so a timer clears on time.
                    state.arm(subject.key, quiet + cfg.clear_hold_s)
        return out

    def _video_decision(
        self,
        action: str,
        subject: Subject,
        s: dict[str, Any],
        camera_id: str,
        zone: str,
        cfg: Any,
        ctx: RuleContext,
    ) -> Decision:
        track_id, dwell = s["track"]
        evidence: dict[str, Any] = {
            "camera_id": camera_id,
            "zone": zone,
            "track_id": track_id,
            "dwell_s": round(dwell, 1),
            "tracks": s.get("tracks_n", 1),
            "since": ctx.iso(s["ts"] - dwell),
        }
        if s.get("door_id"):
            evidence["door"] = {
                "door_id": s["door_id"],
                "granted_in": False,
                "events": [
                    {"ts": ctx.iso(t), "person_id": p, "direction": d, "result": r}
                    for t, p, d, r in s.get("door_events", [])
                ],
            }
        return Decision(
            action,
            NAME,
            subject,
            cfg.level,
            s["loc"],
            evidence,
            s["ts"],  # type: ignore[arg-type]
            camera_id=camera_id,
        )

    # ------------------------------------------------------------ timers
    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        """A door_person window ran out without new attempts: the person left; clear and forget. A camera
        zone quiet for ``clear_hold_s`` (no newer entry said otherwise): clear."""
        s = state.get(key)
        if s is not None and key.startswith("camera_zone:"):
            return self._video_quiet(state, key, s, now, ctx)
        if s is None or not key.startswith("door_person:"):
            return []
        cfg = ctx.cfg(NAME, s["loc"].get("community_id"))
        if s["attempts"] and now < s["attempts"][-1] + cfg.door_window_s:
            state.arm(key, s["attempts"][-1] + cfg.door_window_s)
            return []
        state.drop(key)
        return (
            [self._door_decision("clear", Subject.from_key(key), s, now, cfg, ctx)] if s.get("active") else []
        )

    def _video_quiet(self, state: RuleState, key: str, s: dict[str, Any], now: float,
                     ctx: RuleContext) -> list[Decision]:
        cfg = ctx.cfg(NAME, s["loc"].get("community_id"))
        quiet = s.get("quiet")
        if not s.get("active") or quiet is None:
            return []
        if now < quiet + cfg.clear_hold_s:
            state.arm(key, quiet + cfg.clear_hold_s)
            return []
        state.drop(key)
        subject = Subject.from_key(key)
        camera_id, _, zone = subject.id.partition("/")
        s["ts"] = quiet + cfg.clear_hold_s
        return [self._video_decision("clear", subject, s, camera_id, zone, cfg, ctx)]


RULE = Lingering()
