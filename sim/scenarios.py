"""Named scenarios that make one CONTRACT alert rule fire, for demos, drills and acceptance tests.

Every scenario has the same shape: it is built with a context, an optional ``target`` (subject id) and
``duration``; ``pick()`` chooses the subject, ``describe()`` says what will happen and which alert an
operator should see and when, ``run()`` does it. Burst scenarios (``gathering``, ``lingering``,
``key_person_gathering``) publish the MQTT messages themselves; the others need the running simulator
(a person it must stop playing, a unit it must move, a camera it must take down) and send it a command
through Redis (see ``control``), then return. ``SCENARIOS`` maps each name to its class.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from onescreen.names import Topics
from onescreen.settings import Settings
from onescreen.timeutil import on_shift
from sim import control, payloads
from sim.city import SimCity
from sim.mqttpub import Publisher
from sim.sources import COUNTING_ZONES

log = logging.getLogger(__name__)


class ScenarioError(ValueError):
    """A scenario cannot run as asked (unknown target, nothing suitable in the registry)."""


class ScenarioContext:
    """What a scenario may use: the registry, an MQTT publisher and Redis (both opened on first use)."""

    def __init__(self, settings: Settings, city: SimCity, out: Callable[[str], None] = print,
                 rng: random.Random | None = None):
        self.settings = settings
        self.city = city
        self.out = out
        self.rng = rng or random.Random()
        self.topics = Topics(settings.mqtt.prefix)
        self.tz = ZoneInfo(settings.city.timezone)
        self.stop = threading.Event()
        self._pub: Publisher | None = None
        self._redis = None

    def publish(self, topic: str, payload: dict) -> None:
        if self._pub is None:
            client_id = f"{self.settings.mqtt.client_id}-scenario-{os.getpid()}"
            self._pub = Publisher(self.settings.mqtt, client_id)
            self._pub.connect()
        self._pub.publish(topic, payload)

    def command(self, cmd: str, **args) -> None:
        """Send a command to the running simulator, saying so if none seems to run."""
        from onescreen.redisconn import connect

        if self._redis is None:
            self._redis = connect(self.settings.redis)
        control.send(self._redis, cmd, **args)
        if not control.simulator_alive(self._redis):
            self.out(f"warning: no running simulator seen; the command waits {control.STALE_AFTER_S:.0f} s "
                     "for one (start it with `onescreen sim`)")

    def sleep(self, seconds: float) -> bool:
        """Wait; False if the scenario was stopped meanwhile."""
        return not self.stop.wait(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def clock(self, dt: datetime) -> str:
        return dt.astimezone(self.tz).strftime("%H:%M:%S")

    def close(self) -> None:
        if self._pub is not None:
            self._pub.close()
        if self._redis is not None:
            self._redis.close()


class Scenario:
    """Base of every scenario; subclasses set the class attributes and implement pick/describe/run."""

    name: ClassVar[str]
    rule: ClassVar[str]
    default_duration_s: ClassVar[float]

    def __init__(self, ctx: ScenarioContext, target: str | None = None, duration: float | None = None):
        self.ctx = ctx
        self.target = target
        self.duration = self.default_duration_s if duration is None else float(duration)
        self.published = 0

    def pick(self) -> None:
        """Choose the subject (validating ``target`` if given)."""

    def describe(self) -> str:
        raise NotImplementedError

    def run(self) -> None:
        raise NotImplementedError

    def expect(self, subject: str, after_s: float | None, why: str) -> str:
        """The line that tells the operator which alert to look for, and when."""
        zh, level = RULE_LABELS[self.rule]
        when = ""
        if after_s is not None:
            when = f" at about {self.ctx.clock(self.ctx.now() + timedelta(seconds=after_s))}"
        return f"\n  expect: alert {self.rule} ({zh}, {level}) on {subject}{when} ({why})"

    def _target(self, items: list, attr: str, what: str):
        """The item whose ``attr`` is ``self.target``, or a ScenarioError naming what was looked for."""
        found = next((x for x in items if getattr(x, attr) == self.target), None)
        if found is None:
            raise ScenarioError(f"no {what} {self.target!r}")
        return found

    def _send(self, topic: str, payload: dict) -> None:
        self.ctx.publish(topic, payload)
        self.published += 1


RULE_LABELS = {  # CONTRACT §3 rule -> (中文, default level)
    "gathering": ("疑似聚集", "orange"), "lingering": ("逗留异常", "yellow"),
    "key_person_gathering": ("重点人员聚集", "red"), "key_person_missing": ("疑似脱管", "orange"),
    "off_post": ("脱岗", "yellow"), "device_offline": ("设备离线", "yellow"),
    "entrance_surge": ("出入异常", "yellow"),
}
RULE_LABELS["key_person_hiding"] = ("疑似隐匿", "orange")  # issue 15
SCENARIOS: dict[str, type[Scenario]] = {}


def scenario(cls: type[Scenario]) -> type[Scenario]:
    """Register a scenario class under its name."""
    SCENARIOS[cls.name] = cls
    return cls


def _choose(rng: random.Random, items: list, what: str):
    if not items:
        raise ScenarioError(f"the registry has no {what}")
    return rng.choice(items)


# ------------------------------------------------------------------ burst scenarios
@scenario
class Gathering(Scenario):
    """A crowd on one camera zone: edge counts of 15+ persons every few seconds."""

    name, rule, default_duration_s = "gathering", "gathering", 90.0

    def __init__(self, ctx, target=None, duration=None, period_s: float = 5.0,
                 persons: tuple[int, int] = (15, 22)):
        super().__init__(ctx, target, duration)
        self.period_s, self.persons = period_s, persons

    def pick(self) -> None:
        cam_id, _, zone = (self.target or "").partition("/")
        cams = self.ctx.city.cameras
        if cam_id:
            self.target = cam_id
            cam = self._target(cams, "id", "camera")
        else:
            counting = [c for c in cams if not c.streamed and any(z in COUNTING_ZONES for z in c.zones)]
            cam = _choose(self.ctx.rng, counting, "counting camera")
        self.camera_id = cam.id
        self.zone = zone or next((z for z in cam.zones if z in COUNTING_ZONES), next(iter(cam.zones), "*"))

    def describe(self) -> str:
        subject = f"{self.camera_id}/{self.zone}"
        lo, hi = self.persons
        text = f"gathering: {lo}-{hi} persons on {subject} every {self.period_s:g} s for {self.duration:g} s."
        return text + self.expect(subject, 60, ">= 10 persons for 60 s")

    def run(self) -> None:
        self.ctx.command("mute_counts", device_id=self.camera_id, duration_s=self.duration + 30)
        end = time.monotonic() + self.duration
        while time.monotonic() < end:
            n = self.ctx.rng.randint(*self.persons)
            doc = payloads.count(self.ctx.rng, self.ctx.now(), self.camera_id, self.zone, n, self.ctx.tz.key)
            self._send(self.ctx.topics.video_count(self.camera_id), doc)
            if not self.ctx.sleep(min(self.period_s, max(0.0, end - time.monotonic()))):
                break


@scenario
class Lingering(Scenario):
    """One credential tried again and again at one door (denied, out, unknown) and never let in."""

    name, rule, default_duration_s = "lingering", "lingering", 180.0
    PATTERN = (("in", "denied"), ("in", "denied"), ("out", "granted"), ("in", "denied"),
               ("unknown", "denied"), ("in", "denied"))

    def pick(self) -> None:
        doors = self.ctx.city.doors
        door = self._target(doors, "id", "door") if self.target else _choose(self.ctx.rng, doors, "door")
        self.door_id = door.id
        self.person_id = f"p-{self.ctx.rng.getrandbits(24):06x}"

    def describe(self) -> str:
        fourth = self.duration * 3 / len(self.PATTERN)
        return (f"lingering: {self.person_id} makes {len(self.PATTERN)} attempts at door {self.door_id} over "
                f"{self.duration:g} s, never granted in."
                + self.expect(f"{self.door_id}+{self.person_id}", fourth, "4th event"))

    def run(self) -> None:
        gap = self.duration / len(self.PATTERN)
        for i, (direction, result) in enumerate(self.PATTERN):
            if i and not self.ctx.sleep(gap):
                break
            doc = payloads.access(self.ctx.rng, self.ctx.now(), self.door_id, self.person_id,
                                  direction=direction, result=result, resident=False, tz=self.ctx.tz.key)
            self._send(self.ctx.topics.access(self.door_id), doc)


@scenario
class KeyPersonGathering(Scenario):
    """Several watched persons turn up at the doors of one community within minutes."""

    name, rule, default_duration_s = "key_person_gathering", "key_person_gathering", 180.0

    def __init__(self, ctx, target=None, duration=None, persons: int = 3):
        super().__init__(ctx, target, duration)
        self.n = max(3, persons)

    def pick(self) -> None:
        city = self.ctx.city
        if self.target and self.target not in city.doors_by_community:
            raise ScenarioError(f"no community with doors {self.target!r}")
        self.community_id = self.target or _choose(self.ctx.rng, sorted(city.doors_by_community), "door")
        home = [w for w in city.watchlist if w.home_community_id == self.community_id]
        others = [w for w in city.watchlist if w.home_community_id != self.community_id]
        self.ctx.rng.shuffle(others)
        self.persons = (home + others)[: self.n]
        if len(self.persons) < 3:
            raise ScenarioError("the watch list has fewer than 3 persons")

    def describe(self) -> str:
        who = ", ".join(f"{w.person_id} ({w.level})" for w in self.persons)
        name = self.ctx.city.communities.get(self.community_id, "")
        third = self.duration * 2 / len(self.persons)
        return (f"key_person_gathering: {who} at doors of {self.community_id} {name} within "
                f"{self.duration:g} s." + self.expect(self.community_id, third, "3rd distinct person"))

    def run(self) -> None:
        doors = self.ctx.city.doors_by_community[self.community_id]
        gap = self.duration / len(self.persons)
        for i, person in enumerate(self.persons):
            if i and not self.ctx.sleep(gap):
                break
            door = self.ctx.rng.choice(doors)
            doc = payloads.access(self.ctx.rng, self.ctx.now(), door.id, person.person_id, direction="in",
                                  result="granted", resident=person.home_community_id == self.community_id,
                                  tz=self.ctx.tz.key)
            self._send(self.ctx.topics.access(door.id), doc)


# ------------------------------------------------------------------ scenarios run by the simulator
@scenario
class KeyPersonMissing(Scenario):
    """A red watched person stops appearing anywhere (``--duration 0`` brings them back)."""

    name, rule, default_duration_s = "key_person_missing", "key_person_missing", math.inf
    HOURS = {"red": 24, "orange": 72}  # the rule's defaults (CONTRACT §3)

    def pick(self) -> None:
        people = self.ctx.city.watchlist
        if self.target:
            self.person = self._target(people, "person_id", "watched person")
        else:
            self.person = _choose(self.ctx.rng, [w for w in people if w.level == "red"], "red watched person")

    def describe(self) -> str:
        p, hours = self.person, self.HOURS.get(self.person.level)
        lasting = "until the simulator restarts" if math.isinf(self.duration) else f"for {self.duration:g} s"
        who = f"{p.person_id} ({p.level}, home {p.home_community_id})"
        text = f"key_person_missing: {who} stops appearing {lasting}."
        if hours is None:
            return text + f"\n  expect: no alert, the rule watches red and orange persons only ({p.level})"
        latest = (self.ctx.now() + timedelta(hours=hours)).astimezone(self.ctx.tz)
        return text + self.expect(p.person_id, None, f"{hours} h after the last sighting, at the latest "
                                                     f"{latest:%Y-%m-%d %H:%M}")

    def run(self) -> None:
        duration = None if math.isinf(self.duration) else self.duration
        self.ctx.command("exclude_person", person_id=self.person.person_id, duration_s=duration)


@scenario
class KeyPersonHiding(Scenario):
    """A red (or orange) watched person keeps away from home and turns up in another community every day.

    Real time, honestly: the rule counts distinct *local days* (≥ 3 in 7, none at home), so the simulator shows
    the person away at once and again right after each local midnight; the alert fires just after the second
    local midnight from now — the soonest the contract allows — or, when the person was seen at home in the last
    7 local days (a running demo shows everyone at home now and then), once that home day has left the window;
    ``describe`` reads the archive and says which. Sightings with past timestamps cannot shorten
    that: ingest refuses events older than ``city.late_limit_s`` (24 h: two local days at most) and the alert
    engine does not let events older than ``alerts.late_window_s`` move rule state. For a drill on the same
    day, put a per-community override in the rules file (``overrides: {C…: {key_person_hiding: {min_days:
    1}}}``) and say so; ``onescreen alerts replay`` shows what archived days would have raised.
    """

    name, rule, default_duration_s = "key_person_hiding", "key_person_hiding", 8 * 86_400.0

    def pick(self) -> None:
        city = self.ctx.city
        people = [w for w in city.watchlist if w.level in ("red", "orange")]
        if self.target:
            self.person = self._target(city.watchlist, "person_id", "watched person")
        else:
            red = [w for w in people if w.level == "red"]
            self.person = _choose(self.ctx.rng, red or people, "red or orange watched person")
        away = sorted(c for c in city.doors_by_community if c != self.person.home_community_id)
        self.community_id = _choose(self.ctx.rng, away, "community with doors other than the person's home")

    def describe(self) -> str:
        p = self.person
        name = self.ctx.city.communities.get(self.community_id, "")
        who = f"{p.person_id} ({p.level}, home {p.home_community_id})"
        text = (f"key_person_hiding: {who} stays away from home and is seen in {self.community_id} {name} "
                f"every local day for {self.duration / 86_400:g} days.")
        if p.level not in ("red", "orange"):
            return text + f"\n  expect: no alert, the rule watches red and orange persons only ({p.level})"
        local = self.ctx.now().astimezone(self.ctx.tz)
        fire = datetime.combine(local.date() + timedelta(days=2), datetime.min.time(), self.ctx.tz)
        why = "seen away on a 3rd distinct local day, never at home in the last 7"
        home = self._last_home_sighting()
        if home is not None:  # a home day in the window holds the alert back until it has left the window
            home_clear = datetime.combine(home.astimezone(self.ctx.tz).date() + timedelta(days=7),
                                          datetime.min.time(), self.ctx.tz)
            if home_clear > fire:
                fire = home_clear
                why = f"last seen at home {home.astimezone(self.ctx.tz):%m-%d %H:%M}: that day leaves the 7-day window"
        return text + self.expect(p.person_id, (fire - local).total_seconds() + 60, why)

    def _last_home_sighting(self) -> datetime | None:
        """When the engine last saw the person at home (archived ``watch`` events, last 7 days), if known."""
        try:
            from sqlalchemy import func, select

            from onescreen.db.models import EventArchive
            from onescreen.db.session import make_engine
            from onescreen.names import WATCH

            engine = make_engine(self.ctx.settings.database.url)
            since = int((self.ctx.now() - timedelta(days=7)).timestamp() * 1000)
            try:
                with engine.connect() as conn:
                    ts = conn.execute(select(func.max(EventArchive.ts)).where(
                        EventArchive.family == WATCH, EventArchive.ts >= since,
                        EventArchive.community_id == self.person.home_community_id,
                        EventArchive.doc["person_id"].as_string() == self.person.person_id)).scalar()
            finally:
                engine.dispose()
        except Exception as exc:  # noqa: BLE001 - only the estimate in the message depends on it
            log.info("no archive to estimate from: %s", exc)
            return None
        return datetime.fromtimestamp(ts / 1000, UTC) if ts else None

    def run(self) -> None:
        self.ctx.command("hide_person", person_id=self.person.person_id, community_id=self.community_id,
                         duration_s=self.duration)


@scenario
class OffPost(Scenario):
    """A patrol unit on shift walks 350 m from its post and stays there (or its terminal goes silent)."""

    name, rule, default_duration_s = "off_post", "off_post", 420.0

    def __init__(self, ctx, target=None, duration=None, mode: str = "away", distance_m: float = 350.0):
        super().__init__(ctx, target, duration)
        if mode not in ("away", "silent"):
            raise ScenarioError("mode is away or silent")
        self.mode, self.distance_m = mode, distance_m

    def pick(self) -> None:
        local = self.ctx.now().astimezone(self.ctx.tz)
        units = [u for u in self.ctx.city.units if u.post is not None]
        if self.target:
            self.unit = self._target(units, "id", "patrol unit with a post")
        else:
            duty = [u for u in units if on_shift(u.post.shift_start, u.post.shift_end, local)]
            self.unit = _choose(self.ctx.rng, duty, "unit on shift")
        self.on_shift = on_shift(self.unit.post.shift_start, self.unit.post.shift_end, local)

    def describe(self) -> str:
        away = f"{self.distance_m:g} m from post {self.unit.post.id}"
        text = f"off_post: unit {self.unit.id} {away if self.mode == 'away' else 'terminal silent'} " \
               f"for {self.duration:g} s."
        if not self.on_shift:
            return text + "\n  expect: no alert, the unit is off shift now"
        return text + self.expect(self.unit.id, 305, "300 s away from the post")

    def run(self) -> None:
        self.ctx.command("off_post", unit_id=self.unit.id, mode=self.mode, distance_m=self.distance_m,
                         duration_s=self.duration)


@scenario
class CameraDown(Scenario):
    """A streamed camera dies: its RTSP mount goes away and its heartbeats stop."""

    name, rule, default_duration_s = "camera_down", "device_offline", 360.0

    def pick(self) -> None:
        cams = self.ctx.city.cameras
        if self.target:
            self.camera = self._target(cams, "id", "camera")
        else:
            self.camera = _choose(self.ctx.rng, [c for c in cams if c.streamed], "streamed camera")

    def describe(self) -> str:
        back = self.ctx.clock(self.ctx.now() + timedelta(seconds=self.duration))
        text = f"camera_down: {self.camera.id} down for {self.duration:g} s (back at {back})."
        if self.camera.streamed:
            text += self.expect(self.camera.id, 60, "no frame for 60 s")
        return text + self.expect(self.camera.id, 300, "no heartbeat for 300 s; the same alert if open")

    def run(self) -> None:
        self.ctx.command("camera_down", camera_id=self.camera.id, duration_s=self.duration)


# ------------------------------------------------------------------ entry point
def run_scenario(settings: Settings, name: str, target: str | None = None, duration: float | None = None, *,
                 city: SimCity | None = None, out: Callable[[str], None] = print, seed: int | None = None,
                 **params) -> Scenario:
    """Pick, describe and run one scenario (``onescreen sim scenario``); returns it for inspection."""
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r}; one of {', '.join(sorted(SCENARIOS))}")
    if city is None:
        from onescreen.db.session import make_engine

        engine = make_engine(settings.database.url)
        try:
            city = SimCity.from_engine(engine)
        finally:
            engine.dispose()
    ctx = ScenarioContext(settings, city, out, random.Random(seed))
    sc = SCENARIOS[name](ctx, target, duration, **params)
    try:
        sc.pick()
        out(sc.describe())
        sc.run()
    finally:
        ctx.close()
    return sc


from sim import entrance_scenario as _entrance_scenario  # noqa: E402,F401  (registers entrance_surge, issue #18)
# The case scenarios (dispute, hazard: one case round the whole loop) live beside the grid workers' rhythm.
from sim import cases as _cases  # noqa: E402,F401  (registers them)
