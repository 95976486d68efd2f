"""The whole case loop in a real Chromium across roles: a grid worker on a phone reports with a photo → the
community accepts, grades and assigns to a department → the department handles with a feedback photo → the
community evaluates (unsatisfied: reopened; then satisfied) → archived; a return, an escalation community →
district, an overdue reminder with a shortened deadline; the wall's case panel (§4: a new case within 2 s).
Screenshots: docs/screenshots/grid-phone.png, cases-desk.png, cases-huddle.png."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cases import store
from cases.worker import remind_overdue
from onescreen.db.session import make_engine, session_factory
from tests.auth_helpers import login
from tests.case_helpers import PASSWORD, case_world, jpeg  # noqa: F401 (fixture)
from tests.dashboard_helpers import RunningWorker, with_dashboard

pytestmark = [pytest.mark.services, pytest.mark.browser]
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def _api(base: str, token: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _person(browser, base, user, path, phone=False):
    ctx = browser.new_context(viewport={"width": 390, "height": 844} if phone else {"width": 1600, "height": 1000},
                              is_mobile=phone, has_touch=phone, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, base, user, PASSWORD, path)
    return ctx, page, errors


def _desk_act(page, cid, action, **fill):
    if page.get_attribute("#cases-detail", "data-case-id") != cid:
        page.click(f'#cases-queue [data-case-id="{cid}"]')
    page.wait_for_selector(f'#cases-detail[data-case-id="{cid}"] #case-actions')
    page.wait_for_load_state("networkidle")
    page.click(f'#case-actions [data-action="{action}"]')
    for sel, value in fill.items():
        if sel in ("case-level", "case-assign-kind", "case-assign-id", "case-satisfaction"):
            page.select_option(f"#{sel}", value)
        else:
            page.fill(f"#{sel}", value)
    page.click("#case-do")
    page.wait_for_selector(f'#case-history li[data-action="{action}"]')


def test_the_loop_across_roles(browser, case_world, tmp_path):  # noqa: F811 (fixture imported above)
    w = case_world
    s = w.settings.model_copy(update={"cases": w.settings.cases.model_copy(update={"camera_frames": 0})})
    srv = RunningWorker(with_dashboard(s)).start()
    base = srv.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _wall_ctx, wall, wall_errors = _person(browser, base, "operator1", "/")
        wall.wait_for_selector("#kpi-open-cases")

        # 1. the grid worker reports from the phone with a photo and a tap on the cell map
        _g_ctx, grid, g_errors = _person(browser, base, "grid1", "/grid", phone=True)
        grid.wait_for_selector("#grid-category button")
        grid.click('#grid-category [data-category="dispute"]')
        grid.fill("#grid-description", "两户邻居因停车位争吵，情绪激动")
        photo = tmp_path / "scene.jpg"
        photo.write_bytes(jpeg(800, 600))
        grid.set_input_files("#grid-photo", str(photo))
        box = grid.locator("svg.cellmap .cell").first.bounding_box()
        grid.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        grid.wait_for_selector("svg.cellmap .marker")
        grid.click("#grid-submit")
        grid.wait_for_selector("#grid-message[data-case-id]", timeout=15_000)
        cid = grid.get_attribute("#grid-message", "data-case-id")
        reported = time.monotonic()
        wall.wait_for_selector(f'#case-feed [data-case-id="{cid}"]', timeout=3000)  # §4: within 2 s (+ slack)
        assert time.monotonic() - reported < 3
        wall.wait_for_selector("path.os-marker-cases", state="attached", timeout=5000)  # the map's 事件 layer
        wall.click('.layer-toggle[data-layer="cases"]')
        assert "hide-cases" in wall.get_attribute("#city-map-frame", "class")
        assert not wall.locator("path.os-marker-cases").first.is_visible()
        wall.click('.layer-toggle[data-layer="cases"]')
        grid.wait_for_selector(f'#grid-mine [data-case-id="{cid}"]', timeout=35_000)
        grid.screenshot(path=str(SHOTS / "grid-phone.png"), full_page=True)
        doc = _api(base, w.tokens["operator"], f"/api/cases/{cid}")
        assert doc["photos"] == 1 and doc["status"] == "reported" and doc["reporter"] == w.worker

        # 2. the community desk accepts, grades, assigns to a department
        _c_ctx, desk, c_errors = _person(browser, base, "community1", "/cases")
        desk.wait_for_selector(f'#cases-queue [data-case-id="{cid}"]')
        _desk_act(desk, cid, "accept", **{"case-level": "orange", "case-note": "受理"})
        _desk_act(desk, cid, "grade", **{"case-level": "red", "case-note": "有动手苗头"})
        _desk_act(desk, cid, "assign", **{"case-assign-kind": "department", "case-assign-id": w.department,
                                          "case-note": "请派员调解"})
        desk.screenshot(path=str(SHOTS / "cases-desk.png"), full_page=False)

        # 3. the department starts and handles with a feedback photo
        _d_ctx, dept, d_errors = _person(browser, base, "department1", "/cases")
        dept.wait_for_selector(f'#cases-queue [data-case-id="{cid}"]')
        _desk_act(dept, cid, "start", **{"case-note": "已到场"})
        dept.set_input_files("#case-photo-input", str(photo))
        dept.wait_for_selector('#cases-detail .photo.feedback')
        _desk_act(dept, cid, "handle", **{"case-note": "双方达成协议"})

        # 4. the community evaluates: unsatisfied reopens; the department handles again; satisfied
        desk.reload()
        desk.wait_for_selector(f'#cases-queue [data-case-id="{cid}"]')
        _desk_act(desk, cid, "evaluate", **{"case-satisfaction": "2", "case-note": "仍有争执"})
        assert desk.inner_text("#case-status") == "已交办"
        dept.reload()
        dept.wait_for_selector(f'#cases-queue [data-case-id="{cid}"]')
        dept.click(f'#cases-queue [data-case-id="{cid}"]')
        dept.wait_for_selector(f'#cases-detail[data-case-id="{cid}"]')
        dept.click('#case-actions [data-action="handle"]')
        dept.fill("#case-note", "再次上门调解，已签协议")
        dept.click("#case-do")
        dept.wait_for_selector('#case-status:has-text("已办结")')
        desk.reload()
        desk.wait_for_selector(f'#cases-queue [data-case-id="{cid}"]')
        _desk_act(desk, cid, "evaluate", **{"case-satisfaction": "5"})

        # 5. a city supervisor archives
        _sv_ctx, sup, sv_errors = _person(browser, base, "supervisor1", "/cases")
        sup.click('#cases-filters button:nth-child(4)')  # all
        sup.wait_for_selector(f'#cases-queue [data-case-id="{cid}"]')
        _desk_act(sup, cid, "archive", **{"case-note": "归档"})
        final = _api(base, w.tokens["operator"], f"/api/cases/{cid}")
        assert final["status"] == "archived"
        actions = [h["action"] for h in final["history"]]
        assert actions.count("handle") == 2 and actions.count("evaluate") == 2 and "photo" in actions

        # 6. return and escalate: community → department returns → community escalates → the district acts
        c2 = _api(base, w.tokens["grid"], "/api/cases", {"category": "hazard", "description": "楼道堆放杂物",
                                                          "cell_id": w.cell})["case_id"]
        desk.reload()
        desk.wait_for_selector(f'#cases-queue [data-case-id="{c2}"]')
        _desk_act(desk, c2, "accept", **{"case-level": "yellow"})
        _desk_act(desk, c2, "assign", **{"case-assign-kind": "department", "case-assign-id": w.department})
        dept.reload()
        dept.click(f'#cases-queue [data-case-id="{c2}"]')
        dept.wait_for_selector(f'#cases-detail[data-case-id="{c2}"]')
        dept.click('#case-actions [data-action="return"]')
        dept.fill("#case-note", "不属本部门职责")
        dept.click("#case-do")
        dept.wait_for_selector(f'#cases-queue [data-case-id="{c2}"]', state="detached")  # no longer its case
        desk.reload()
        desk.wait_for_selector(f'#cases-queue [data-case-id="{c2}"]')
        _desk_act(desk, c2, "escalate", **{"case-note": "需街道协调消防"})
        desk.click('#case-actions [data-action="assign"]')
        desk.select_option("#case-assign-kind", "department")
        desk.click("#case-do")
        desk.wait_for_selector('#case-action-msg.error')  # the district handles it now: 403, said on the page
        _dist_ctx, dist, dist_errors = _person(browser, base, "district1", "/cases")
        dist.wait_for_selector(f'#cases-queue [data-case-id="{c2}"]')
        _desk_act(dist, c2, "assign", **{"case-assign-kind": "department", "case-assign-id": w.department})

        # 7. overdue with a shortened deadline: the reminder (督办) from the worker's function, shown first
        c3 = _api(base, w.tokens["grid"], "/api/cases", {"category": "public_order", "description": "深夜聚集喧哗",
                                                          "cell_id": w.cell})["case_id"]
        _api(base, w.tokens["community"], f"/api/cases/{c3}/accept", {"level": "red"})
        engine = make_engine(w.url)
        with session_factory(engine)() as session:
            from sqlalchemy import update

            from onescreen.db.models import Case

            session.execute(update(Case).where(Case.case_id == c3)
                            .values(deadline=datetime.now(UTC) - timedelta(minutes=5)))
            session.commit()
            reminded = remind_overdue(session, datetime.now(UTC), timedelta(minutes=60))
            session.commit()
            import redis

            store.announce_changed(session, redis.Redis.from_url(w.settings.redis.url), "Asia/Shanghai",
                                   datetime.now(UTC))
        engine.dispose()
        assert reminded == [c3]
        desk.reload()
        desk.wait_for_selector(f'#cases-queue [data-case-id="{c3}"].overdue')
        first = desk.get_attribute("#cases-queue li:first-child", "data-case-id")
        assert first == c3  # overdue first
        _ = desk.click(f'#cases-queue [data-case-id="{c3}"]')
        desk.wait_for_selector('#case-history li[data-action="remind"]')
        wall.wait_for_function("document.getElementById('kpi-overdue-cases').textContent.trim() === '1'",
                               timeout=5000)
        desk.screenshot(path=str(SHOTS / "cases-desk.png"), full_page=False)
        desk.goto(f"{base}/cases?view=huddle")
        desk.wait_for_selector(f'table.huddle [data-case-id="{c3}"]')
        desk.screenshot(path=str(SHOTS / "cases-huddle.png"), full_page=True)
        wall.screenshot(path=str(SHOTS / "wall-cases.png"))
        for errs in (wall_errors, g_errors, c_errors, d_errors, sv_errors, dist_errors):
            assert errs == []
    finally:
        srv.stop()


def test_the_case_pages_in_english(browser, case_world, tmp_path):  # noqa: F811 (fixture imported above)
    """With dashboard.language: en, /grid and /cases carry no Chinese outside the city's own names."""
    from tests.dashboard_helpers import chinese_outside

    w = case_world
    srv = RunningWorker(with_dashboard(w.settings, language="en")).start()
    try:
        cid = _api(srv.url, w.tokens["grid"], "/api/cases", {"category": "request", "description": "street light out",
                                                               "cell_id": w.cell})["case_id"]
        _ctx, grid, errors = _person(browser, srv.url, "grid1", "/grid", phone=True)
        grid.wait_for_selector(f'#grid-mine [data-case-id="{cid}"]')
        assert grid.inner_text("#grid-submit") == "Send report"
        grid.screenshot(path=str(SHOTS / "grid-phone-en.png"), full_page=True)
        center = w.settings.dashboard.center_name  # configured data, not screen text
        names = [c["name"] for c in _cells(grid)] + [grid.inner_text(".grid-who strong"), center]
        assert chinese_outside(grid.inner_text("body"), names) == []
        _ctx2, desk, errors2 = _person(browser, srv.url, "community1", "/cases")
        desk.click(f'#cases-queue [data-case-id="{cid}"]')
        desk.wait_for_selector(f'#cases-detail[data-case-id="{cid}"] #case-actions')
        place = desk.inner_text(".facts dd")  # the district / community / cell names
        assert chinese_outside(desk.inner_text("body"), [*place.split(" / "), *_all_names(desk), *names]) == []
        assert errors == [] and errors2 == []
    finally:
        srv.stop()


def _cells(page) -> list[dict]:
    return page.evaluate("CASES.cells")


def _all_names(page) -> list[str]:
    return page.evaluate("Object.values(CASES.names).concat(Object.values(CASES.cells),"
                         " CASES.departments.map(function (d) { return d.name; }))")


def test_grid_records_a_key_person_visit(browser, case_world):  # noqa: F811 (fixture imported above)
    """/grid "我的重点人员" on a phone: the worker's own key persons (masked ids, level colour, overdue), one
    visit recorded (by video, with a note) through the persons API; another worker's person is not listed.
    Screenshot: docs/screenshots/grid-key-persons.png."""
    from sqlalchemy import select, update

    from onescreen.db.models import PersonVisit, WatchPerson

    w = case_world
    engine = make_engine(w.url)
    with session_factory(engine)() as s:
        ids = s.execute(select(WatchPerson.person_id).order_by(WatchPerson.person_id)).scalars().all()
        mine, theirs = ids[:2], ids[2]
        s.execute(update(WatchPerson).where(WatchPerson.person_id.in_(mine)).values(grid_worker_id=w.worker,
                                                                                      level="red"))
        s.execute(update(WatchPerson).where(WatchPerson.person_id == theirs).values(grid_worker_id="W-nobody"))
        s.execute(update(WatchPerson).where(WatchPerson.person_id.not_in(mine), WatchPerson.grid_worker_id == w.worker)
                  .values(grid_worker_id=None))
        s.commit()
    srv = RunningWorker(with_dashboard(w.settings)).start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _ctx, grid, errors = _person(browser, srv.url, "grid1", "/grid", phone=True)
        grid.wait_for_selector("#grid-persons .kp-item", timeout=10_000)
        items = grid.locator("#grid-persons .kp-item")
        assert items.count() == 2 and "逾期" in items.first.inner_text()  # never visited: overdue
        shown = items.first.get_attribute("data-masked-id")
        assert shown.endswith("****") and all(p not in grid.inner_text("#grid-persons") for p in ids)
        assert items.first.locator(".chip.lv-red").count() == 1
        items.first.locator(".kp-record").click()
        items.first.locator(".kp-save").click()  # no method picked: refused here
        grid.wait_for_selector("#grid-kp-message.error:has-text('请选择走访方式')")
        items.first.locator('[data-method="video"]').click()
        items.first.locator(".kp-note").fill("视频连线，本人在家，情绪稳定")
        grid.locator("#grid-persons").scroll_into_view_if_needed()
        grid.screenshot(path=str(SHOTS / "grid-key-persons-form.png"), full_page=True)
        items.first.locator(".kp-save").click()
        grid.wait_for_selector(f"#grid-kp-message.ok:has-text('{shown}')", timeout=10_000)
        grid.wait_for_selector(f'#grid-persons .kp-item[data-masked-id="{shown}"]:not(.overdue)', timeout=10_000)
        grid.screenshot(path=str(SHOTS / "grid-key-persons.png"), full_page=True)
        assert not errors
    finally:
        srv.stop()
    with session_factory(engine)() as s:
        visits = s.execute(select(PersonVisit.person_id, PersonVisit.method, PersonVisit.visitor,
                                  PersonVisit.note)).all()
    engine.dispose()
    assert len(visits) == 1 and visits[0][1:] == ("video", w.worker, "视频连线，本人在家，情绪稳定")
    assert visits[0][0] in mine and visits[0][0][:4] + "****" == shown
