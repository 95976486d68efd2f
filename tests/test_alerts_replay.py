"""Replay over the event archive reproduces the live alerts of a recorded window, and never touches them."""

from __future__ import annotations

import json
import time

import yaml
from click.testing import CliRunner

from alerts.config import parse_rules
from alerts.archiver import ArchiverWorker
from alerts.engine import AlertEngineWorker
from alerts.replay import replay
from onescreen.cli import main
from onescreen.db.session import make_engine
from tests import test_alerts_engine as base
from tests.mqtt_helpers import ThreadWorker, wait_for
from tests.test_alerts_archiver import archive_behind
from tests.test_alerts_engine import access_doc, alerts_in, count_doc, now_ms, pending, put

RULES = {"rules": {"gathering": {"hold_s": 1}}}


make_settings = base.make_settings  # the shared fixture


def record(s, city, redis_client) -> tuple[int, int]:
    """Play a small mixed window into the live engine; returns (start, end) in epoch ms."""
    reg = city.registry
    start = now_ms(-120)
    with ThreadWorker(AlertEngineWorker(s, "rec")), ThreadWorker(ArchiverWorker(s, "rec-archive")):
        for i in range(3):  # three lingering persons, one passer-by
            for k in range(4 if i < 3 else 2):
                put(redis_client, s, access_doc(reg, city.door, f"p-rec-{i}", now_ms(-60 + k)))
        put(redis_client, s, access_doc(reg, city.door, "p-rec-pass", now_ms(-50), result="granted"))
        for watched in reg.watched_persons()[:3]:
            put(redis_client, s, access_doc(reg, city.other_door, watched, now_ms(-40), result="granted"))
        for t in (-3, -1.5, 0):
            put(redis_client, s, count_doc(reg, city.camera, 15, now_ms(t)))
        assert wait_for(lambda: pending(redis_client, s) == 0 and alerts_in(s.database.url, "gathering"), 8)
        time.sleep(0.3)
        assert wait_for(lambda: archive_behind(redis_client, s) == 0, 10)  # replay reads what the archiver wrote
    return start, now_ms(1)


def test_replay_reproduces_the_live_alerts(make_settings, small_city, redis_client):
    s = make_settings(RULES)
    start, end = record(s, small_city, redis_client)
    live = {
        (a.rule, a.subject_id)
        for a in alerts_in(s.database.url)
        if a.rule in ("gathering", "lingering", "key_person_gathering")
    }
    assert len(live) == 5
    engine = make_engine(s.database.url)
    report = replay(
        engine, small_city.registry, parse_rules(RULES), start, end, s.city.timezone, s.redis.partitions
    )
    engine.dispose()
    replayed = {(a.rule, a.subject) for a in report.alerts}
    assert replayed >= live
    assert {r for r, _ in replayed - live} <= {"key_person_missing", "device_offline"}  # clocks of the window


def test_replay_cli_with_other_rules_touches_nothing(
    make_settings, small_city, redis_client, tmp_path, monkeypatch
):
    s = make_settings(RULES)
    start, end = record(s, small_city, redis_client)
    before = len(alerts_in(s.database.url))
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        yaml.safe_dump({"rules": {"lingering": {"door_attempts": 10}, "gathering": {"hold_s": 1}}})
    )
    monkeypatch.setenv("ONESCREEN_DATABASE_URL", s.database.url)
    result = CliRunner().invoke(
        main, ["alerts", "replay", "--from", str(start), "--to", str(end), "--rules", str(strict), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["by_rule"].get("lingering", 0) == 0 and report["by_rule"]["gathering"] == 1
    assert report["events"] == 22  # 19 recorded + the 3 watched persons' sightings re-routed as watch events
    assert len(alerts_in(s.database.url)) == before
    text = CliRunner().invoke(main, ["alerts", "replay", "--from", str(start), "--to", str(end)])
    assert text.exit_code == 0 and "by rule:" in text.output and "lingering=3" in text.output
