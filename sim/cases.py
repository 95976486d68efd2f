"""Grid workers in the simulated city: reports at a daily rhythm, and two scenarios that walk one case round the loop.

The phones of real grid workers post to the cases API; the simulator stands in for them by calling the same
commands (``cases.commands``) on the same database, as accounts that exist only in the simulation
(``sim-grid``, ``sim-community``, ``sim-dept``), and announces each change like the API does (MQTT outbox, the
screens' change signal). Rate: Yanping's grid reported 10,752 events in two months with ~2,174 workers, about
0.08 a worker a day; ``sim.case_rate`` scales that (the default, 50×, gives a demo city of 161 workers about
one report every two minutes at the busiest hours), shaped by the city's daily rhythm.

``dispute`` / ``hazard`` (``onescreen sim scenario dispute``): a worker reports with a photo, the community
accepts and grades, assigns to 司法所 (dispute) or 住建 (hazard), the department starts and handles with a
feedback photo, the community evaluates, a supervisor archives; each step a few seconds apart, so the wall
and the desks show it moving.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from onescreen.commands import Actor
from onescreen.settings import Settings
from sim.rhythm import activity

log = logging.getLogger(__name__)

PER_WORKER_DAY = 10_752 / 60 / 2_174  # Yanping: events / days / workers
CATEGORY_WEIGHTS = {"dispute": 0.30, "hazard": 0.20, "environment": 0.20, "request": 0.15, "public_order": 0.08,
                    "key_person": 0.04, "other": 0.03}
TEXTS = {
    "dispute": ["两户邻居因停车位发生争吵", "租户与房东因押金退还发生纠纷", "装修噪音引发邻里矛盾", "宅基地界线纠纷，双方情绪激动"],
    "hazard": ["楼道堆放杂物堵塞消防通道", "井盖缺失，存在坠落隐患", "电动车楼道内充电", "老旧电线裸露"],
    "environment": ["垃圾桶满溢未清运", "河道漂浮物较多", "餐馆油烟扰民"],
    "request": ["独居老人反映饮水困难", "居民反映路灯不亮", "小区门禁故障"],
    "public_order": ["夜间有人聚集喧哗", "发现可疑人员徘徊"],
    "key_person": ["重点人员近期情绪不稳", "重点人员走访未见本人"],
    "other": ["群众来电咨询办事流程"],
}
LEVEL_OF = {"dispute": "orange", "hazard": "orange", "public_order": "orange"}
SIM_ROLES = {"grid": "sim-grid", "community": "sim-community", "department": "sim-dept", "supervisor": "sim-supervisor"}


def scene_photo(rng: random.Random, text: str = "") -> bytes:
    """A plausible 'phone photo': a noisy gradient with a label (no real image is needed)."""
    h, w = 480, 640
    base = np.linspace(40 + rng.randint(0, 80), 160 + rng.randint(0, 80), w, dtype=np.float32)
    img = np.repeat(np.repeat(base[None, :, None], h, 0), 3, 2)
    img += np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 12, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    cv2.putText(img, text[:24] or "scene", (20, h - 30), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


@dataclass
class Desk:
    """What the simulated people need: sessions, the case environment, Redis for the announcements."""

    settings: Settings
    sessions: Callable
    env: object
    redis: object

    @classmethod
    def open(cls, settings: Settings) -> Desk:
        from cases.commands import CaseEnv
        from cases.places import places_for
        from onescreen.db.session import make_engine, session_factory
        from onescreen.redisconn import connect

        engine = make_engine(settings.database.url)
        env = CaseEnv(settings.cases, settings.city.timezone, places_for(engine), connect(settings.redis))
        return cls(settings, session_factory(engine), env, env.redis)

    def actor(self, role: str, **kw) -> Actor:
        level = "city" if role in ("supervisor",) else "community"
        return Actor(username=SIM_ROLES[role], role={"community": "operator"}.get(role, role),
                     extra={"scope_level": level}, **kw)

    def run(self, fn: Callable, *args, **kwargs):
        """One command in its own transaction, announced after the commit; the case."""
        from cases import store

        now = datetime.now(UTC)
        with self.sessions() as s:
            out = fn(s, *args, now, self.env, **kwargs)
            s.commit()
            store.announce_changed(s, self.redis, self.settings.city.timezone, now)
            return out


def report_one(desk: Desk, rng: random.Random, category: str | None = None, photo: bool = True):
    """One grid worker reports one case in one of its cells (a point inside it), with a photo."""
    from cases import commands

    places = desk.env.places
    workers = sorted(places.workers.items())
    if not workers:
        return None
    wid, (_name, cells, _phone) = rng.choice(workers)
    cell = rng.choice(cells)
    category = category or rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
    lat, lon = places.cell_label(cell)
    grid = desk.actor("grid", worker_id=wid, cells=frozenset(cells))
    data = {"category": category, "description": rng.choice(TEXTS[category]), "lat": lat, "lon": lon,
            "level": LEVEL_OF.get(category, "yellow")}
    if category == "request" and rng.random() < 0.4:  # much is solved on the spot (就地解决)
        data.update(handled_on_site=True, feedback="已现场协调解决")
    case = desk.run(commands.report, grid, data)
    if photo:
        desk.run(lambda s, now, env: commands.add_photo(s, grid, case.case_id, scene_photo(rng, case.case_id), now,
                                                        env))
    return case


class CaseRhythm:
    """Called every simulator step: reports at ``rate`` × Yanping's per-worker rate, shaped by the hour."""

    def __init__(self, settings: Settings, seed: int, rate: float):
        self.settings, self.rate = settings, rate
        self.rng = random.Random(seed + 14)
        self.desk: Desk | None = None
        self.last = time.time()
        self.reported = 0
        self.tz = ZoneInfo(settings.city.timezone)

    def tick(self, now: float) -> int:
        if self.rate <= 0:
            return 0
        dt, self.last = now - self.last, now
        try:
            if self.desk is None:
                self.desk = Desk.open(self.settings)
            per_s = len(self.desk.env.places.workers) * PER_WORKER_DAY * self.rate / 86_400
            expected = per_s * dt * activity(datetime.fromtimestamp(now, self.tz)) / 0.5  # mean activity ≈ 0.5
            if self.rng.random() >= expected:
                return 0
            case = report_one(self.desk, self.rng)
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the device simulation
            log.exception("simulated grid report failed")
            return 0
        if case is not None:
            self.reported += 1
            log.info("grid worker %s reported %s (%s)", case.reporter, case.case_id, case.category)
        return 1


def walk(desk: Desk, category: str, pause_s: float, out: Callable[[str], None], rng: random.Random,
         sleep: Callable[[float], None] = time.sleep) -> str:
    """One case round the whole loop, department included; its id."""
    from cases import commands

    case = report_one(desk, rng, category)
    cid = case.case_id
    out(f"  {cid}: reported by grid worker {case.reporter} in {case.cell_id} (网格吹哨)")
    dept_id = "D-SFS" if category == "dispute" else "D-ZJ"
    if dept_id not in desk.env.places.departments:
        dept_id = sorted(desk.env.places.departments)[0]
    community = desk.actor("community", communities=frozenset({case.community_id}))
    dept = desk.actor("department", department_id=dept_id)
    supervisor = desk.actor("supervisor")
    grid = desk.actor("grid", worker_id=case.reporter, cells=frozenset())
    steps = [
        (community, "accept", {"level": "orange", "note": "受理，情绪激动，定为橙色"}, "accepted and graded (受理)"),
        (community, "assign", {"assignee": {"kind": "department", "id": dept_id}, "note": "请部门报到处置"},
         f"assigned to {desk.env.places.departments[dept_id]} (分级转办)"),
        (dept, "start", {"note": "已到现场"}, "the department is on it"),
        (dept, "photo", None, "feedback photo"),
        (dept, "handle", {"note": "已调解，双方签订协议" if category == "dispute" else "已清理整改"},
         "handled with feedback (处置反馈)"),
        (grid, "evaluate", {"satisfaction": 5, "note": "群众满意"}, "evaluated by the reporter (考核评价)"),
        (supervisor, "archive", {"note": "办结归档"}, "archived (事件归档)"),
    ]
    for actor, action, body, what in steps:
        sleep(pause_s)
        if action == "photo":
            desk.run(lambda s, now, env, a=actor: commands.add_photo(s, a, cid, scene_photo(rng, "done"), now, env))
        else:
            desk.run(lambda s, now, env, a=actor, act=action, b=body: commands.act(s, a, cid, act, b, now, env))
        out(f"  {cid}: {what}")
    return cid


# ---------------------------------------------------------------- scenarios (registered in sim.scenarios)
def _register() -> None:
    from sim.scenarios import Scenario, scenario

    class CaseLoop(Scenario):
        """One case round the whole loop (CONTRACT §6), department included."""

        rule = "case"
        category = "dispute"
        default_duration_s = 35.0

        def pick(self) -> None:
            if self.target is not None and self.target not in CATEGORY_WEIGHTS:
                from sim.scenarios import ScenarioError

                raise ScenarioError(f"no case category {self.target!r}")
            self.category = self.target or self.category

        def describe(self) -> str:
            return (f"{self.name}: a grid worker reports a {self.category} case with a photo; the community "
                    f"accepts, grades and assigns it to a department, which handles it with a feedback photo; "
                    f"the reporter evaluates; a supervisor archives — about {self.duration:g} s."
                    f"\n  expect: the case in case-feed and on the map (事件), then on /cases moving step by step")

        def run(self) -> None:
            desk = Desk.open(self.ctx.settings)
            try:
                self.case_id = walk(desk, self.category, self.duration / 8, self.ctx.out, self.ctx.rng,
                                    sleep=lambda s: self.ctx.sleep(s))
            finally:
                desk.redis.close()

    @scenario
    class Dispute(CaseLoop):
        name, category = "dispute", "dispute"

    @scenario
    class Hazard(CaseLoop):
        name, category = "hazard", "hazard"


_register()
