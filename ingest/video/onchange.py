"""Which analysed frames a camera publishes on its video stream: the changes, a heartbeat, not every frame.

At 5 analysed frames a second a quiet camera's per-frame entries said "nothing changed" 5 times a second:
19,000 cameras would write 95,000 entries a second for the alert engine to read (issue #13, item 4). A frame's
zone state is published when, against the last published one:

- **something changed** (``change``): a zone's count, or the set of track ids in it (a visit starting or
  ending, an id switch), or the frame carries entrance crossings. The last analysed frame *before* the change
  is published first when it was not already (``before``): the stream then holds the exact last state before
  each change and the first after it, so a visit's dwell as it ended and the time a count last held are on
  the stream, as they were with every frame;
- **a visit's dwell crossed a step** (``step``): a multiple of ``publish_dwell_step_s`` or ``mark_dwell_s``.
  The lingering rule raises on the first entry whose dwell reaches its ``dwell_s``; with ``dwell_s`` a
  multiple of the step (default 120 s, step 10 s) or equal to ``mark_dwell_s``, that entry is the very frame
  that reached it;
- **a heartbeat** (``heartbeat``): nothing published for ``publish_heartbeat_s``: the engine sees the camera
  alive (device_offline's "no frame for 60 s") and its counts fresh (gathering's ``stale_s``);
- the first frame (``first``), and on demand (``flush``: the analyser waited a second for a frame, or the
  camera stops): the latest frame if it was not published, so the engine's "last frame" of a camera whose
  stream stopped is its real last frame, not the last heartbeat.

Between entries nothing the rules read changes but the dwell, which grows with the clock from the published
value; gathering's hold and clear and lingering's clear run on the engine's timers. Pure: docs in, docs out.
"""

from __future__ import annotations

import math
from typing import Any

Doc = dict[str, Any]


def _members(doc: Doc) -> tuple:
    """What a change is made of: per zone, the count and the track ids (not their dwell)."""
    return tuple((name, z["persons"], tuple(t[0] for t in z["tracks"])) for name, z in doc["zones"].items())


class OnChange:
    """Feed ``offer(doc)`` once per analysed frame; it returns the docs to publish now, oldest first."""

    def __init__(self, heartbeat_s: float, dwell_step_s: float, mark_dwell_s: float, every_frame: bool = False):
        self.heartbeat_ms = heartbeat_s * 1000
        self.step = dwell_step_s
        self.mark = mark_dwell_s
        self.every_frame = every_frame
        self.sent: Doc | None = None       # the last published doc
        self.held: Doc | None = None       # the latest analysed doc, when not published
        self._sent_members: tuple = ()
        self._sent_steps: dict[tuple[str, int], tuple[int, bool]] = {}
        self.reasons: dict[str, int] = {}  # published docs by reason (tests, bench)

    def _steps(self, doc: Doc) -> dict[tuple[str, int], tuple[int, bool]]:
        return {(name, tid): (math.floor(d / self.step), d >= self.mark)
                for name, z in doc["zones"].items() for tid, d in z["tracks"]}

    def reason(self, doc: Doc) -> str | None:
        """Why this frame is published (see the module's docstring), or None."""
        if self.sent is None:
            return "first"
        if doc.get("crossings") or _members(doc) != self._sent_members:
            return "change"
        if self.every_frame:
            return "frame"
        if doc["ts"] - self.sent["ts"] >= self.heartbeat_ms:
            return "heartbeat"
        if any(t for z in doc["zones"].values() for t in z["tracks"]) and self._steps(doc) != self._sent_steps:
            return "step"
        return None

    def offer(self, doc: Doc) -> list[Doc]:
        """The docs to publish for this analysed frame: none, this one, or the one before and this one."""
        why = self.reason(doc)
        if why is None:
            self.held = doc
            return []
        out = []
        if why == "change" and self.held is not None:
            out.append(self._sent(self.held, "before"))
        out.append(self._sent(doc, why))
        return out

    def flush(self) -> list[Doc]:
        """The latest analysed doc if it was not published (no frame for a while, or the camera stops)."""
        return [self._sent(self.held, "flush")] if self.held is not None else []

    def _sent(self, doc: Doc, why: str) -> Doc:
        self.sent, self.held = doc, None
        self._sent_members = _members(doc)
        self._sent_steps = self._steps(doc)
        self.reasons[why] = self.reasons.get(why, 0) + 1
        return doc
