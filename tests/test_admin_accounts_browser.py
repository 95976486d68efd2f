"""`/admin` creates the bound accounts in a real Chromium (real Redis, SQLite, the dashboard server): a ``grid``
account picked to its grid worker and a ``department`` account to its department (searchable pickers shown
for those roles only); a grid account without its worker is refused with the reason. The new grid account then
signs in and its `/grid` page is its worker's. Screenshot: ``test-artifacts/desk-admin-bound.png``."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onescreen.db.models import AuditLog, Department, GridWorker, User
from onescreen.db.session import make_engine
from tests.auth_helpers import login, logout
from tests.test_desk_browser import Desk, make_settings, running_city, search_pick  # noqa: F401  (fixture)

pytestmark = [pytest.mark.services, pytest.mark.browser]


def test_admin_creates_grid_and_department_accounts(browser, make_settings, small_city, redis_client):  # noqa: F811
    with running_city(make_settings, small_city) as city:
        engine = make_engine(city["s"].database.url)
        with Session(engine) as s:
            worker = s.scalars(select(GridWorker).order_by(GridWorker.id)).first()
            dept = s.scalars(select(Department).order_by(Department.id)).first()
            worker_id, worker_name, dept_id = worker.id, worker.name, dept.id
        users = city["users"]
        admin = Desk(browser, city["url"])
        try:
            page = admin.page
            login(page, city["url"], users["admin"].username, users["admin"].password, "/admin")
            page.wait_for_selector("#desk-admin-users-table", timeout=10_000)
            assert not page.locator("#desk-admin-new-worker-box").is_visible()
            page.fill("#desk-admin-new-name", "grid-zheng")
            page.fill("#desk-admin-new-pw", "long-enough-password")
            page.click("#desk-admin-new-role")
            page.get_by_role("option", name="网格员", exact=True).click()
            page.wait_for_selector("#desk-admin-new-worker-box", state="visible", timeout=5_000)
            page.click("#desk-admin-add")  # no worker picked: refused, nothing created
            page.wait_for_selector("#desk-admin-msg.error:has-text('网格员账号须选择对应的网格员')", timeout=10_000)
            search_pick(page, "#desk-admin-new-worker", f"({worker_id})")
            page.click("#desk-admin-add")
            page.wait_for_selector("#desk-admin-msg.ok:has-text('grid-zheng')", timeout=10_000)
            page.fill("#desk-admin-new-name", "dept-one")
            page.fill("#desk-admin-new-pw", "long-enough-password")
            page.click("#desk-admin-new-role")
            page.get_by_role("option", name="职能部门", exact=True).click()
            page.wait_for_selector("#desk-admin-new-department-box", state="visible", timeout=5_000)
            assert not page.locator("#desk-admin-new-worker-box").is_visible()
            search_pick(page, "#desk-admin-new-department", f"({dept_id})")
            page.click("#desk-admin-add")
            page.wait_for_selector("#desk-admin-msg.ok:has-text('dept-one')", timeout=10_000)
            row = page.wait_for_selector("#desk-admin-users-table tr:has(td:text-is('grid-zheng'))", timeout=10_000)
            assert worker_id in row.inner_text()  # the account's binding, in the users table
            admin.shot("desk-admin-bound.png")
            logout(page)
            login(page, city["url"], "grid-zheng", "long-enough-password", "/grid")
            page.wait_for_selector(f".grid-who:has-text('{worker_id}')", timeout=10_000)
            assert worker_name in page.inner_text(".grid-who")
        finally:
            admin.close()
        with Session(engine) as s:
            made = {u.username: (u.role, u.worker_id, u.department_id) for u in s.scalars(
                select(User).where(User.username.in_(["grid-zheng", "dept-one"])))}
            added = s.scalars(select(AuditLog.detail).where(AuditLog.action == "user_add")).all()
        engine.dispose()
        assert made == {"grid-zheng": ("grid", worker_id, None), "dept-one": ("department", None, dept_id)}
        assert {"worker": worker_id}.items() <= next(d for d in added if d.get("worker")).items()
