"""``onescreen sim scenario entrance_surge``: a crowd pours through one camera's entrance line (issue #18).

Crossings are counted by ingest-video from the camera's RTSP stream; no message of the CONTRACT carries them.
So this scenario stands in for the video worker of one camera: it writes the same per-frame documents
(``family: video`` with ``crossings``) onto the camera's partition stream and adds the same hourly counts
(``ingest.video.entrances``), ``persons`` people spread over ``duration`` seconds. Everything after that
(the alert engine, the rule, the screens) is the real path. The detector path on a generated entrance scene
is ``sim/entrance.py``; it is not streamed by the simulator yet.

The rule watches 23:00-05:00 local by default: run at another hour, the scenario says that no alert is expected
(widen ``rules.entrance_surge.start/end`` in the rules file for a daytime drill).
"""

from __future__ import annotations

import time

import orjson

from alerts.config import load_rules
from ingest.video.entrances import add_crossings, local_hour
from onescreen import names
from onescreen.timeutil import on_shift
from sim.scenarios import Scenario, ScenarioError, _choose, scenario


@scenario
class EntranceSurge(Scenario):
    """``persons`` people cross one entrance line in one direction within ``duration`` seconds."""

    name, rule, default_duration_s = "entrance_surge", "entrance_surge", 150.0

    def __init__(self, ctx, target=None, duration=None, persons: int = 40, direction: str = "in"):
        super().__init__(ctx, target, duration)
        if direction not in ("in", "out"):
            raise ScenarioError("direction is in or out")
        if persons < 1:
            raise ScenarioError("persons must be at least 1")
        self.persons, self.direction = int(persons), direction

    def pick(self) -> None:
        cam_id, _, line = (self.target or "").partition("/")
        cams = self.ctx.city.cameras
        if cam_id:
            self.target = cam_id
            cam = self._target(cams, "id", "camera")
        else:
            cam = _choose(self.ctx.rng, [c for c in cams if c.lines], "camera with an entrance line")
        self.camera = cam
        self.line = line or (cam.lines[0] if cam.lines else "gate")

    def _cfg(self):
        """The rule's thresholds in force for the camera's community (the rules file, else the defaults)."""
        return load_rules(self.ctx.settings.alerts.rules_file).rule("entrance_surge", self.camera.community_id)

    def describe(self) -> str:
        cfg = self._cfg()
        subject = f"{self.camera.id}/{self.line}"
        text = (f"entrance_surge: {self.persons} people cross {subject} ({self.direction}) within "
                f"{self.duration:g} s (written as ingest-video's output).")
        if self.persons < cfg.min_crossings:
            return text + f"\n  expect: no alert, fewer than {cfg.min_crossings} crossings"
        local = self.ctx.now().astimezone(self.ctx.tz)
        if not on_shift(cfg.start, cfg.end, local):
            return text + f"\n  expect: no alert, {local:%H:%M} is outside the watched hours {cfg.start}-{cfg.end}"
        after = self.duration * cfg.min_crossings / self.persons
        return text + self.expect(subject, after, f">= {cfg.min_crossings} crossings in {cfg.window_s:g} s")

    def run(self) -> None:
        from onescreen.redisconn import connect

        settings = self.ctx.settings
        client = connect(settings.redis)
        stream = names.event_stream(names.VIDEO, names.partition_of(self.camera.community_id,
                                                                     settings.redis.partitions))
        ids = {"cell_id": self.camera.cell_id, "community_id": self.camera.community_id,
               "district_id": self.camera.district_id}
        ttl_s = settings.video.entrance_days_kept * 86_400
        step = self.duration / self.persons
        start = time.monotonic()
        try:
            for i in range(self.persons):
                if not self.ctx.sleep(max(0.0, start + i * step - time.monotonic())):
                    break
                ts = self.ctx.now().timestamp()
                crossed = {self.line: {self.direction: 1}}
                doc = {"family": names.VIDEO, "camera_id": self.camera.id, "ts": int(ts * 1000), "zones": {},
                       "crossings": crossed, **ids}
                pipe = client.pipeline(transaction=False)
                pipe.xadd(stream, {"d": orjson.dumps(doc)}, maxlen=settings.redis.stream_maxlen, approximate=True)
                add_crossings(pipe, self.camera.community_id, self.camera.id, local_hour(ts, self.ctx.tz), crossed,
                              ttl_s)
                pipe.execute()
                self.published += 1
        finally:
            client.close()

