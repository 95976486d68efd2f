"""The wall's entrances panel (issue 18) and the cases in the 数据导巡 heat map (issue 14): the pure builders
table-driven, then one browser check that a scope with counted entrances shows its figures and the estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from dashboard.components.panels import heat_legend, heat_map
from dashboard.components.wall_entrances import entrance_body
from dashboard.i18n import Translator
from dashboard.readers.entrances import gates_of, scope_figures
from dashboard.readers.hours import case_hours, heat_by_day, heat_by_district, scope_hours, with_cases
from ingest.video.entrances import EntranceHour

TZ = ZoneInfo("Asia/Shanghai")
GATES = [("CAM-1/east", "C1", "C1-a", "东门 · east"), ("CAM-1/west", "C1", "C1-a", "东门 · west"),
         ("CAM-2/gate", "C2", "C2-a", "南门 · gate")]


def hours_of(*per_hour: dict[str, tuple[int, int]]) -> list[EntranceHour]:
    """Hours (current first) from ``{gate: (in, out)}``; totals as ingest writes them."""
    return [EntranceHour(f"h{i}", {g: {"in": a, "out": b} for g, (a, b) in h.items()},
                         sum(a for a, _b in h.values()), sum(b for _a, b in h.values()))
            for i, h in enumerate(per_hour)]


@pytest.mark.parametrize("gates,hours,sites,whole,want", [
    pytest.param([], {}, {}, set(), None, id="no gate: no figures"),
    pytest.param(GATES, {}, {}, {"C1", "C2"},
                 {"gates": 3, "today_in": 0, "today_out": 0, "hour_in": 0, "hour_out": 0, "busiest": [],
                  "inside": None, "inside_sites": 0}, id="gates but quiet"),
    pytest.param(GATES, {"C1": hours_of({"CAM-1/east": (2, 1)}, {"CAM-1/east": (5, 0), "CAM-1/west": (1, 9)}),
                         "C2": hours_of({}, {"CAM-2/gate": (4, 4)})}, {"C1": 10}, {"C1", "C2"},
                 {"gates": 3, "today_in": 12, "today_out": 14, "hour_in": 2, "hour_out": 1,
                  "busiest": [{"gate": "CAM-1/west", "name": "东门 · west", "in": 1, "out": 9},
                              {"gate": "CAM-1/east", "name": "东门 · east", "in": 7, "out": 1},
                              {"gate": "CAM-2/gate", "name": "南门 · gate", "in": 4, "out": 4}],
                  "inside": 10 + 8 - 10, "inside_sites": 1}, id="a counted site: base + in - out"),
    pytest.param(GATES[:1], {"C1": hours_of({"CAM-1/east": (1, 0), "CAM-1/west": (50, 0)})}, {"C1": 0}, set(),
                 {"gates": 1, "today_in": 1, "today_out": 0, "hour_in": 1, "hour_out": 0,
                  "busiest": [{"gate": "CAM-1/east", "name": "东门 · east", "in": 1, "out": 0}],
                  "inside": None, "inside_sites": 0}, id="a cell: its own gates, no estimate for part of a site"),
    pytest.param(GATES[2:], {"C2": hours_of({"CAM-2/gate": (0, 30)})}, {"C2": 5}, {"C2"},
                 {"gates": 1, "today_in": 0, "today_out": 30, "hour_in": 0, "hour_out": 30,
                  "busiest": [{"gate": "CAM-2/gate", "name": "南门 · gate", "in": 0, "out": 30}],
                  "inside": 0, "inside_sites": 1}, id="the estimate never below 0"),
])
def test_scope_figures(gates, hours, sites, whole, want):
    assert scope_figures(gates, hours, sites, whole) == want


def test_gates_of_the_registry_cameras():
    cams = [SimpleNamespace(id="B", cell_id="x1", name="乙", lines={"out": 1, "in": 1}),
            SimpleNamespace(id="A", cell_id="y1", name="甲", lines={"g": 1}),
            SimpleNamespace(id="C", cell_id="x1", name="丙", lines={}),
            SimpleNamespace(id="D", cell_id="lost", name="丁", lines={"g": 1})]
    community = {"x1": "X", "y1": "Y"}.get
    assert gates_of(cams, community) == (("A/g", "Y", "y1", "甲 · g"), ("B/in", "X", "x1", "乙 · in"),
                                         ("B/out", "X", "x1", "乙 · out"))


def _ctx(lang: str = "zh") -> SimpleNamespace:
    return SimpleNamespace(t=Translator(lang), city=SimpleNamespace(nodes={"D1": SimpleNamespace(name="西城街道")}))


def _texts(component) -> list[str]:
    out, stack = [], [component]
    while stack:
        c = stack.pop()
        if isinstance(c, (list, tuple)):
            stack.extend(c)
        elif isinstance(c, str):
            out.append(c)
        elif c is not None:
            stack.append(getattr(c, "children", None))
            if getattr(c, "title", None):
                out.append(c.title)
    return out


@pytest.mark.parametrize("lang,fig,has,lacks", [
    ("zh", None, ["本区域无计数出入口（摄像机未配置出入口计数线）"], ["今日进入"]),
    ("zh", {"gates": 2, "today_in": 1234, "today_out": 5, "hour_in": 3, "hour_out": 4, "busiest": [],
            "inside": None, "inside_sites": 0}, ["1,234", "3/4", "今日尚无过线", "本小时（09:00 起）本区域计数出入口的进入 / 离开人次"],
     ["估算在内"]),
    ("zh", {"gates": 1, "today_in": 9, "today_out": 2, "hour_in": 0, "hour_out": 0, "inside": 57,
            "inside_sites": 1, "busiest": [{"gate": "C/g", "name": "东门 · g", "in": 9, "out": 2}]},
     ["≈57", "估算在内", "东门 · g", "↓9 ↑2", "东门 · g：今日进入 9 · 离开 2"], ["今日尚无过线"]),
    ("en", {"gates": 1, "today_in": 9, "today_out": 2, "hour_in": 0, "hour_out": 0, "inside": 57,
            "inside_sites": 1, "busiest": []}, ["Inside (est.)", "In today", "≈57"], ["今日"]),
])
def test_entrance_body(lang, fig, has, lacks):
    texts = "\n".join(_texts(entrance_body(_ctx(lang), fig, datetime(2026, 12, 5, 9, 30, tzinfo=TZ))))
    assert all(h in texts for h in has), texts
    assert not any(x in texts for x in lacks), texts


def test_cases_join_the_heat_map_at_every_level():
    now = datetime(2026, 12, 5, 20, 0, tzinfo=TZ)
    at = datetime(2026, 12, 5, 1, 10, tzinfo=UTC)  # 09:10 local
    rows = [("D1", "D1-01", "D1-01-A", at), ("D1", "D1-01", None, at.replace(tzinfo=None)),  # SQLite: naive UTC
            ("D2", "D2-01", "D2-01-A", at - timedelta(days=1))]
    hours = case_hours(rows, TZ)
    assert hours == {"2026120509": {"D1": 2, "D1-01": 2, "D1-01-A": 1},
                     "2026120409": {"D2": 1, "D2-01": 1, "D2-01-A": 1}}
    city = with_cases(heat_by_district({}, ["D1", "D2"], now), heat_by_district(hours, ["D1", "D2"], now))
    assert [c[9] for c in city["cases"]] == [2, 1] and sum(map(sum, city["cases"])) == 3
    cell = with_cases(heat_by_day({}, now), heat_by_day(scope_hours(hours, "D1-01-A"), now))
    assert cell["cases"][-1][9] == 1 and sum(map(sum, cell["cases"])) == 1
    assert with_cases(city, None) is city  # the case read failed: events alone
    # the builder: a dot in the cell (larger for more), both figures in the tooltip, a legend saying what counts
    city["rows"][0][1][9] = 40
    shown = heat_map(_ctx(), city)
    cells = shown.children[0].children[1:]
    assert cells[9].children.className == "heat-case heat-case-2" and cells[8].children is None
    assert cells[9].title == "西城街道 09时（近7日）：门禁事件 40 起 · 上报事件（案件）2 件"
    assert "圆点表示该时段有网格事件（案件）上报" in heat_legend(_ctx()).title


# ---------------------------------------------------------------------------------------------- browser
@pytest.mark.services
@pytest.mark.browser
def test_entrances_panel_shows_the_scopes_counts(browser, settings, redis_client):
    from ingest.video.entrances import add_crossings, local_hour
    from onescreen.db.models import Camera
    from onescreen.db.session import make_engine
    from tests.auth_helpers import create_users
    from tests.dashboard_helpers import RunningWorker, insert_small_city, with_dashboard
    from tests.wall_browser_helpers import WallPage

    insert_small_city(settings.database.url)
    line = {"a": [0.1, 0.8], "b": [0.9, 0.8], "in": "left"}
    engine = make_engine(settings.database.url)
    with Session(engine) as s:  # two gates of 北门社区 (D1-01): CAM-2 in cell B, CAM-3 in cell B
        s.execute(update(Camera).where(Camera.id == "CAM-2").values(lines={"main-gate": line}))
        s.execute(update(Camera).where(Camera.id == "CAM-3").values(lines={"car-gate": line}))
        s.commit()
    engine.dispose()
    zone = ZoneInfo(settings.city.timezone)
    now = datetime.now(zone)
    pipe = redis_client.pipeline(transaction=False)
    add_crossings(pipe, "D1-01", "CAM-2", local_hour(now.timestamp(), zone), {"main-gate": {"in": 7, "out": 3}}, 3600)
    add_crossings(pipe, "D1-01", "CAM-3", local_hour(now.timestamp(), zone), {"car-gate": {"out": 1}}, 3600)
    pipe.execute()
    creds = create_users(settings.database.url)["operator"]
    running = RunningWorker(with_dashboard(settings, entrance_sites={"D1-01": 40})).start()
    kpi = "(k => document.querySelector(`#wall-entrances [data-kpi=${k}] .ent-value`)?.textContent)"
    try:
        wall = WallPage(browser, running.url, 1920, 1080, creds)
        try:
            page = wall.page
            wall.wait_live()
            page.wait_for_function(f"{kpi}('today_in') === '7'", timeout=5_000)
            assert page.evaluate(f"{kpi}('today_out')") == "4" and page.evaluate(f"{kpi}('hour')") == "7/4"
            assert page.evaluate(f"{kpi}('inside')") == "≈43"  # 40 at midnight + 7 in - 4 out
            assert "估算" in page.locator("#wall-entrances [data-kpi=inside]").get_attribute("title")
            gates = page.locator("#wall-entrances [data-gate]")
            assert [gates.nth(i).get_attribute("data-gate") for i in range(gates.count())] == \
                ["CAM-2/main-gate", "CAM-3/car-gate"]
            wall.assert_no_scrollbars()
            wall.screenshot("wall-entrances.png")
            wall.assert_clean()
        finally:
            wall.close()
    finally:
        running.stop()
