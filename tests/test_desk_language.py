"""The desk pages in both languages, through the real server (Flask test client, real Redis and SQLite): each
desk's layout as the Dash router answers it (labels, buttons, placeholders, dropdown options) and the
server-rendered sign-in and 403 pages. Chinese by default; with ``dashboard.language: en`` no Chinese is left
but the registry's names (data, not screen text). The rendered callbacks are checked in Chromium
(``tests/test_desk_browser.py``); ``tests/test_dashboard_units.py`` keeps Chinese literals out of the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.app import create_app
from tests import test_alerts_engine as base
from tests.auth_helpers import create_users, logged_in_client
from tests.dashboard_helpers import chinese_outside, registry_names, with_dashboard

pytestmark = pytest.mark.services
ORIGIN = {"Origin": "http://localhost"}
make_settings = base.make_settings  # the shared fixture: settings on a copy of the small city

# page -> the role that opens it here (duty: the one bound to a patrol unit)
DESKS = {"/alerts": "admin", "/duty": "duty", "/patrol": "supervisor", "/admin": "admin", "/assessment": "supervisor",
         "/videopatrol": "supervisor"}
LABELS = {
    "zh": {"/alerts": ("告警队列", "派警单元（按距离推荐在岗单元）", "静默此告警条件", "疑似聚集", "已确认", "24 小时"),
           "/duty": ("值班调度", "本单元："), "/patrol": ("抽查", "按线路巡逻", "导出 CSV", "按街道/乡镇", "7 天"),
           "/admin": ("新增用户", "初始密码（≥8 位）", "拒收消息", "死信事件", "值班领导", "社区/村居"),
           "/assessment": ("考核排名", "排名依据", "返回上级", "月度考核报告（打印）", "1-3-5达标率", "完好率"),
           "/videopatrol": ("视频巡查", "开始巡查", "正常", "异常", "保存方案", "每路秒数")},
    "en": {"/alerts": ("Alert queue", "Unit to dispatch", "Silence this alert condition", "Gathering",
                       "Acknowledged", "24 hours"),
           "/duty": ("Duty desk", "My unit: "), "/patrol": ("Spot check", "Patrolling the route", "Export CSV",
                                                           "District", "7 days"),
           "/admin": ("Add a user", "Initial password", "Rejected messages", "Dead letters", "Supervisor",
                      "Communities"),
           "/assessment": ("Ranking", "Ranked by", "Up one level", "Monthly review (print)", "1-3-5 rate",
                           "Good condition"),
           "/videopatrol": ("Video patrol", "Start patrol", "Normal", "Abnormal", "Save plan", "Seconds per camera")},
}


def strings(doc: Any) -> list[str]:
    """Every string in a JSON document (a Dash layout: children, labels, placeholders…)."""
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


def page_layout(client, path: str) -> str:
    """The page as the router callback sends it to the browser, its strings one per line."""
    body = {"output": "page-content.children", "outputs": {"id": "page-content", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": path}], "changedPropIds": ["url.pathname"]}
    resp = client.post("/_dash-update-component", json=body, headers=ORIGIN)
    assert resp.status_code == 200, (path, resp.status_code)
    return "\n".join(strings(resp.get_json()))


def workers_and_departments(url: str) -> list[str]:
    """The grid workers' and departments' names of the city's bundle (data, like the grid's names)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onescreen.db.models import Department, GridWorker
    from onescreen.db.session import make_engine

    engine = make_engine(url)
    with Session(engine) as s:
        names = list(s.scalars(select(GridWorker.name))) + list(s.scalars(select(Department.name)))
    engine.dispose()
    return names


@pytest.fixture(params=["zh", "en"])
def desks(request, make_settings, small_city):
    """An app in one language (zh: the default, nothing set), one signed-in client per role."""
    settings = make_settings()
    if request.param == "en":
        settings = with_dashboard(settings, language="en")
    assert settings.dashboard.language == request.param
    reg = small_city.registry
    unit = next(u for u in reg.unit_ids() if reg.post_of_unit(u) is not None)
    users = create_users(settings.database.url, unit_id=unit)
    app = create_app(settings)
    clients = {role: logged_in_client(app, u.username, u.password) for role, u in users.items()}
    data = registry_names(reg) + [settings.dashboard.center_name]  # the centre's name is configuration
    data += workers_and_departments(settings.database.url)  # /admin's pickers name them: registry data too
    return {"lang": request.param, "app": app, "clients": clients, "data": data}


@pytest.mark.parametrize("path", list(DESKS))
def test_desk_layouts_follow_the_language(desks, path):
    text = page_layout(desks["clients"][DESKS[path]], path)
    for label in LABELS[desks["lang"]][path]:
        assert label in text, label
    if desks["lang"] == "en":
        assert chinese_outside(text, desks["data"]) == []
        assert any(name in text for name in desks["data"])  # the data itself is still there, untranslated


def test_sign_in_and_403_follow_the_language(desks):
    en = desks["lang"] == "en"
    login = desks["app"].server.test_client().get("/login").get_data(as_text=True)
    assert ("Sign in" if en else "用户登录") in login and f'lang="{"en-GB" if en else "zh-CN"}"' in login
    denied = desks["clients"]["duty"].get("/admin")
    assert denied.status_code == 403
    assert ("You may not open this page" if en else "无权访问此页面") in denied.get_data(as_text=True)
    if en:
        assert chinese_outside(login, desks["data"]) == []
        assert chinese_outside(denied.get_data(as_text=True), desks["data"]) == []


PERSONS = {"zh": ("调整等级", "登记走访", "上门", "仅看走访逾期", "显示完整编号", "橙色"),
           "en": ("Re-grade", "Record a visit", "Home", "Overdue visits only", "Show full id", "Orange")}


def test_persons_desk_follows_the_language(desks):
    """/persons (issue 15): its labels in the screen's language; in English no Chinese at all."""
    text = page_layout(desks["clients"]["supervisor"], "/persons")
    for label in PERSONS[desks["lang"]]:
        assert label in text, label
    if desks["lang"] == "en":
        assert chinese_outside(text, desks["data"]) == []


def test_the_wall_layout_has_no_chinese_on_an_english_screen(desks):
    """The wall's own texts (legend, KPI tooltips, toggles, hints) in English; Chinese only in registry names."""
    text = page_layout(desks["clients"]["operator"], "/")
    if desks["lang"] == "en":
        assert "Cameras online" in text and "Alert placed by area" in text
        assert chinese_outside(text, desks["data"]) == []
    else:
        assert "视频在线率" in text and "按网格定位的告警" in text
