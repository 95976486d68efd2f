"""The camera watchdog's verdict: online, degraded, stalled, offline (or connecting), with a reason.

- ``offline``: the camera cannot be connected to (the latest open failed); the reason says why
  (refused, unresolved, 404, 401…; see probe.py);
- ``stalled``: connected, but no frame for ``stall_s`` (a camera that accepts the session and sends
  nothing, a stream that froze);
- ``degraded``: frames arrive, but the measured rate is under ``degraded_ratio`` × the nominal rate
  (a congested link, an overloaded encoder), or the camera is **analysed** at under ``degraded_ratio`` ×
  ``analysis_fps`` (the detector cannot keep up: a large frame, a slow detector, too many busy cameras on
  one worker); its counts and dwell are then updated less often than configured, which health must say;
- an **idle** camera (idle.py: a still, empty view analysed at ``idle_fps``) is judged against ``idle_fps``,
  also for one measuring window after it wakes (the window still holds its idle frames): idle is not starved;
- ``online``: frames at about the nominal rate; ``connecting`` before the first attempt has finished.
Pure over a CaptureStatus and the clock, so the rules are tested table-driven.
"""

from __future__ import annotations

from typing import Any

from ingest.video.capture import FPS_WINDOW_S, CaptureStatus
from onescreen.settings import VideoSettings

STATES = ("connecting", "online", "degraded", "stalled", "offline")


def classify(st: CaptureStatus, now: float, cfg: VideoSettings, analysis_fps: float | None = None,
             analysis_target: float | None = None) -> tuple[str, str]:
    """(state, reason) of a camera at wall-clock ``now``; ``analysis_fps`` is the rate it is analysed at,
    ``analysis_target`` the rate it should be (``analysis_fps`` configured, ``idle_fps`` while idle)."""
    if not st.connected:
        if st.attempts == 0 or (st.reason == "connecting" and not st.opened_at):
            return "connecting", ""
        return "offline", st.reason or "cannot connect"
    since = max(st.last_frame_at, st.opened_at)
    idle = now - since
    if idle >= cfg.stall_s:
        what = "no frame" if st.last_frame_at >= st.opened_at else "connected, no frame yet"
        return "stalled", f"{what} for {idle:.0f} s"
    warmed = now - st.opened_at >= FPS_WINDOW_S
    if warmed and st.nominal_fps and st.fps < cfg.degraded_ratio * st.nominal_fps:
        return "degraded", f"{st.fps:.1f} fps, nominal {st.nominal_fps:g}"
    # The analysis rate is measured over the same window; one more second for the first frame's latency.
    wanted = cfg.analysis_fps if analysis_target is None else analysis_target
    target = min(wanted, st.fps or wanted)
    if (analysis_fps is not None and now - st.opened_at >= FPS_WINDOW_S + 1
            and analysis_fps < cfg.degraded_ratio * target):
        of = f"{cfg.analysis_fps:g} configured" if wanted == cfg.analysis_fps else f"{wanted:g} (idle)"
        return "degraded", f"analysed at {analysis_fps:.1f} fps of {of} (detection too slow)"
    return "online", ""


def health_record(st: CaptureStatus, now: float, cfg: VideoSettings, analysis_fps: float | None = None,
                  analysis_target: float | None = None, **extra: Any) -> dict[str, Any]:
    """The camera's health hash fields (flat strings/numbers; times in epoch ms, 0 = never)."""
    state, reason = classify(st, now, cfg, analysis_fps, analysis_target)
    return {
        "state": state,
        "reason": reason,
        "fps": round(st.fps, 1),
        "nominal_fps": st.nominal_fps,
        "last_frame_at": int(st.last_frame_at * 1000),
        "connected_since": int(st.opened_at * 1000) if st.connected else 0,
        "reconnects": st.reconnects,
        "abandoned_reads": st.abandoned,
        "updated_at": int(now * 1000),
        **({"analysis_fps": analysis_fps, "analysis_fps_target": cfg.analysis_fps} if analysis_fps is not None
           else {}),
        **extra,
    }
