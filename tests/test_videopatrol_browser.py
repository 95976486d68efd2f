"""The `/videopatrol` desk in a real Chromium (real Redis, SQLite, the dashboard server): an operator walks a
plan of two cameras, marks one 正常 and one 异常 with a note; the 异常 opens a case (source video_patrol, the
camera's latest frame from Redis as its evidence photo) and the round shows in the patrol log with a link to
the case.
Screenshot: ``test-artifacts/desk-videopatrol.png``.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onescreen import names
from onescreen.commands import Actor
from onescreen.db.models import AuditLog, Case, CasePhoto, VideoPatrolMark
from onescreen.db.session import make_engine
from tests.auth_helpers import login
from tests.case_helpers import jpeg
from tests.test_desk_browser import Desk, make_settings, running_city  # noqa: F401  (make_settings: fixture)
from videopatrol import commands as vp

pytestmark = [pytest.mark.services, pytest.mark.browser]


def test_a_patrol_round_with_one_abnormal_mark(browser, make_settings, small_city, redis_client):  # noqa: F811
    with running_city(make_settings, small_city) as city:
        cams = sorted(c.id for c in city["registry"].cameras())[:2]
        engine = make_engine(city["s"].database.url)
        with Session(engine) as s:
            plan_id = vp.save_plan(s, Actor("t-supervisor", "supervisor"),
                                   vp.PlanInput("夜间出入口巡查", cams, 10, 120, "20:00", "06:00"), datetime.now().astimezone())
            s.commit()
        redis_client.set(names.camera_snapshot(cams[1]), jpeg(colour=90))
        users = city["users"]
        desk = Desk(browser, city["url"])
        try:
            page = desk.page
            login(page, city["url"], users["operator"].username, users["operator"].password, "/videopatrol")
            page.click("#desk-vp-plan")
            page.get_by_role("option", name="夜间出入口巡查").click()
            page.click("#desk-vp-start")
            page.wait_for_selector(f"#desk-vp-progress:has-text('第 1/2 路 · {cams[0]}')", timeout=10_000)
            assert page.locator("#desk-vp-frame").get_attribute("src").startswith(f"/api/cameras/{cams[0]}/")
            page.click("#desk-vp-normal")
            page.wait_for_selector(f"#desk-vp-progress:has-text('第 2/2 路 · {cams[1]}')", timeout=10_000)
            page.click("#desk-vp-abnormal")  # without a note: refused, stays on the camera
            page.wait_for_selector("#desk-vp-msg:has-text('标记异常须填写说明')", timeout=10_000)
            page.fill("#desk-vp-note", "大门处多人聚集")
            assert "治安" in page.inner_text("#desk-vp-category")  # the default category of an 异常
            page.click("#desk-vp-category")
            page.get_by_role("option", name="矛盾纠纷", exact=True).click()
            page.click("#desk-vp-abnormal")
            page.wait_for_selector("#desk-vp-msg:has-text('本轮巡查完成，异常已立案')", timeout=10_000)
            # the log row may first show the round as it was before the last mark (the log refreshes on its tick)
            row = page.locator("#desk-vp-log-table tr", has_text="夜间出入口巡查").filter(has_text="异常")
            row.wait_for(timeout=10_000)
            assert users["operator"].username in row.inner_text()
            link = row.locator("a.desk-vp-case")
            case_id = link.inner_text()
            assert link.get_attribute("href") == f"/cases?case={case_id}"
            assert page.locator("#desk-vp-missed-list").count() == 0  # a new plan owes nothing from before
            desk.shot("desk-videopatrol.png")
            link.click()  # the log's link opens the case on the dispatcher's desk
            page.wait_for_selector(f'#cases-detail[data-case-id="{case_id}"]', timeout=10_000)
            assert "大门处多人聚集" in page.inner_text("#cases-detail")
        finally:
            desk.close()
        with Session(engine) as s:
            marks = s.scalars(select(VideoPatrolMark).order_by(VideoPatrolMark.id)).all()
            audit = s.scalars(select(AuditLog.action).where(AuditLog.action.like("videopatrol_%"))
                                 .order_by(AuditLog.id)).all()
        with Session(engine) as s:
            case = s.scalars(select(Case).where(Case.case_id == case_id)).one()
            photos = [(p.kind, p.camera_id) for p in s.scalars(select(CasePhoto).where(CasePhoto.case_pk == case.id))]
            assert (case.source, case.category, case.description) == ("video_patrol", "dispute", "大门处多人聚集")
            assert photos == [("camera", cams[1])]
        engine.dispose()
        assert [(m.camera_id, m.verdict, m.note, m.case_id) for m in marks] == [
            (cams[0], "normal", None, None), (cams[1], "abnormal", "大门处多人聚集", case_id)]
        assert audit == ["videopatrol_plan", "videopatrol_start", "videopatrol_mark", "videopatrol_mark",
                         "videopatrol_finish"]
        assert plan_id
