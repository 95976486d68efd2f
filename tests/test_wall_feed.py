"""Issue 11 finding 6: the wall's alert feed lists the most urgent first (open and escalated before dispatched;
resolved and closed leave it), says "还有 N 条" when it overflows, marks escalated and silenced alerts and shows
an age from the first render. The order is pure (table-driven); the overflow is measured in real Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dashboard.components.wall_feed import age_text, feed_items, select
from dashboard.i18n import Translator
from onescreen.db.models import Alert, AlertSilence
from onescreen.db.session import make_engine
from tests.test_wall_browser import city_wall  # noqa: F401  (the fixture)
from tests.wall_browser_helpers import WallPage


def row(ident: str, status: str, ts: float, level: str = "yellow", escalated: float | None = None) -> dict:
    return {"id": ident, "rule": "off_post", "level": level, "status": status, "district": "D1",
            "community": "D1-01", "cell": None, "ts": ts, "escalated": escalated}


def test_most_urgent_first_and_handled_ones_leave():
    rows = [row("dispatched-new", "dispatched", 50), row("open-old", "open", 10),
            row("open-escalated", "open", 5, escalated=65), row("closed", "closed", 60),
            row("resolved", "resolved", 55), row("acked", "acknowledged", 40), row("open-new", "open", 45),
            row("on-scene", "on_scene", 30)]
    feed = select(rows, {"open-old"}, size=4)
    assert [r["id"] for r in feed["items"]] == ["open-escalated", "open-new", "open-old", "acked"]
    assert feed["more"] == 2  # dispatched-new and on-scene; the closed and resolved ones are gone
    assert [r["silenced"] for r in feed["items"]] == [False, False, True, False]


class _Ctx:
    t = Translator("zh")
    city = type("City", (), {"nodes": {}})()


def test_items_carry_marks_an_age_and_the_overflow_line():
    feed = select([row("A-1", "open", 1000.0, escalated=1070.0), row("A-2", "open", 990.0)], {"A-2"}, size=1)
    items = [i.to_plotly_json()["props"] for i in feed_items(_Ctx(), feed, now=1125.0)]
    assert items[0]["data-alert-id"] == "A-1" and "escalated" in items[0]["className"]
    text = str(items[0]["children"])
    assert "已升级" in text and "2分钟前" in text  # the age is there from the first render
    assert items[1]["className"] == "alert-more" and items[1]["children"] == "还有 1 条"
    assert items[1]["data-template"] == "还有 {n} 条"
    assert age_text(_Ctx(), 59) == "59秒前" and age_text(_Ctx(), 3 * 86400) == "3天前"


@pytest.mark.services
@pytest.mark.browser
def test_the_feed_never_hides_an_overflow(browser, city_wall, settings):  # noqa: F811
    """Fifteen open alerts, two handled, one escalated, one silenced on a 1920×1080 wall: what does not fit is
    counted on the "还有 N 条" line, so shown + N = every alert not yet resolved."""
    engine = make_engine(settings.database.url)
    now = datetime.now(UTC)
    with Session(engine) as s:
        for i in range(17):
            status = "closed" if i < 2 else ("dispatched" if i < 5 else "open")
            s.add(Alert(alert_id=f"A-20261205-{i:06d}", rule="off_post", level="yellow", status=status,
                        subject_kind="unit", subject_id=f"U-{i}", district_id="D1", community_id="D1-01",
                        cell_id=None, lat=26.70, lon=118.12, evidence={}, opened_at=now - timedelta(minutes=60 - i),
                        escalated_at=now if i == 6 else None))
        s.add(AlertSilence(rule=None, subject_id="U-16", scope=None, starts_at=now, until=now + timedelta(hours=1),
                           created_by="t", reason="works"))
        s.commit()
    engine.dispose()
    wall = WallPage(browser, city_wall.url, 1920, 1080, city_wall.creds)
    try:
        page = wall.page
        page.wait_for_selector("#alert-feed .alert-more", state="attached", timeout=10_000)
        page.wait_for_function("!document.querySelector('#alert-feed .alert-more').classList.contains('hidden')",
                               timeout=4_000)
        # the panels around the feed fill in after it (KPI grid, cases, key persons): the fit settles within 1 s
        page.wait_for_function("document.querySelector('#alert-feed .alert-more').getBoundingClientRect().bottom"
                               " <= document.getElementById('alert-feed').getBoundingClientRect().bottom + 1",
                               timeout=4_000)
        shown = page.evaluate("Array.from(document.querySelectorAll('#alert-feed [data-alert-id]'))"
                              ".filter(e => e.offsetParent !== null).map(e => e.dataset.alertId)")
        more = page.locator("#alert-feed .alert-more").inner_text()
        assert 3 <= len(shown) < 15 and more == f"还有 {15 - len(shown)} 条", (shown, more)
        assert shown[0] == "A-20261205-000006"  # the escalated one first
        assert "已升级" in page.locator("#alert-feed [data-alert-id='A-20261205-000006']").inner_text()
        assert shown[1] == "A-20261205-000016"  # then the newest open one, silenced yet shown, marked
        assert "静默中" in page.locator("#alert-feed [data-alert-id='A-20261205-000016']").inner_text()
        ages = page.evaluate("Array.from(document.querySelectorAll('#alert-feed .alert-age')).map(e => e.textContent)")
        assert all(a.endswith("前") for a in ages)
        box = page.evaluate("(() => { const f = document.getElementById('alert-feed').getBoundingClientRect();"
                            " const m = document.querySelector('#alert-feed .alert-more').getBoundingClientRect();"
                            " return [f.bottom, m.bottom]; })()")
        assert box[1] <= box[0] + 1  # the overflow line itself is on screen
        wall.screenshot("wall-feed-overflow.png")
        wall.assert_clean()
    finally:
        wall.close()
