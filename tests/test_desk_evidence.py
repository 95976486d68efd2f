"""An alert's evidence on the desks (dashboard/desk/evidence.py): pure formatting, fed by the real rules."""

from __future__ import annotations

from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from alerts import notes
from alerts.store import SYSTEM
from dashboard.desk import evidence, widgets
from dashboard.i18n import Translator
from tests.test_rule_hiding import seen
from tests.test_rule_entrance_surge import cross
from tests.test_rules import H, access, count, decisions, patrol, status, video, watch

STRUCTURE = {"events", "door", "persons", "snapshot_url"}  # shown as tables or the frame, not as facts
ENGINE_KEYS = {"silenced"}  # added after the rules, by alerts.stages


def desk(language: str = "zh") -> SimpleNamespace:
    return SimpleNamespace(t=Translator(language), tz=ZoneInfo("Asia/Shanghai"))


# one firing scenario per rule (and per lingering signal), from tests/test_rules.py's helpers
SCENARIOS = {
    "gathering": [count(0, 12), count(60, 14)],
    "lingering (door)": [access(t, "p-7f3a9c", "in", "denied", door="D2") for t in (0, 10, 20, 30)],
    "lingering (video at a door)": [access(-60, "p-7f3a9c"), video(0, "gate", [[7, 130]])],
    "key_person_gathering": [access(0, "k1"), access(1, "k2"), access(2, "k3")],
    "key_person_missing": [watch(0, "k1"), ("tick", 24 * H), ("tick", 24 * H + 1)],
    "off_post": [patrol(0, 250), patrol(300, 250)],
    "device_offline": [status(0, True), status(200, False), ("tick", 500)],
    "key_person_hiding": [seen(0), seen(24 * H), seen(48 * H)],
    "entrance_surge": [cross(0, n_in=31)],
}


def fired(name: str) -> dict:
    rule = name.split(" ")[0]
    (first, *_rest) = decisions(rule, SCENARIOS[name])
    return first.evidence


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_key_a_rule_writes_has_a_label(name):
    """A rule's new evidence key must get a label (and a formatting) before the desks can show it."""
    ev = fired(name)
    known = {key for key, _kind in evidence.FACTS} | STRUCTURE
    assert set(ev) - known == set()
    assert ENGINE_KEYS <= known
    for language in ("zh", "en"):
        for label, _text in evidence.facts(desk(language), ev):
            assert not label.startswith("desk.ev."), label


@pytest.mark.parametrize("name, language, expected", [
    ("gathering", "zh", [("人数", "14"), ("峰值人数", "14"), ("来源", "前端计数"), ("摄像机", "C1"),
                         ("区域", "square")]),
    ("lingering (door)", "zh", [("尝试次数", "4"), ("人员", "p-7f****"), ("门禁", "D2")]),
    ("lingering (video at a door)", "en", [("Persons lingering", "1"), ("Dwell", "2 min 10 s"), ("Camera", "C1"),
                                           ("Zone", "gate"), ("Track", "7")]),
    ("key_person_gathering", "zh", [("重点人员数", "3"), ("统计窗口", "30分00秒")]),
    ("key_person_missing", "zh", [("未被感知", "1天0小时"), ("管控级别", "红色"), ("人员", "k****"),
                                    ("最后出现门禁", "D1")]),
    ("off_post", "en", [("Distance from post", "250 m"), ("Reason", "outside the post's radius"),
                        ("Patrol unit", "U1"), ("Post", "POST-1")]),
    ("device_offline", "zh", [("原因", "设备报告离线"), ("设备类型", "门禁"), ("设备", "D9")]),
    ("entrance_surge", "zh", [("统计窗口", "5分00秒"), ("摄像机", "C1"), ("穿越人数", "31"), ("方向", "进"),
                              ("出入口", "gate"), ("监测时段", "23:00-05:00")]),
])
def test_facts_in_the_screen_language(name, language, expected):
    pairs = evidence.facts(desk(language), fired(name))
    times = [p for p in pairs if p[0] in ("起始", "Since", "最后感知", "Last seen", "最后位置", "Last position")]
    assert [p for p in pairs if p not in times] == expected
    for _label, text in times:  # local time with the date, never the raw ISO string
        assert "T" not in text and "+08:00" not in text and text[2] == "-", text


def test_door_events_of_both_shapes_masked_and_named():
    ctx = desk()
    for name in ("lingering (door)", "lingering (video at a door)"):
        ev = fired(name)
        rows = evidence.door_events(ev)
        assert rows and all(r["person_id"] == "p-7f3a9c" for r in rows), name
        html = str(evidence.render(ctx, ev))
        assert "p-7f3a9c" not in html and "p-7f****" in html and "拒绝" in html, name


def test_key_persons_table_masks_ids():
    ev = {"persons": [{"person_id": "p-abcdef12", "watch_level": "red", "seen_at": "2026-11-22T21:09:39+08:00"}],
          "count": 1, "window_s": 1800}
    html = str(evidence.render(desk("en"), ev))
    assert "p-abcdef12" not in html and "p-ab****" in html and "Red" in html and "11-22 21:09:39" in html


@pytest.mark.parametrize("ev, expected", [
    ({}, ""),
    ({"persons": 14, "camera_id": "C1", "since": 1_763_817_000_000}, "人数 14 · 起始 11-22 21:10:00"),
    ({"attempts": 4, "person_id": "p-7f3a9c", "door_id": "D2"}, "尝试次数 4"),
    ({"reason": "no_frame", "device_id": "C1"}, "原因 无视频画面"),
    ({"reason": "brand_new_code"}, "原因 brand_new_code"),  # a code without a name: shown as it is
])
def test_one_line_for_the_duty_phone(ev, expected):
    assert evidence.summary(desk(), ev) == expected


@pytest.mark.parametrize("action, note, zh, en", [
    ("open", notes.RAISED.format(rule="lingering"), "逗留异常告警产生", "Lingering raised"),
    ("clear", notes.CLEARED, "告警条件已消失", "Condition no longer holds"),
    ("level", notes.LEVEL.format(level="red"), "级别变为红色", "Level now Red"),
    ("on_scene", notes.AUTO_ON_SCENE.format(unit="P-001", dist="33"), "单元 P-001 已在 33 米内（自动）",
     "Unit P-001 within 33 m (automatic)"),
    ("escalate", notes.ESCALATED, "超时未确认，已升级至值班领导", "Unacknowledged: escalated to the supervisor"),
    ("remind", notes.REMINDER.format(n=2), "第 2 次催办：仍未确认", "Reminder 2: still unacknowledged"),
    ("open", "something new", "something new", "something new"),  # a note without a template: as written
])
def test_the_engines_notes_in_the_screen_language(action, note, zh, en):
    for language, expected in (("zh", zh), ("en", en)):
        shown = str(widgets.timeline(desk(language), [{"action": action, "actor": SYSTEM, "note": note}]))
        assert expected in shown and ("系统" in shown) == (language == "zh")


def test_a_persons_note_is_shown_as_written():
    note = notes.CLEARED  # even when it reads like the engine's
    shown = str(widgets.timeline(desk(), [{"action": "resolve", "actor": "t-duty", "note": note}]))
    assert note in shown and "告警条件已消失" not in shown
