"""The rules file: CONTRACT defaults, strict validation naming the key, per-community overrides."""

from __future__ import annotations

import pytest

from alerts.config import RulesError, load_rules, parse_rules


def test_defaults_are_the_contract():
    r = load_rules(None).rules
    assert (r.gathering.min_persons, r.gathering.hold_s, r.gathering.level, r.gathering.red_at) == (
        10,
        60,
        "orange",
        30,
    )
    assert (r.lingering.dwell_s, r.lingering.door_attempts, r.lingering.door_window_s, r.lingering.level) == (
        120,
        4,
        600,
        "yellow",
    )
    assert (
        r.key_person_gathering.min_persons,
        r.key_person_gathering.window_s,
        r.key_person_gathering.level,
    ) == (3, 1800, "red")
    assert (
        r.key_person_missing.red_after_s,
        r.key_person_missing.orange_after_s,
        r.key_person_missing.level,
    ) == (86_400, 259_200, "orange")
    assert (r.off_post.max_distance_m, r.off_post.hold_s, r.off_post.silent_s, r.off_post.level) == (
        200,
        300,
        300,
        "yellow",
    )
    assert (r.device_offline.camera_silent_s, r.device_offline.device_silent_s, r.device_offline.level) == (
        60,
        300,
        "yellow",
    )


@pytest.mark.parametrize(
    "text, key",
    [
        ("rules:\n  gathering:\n    min_person: 5\n", "rules.gathering.min_person"),
        ("rules:\n  gathering:\n    hold_s: -1\n", "rules.gathering.hold_s"),
        ("rules:\n  gathering:\n    level: purple\n", "rules.gathering.level"),
        ("rules:\n  loitering: {}\n", "rules.loitering"),
        ("overrides:\n  C0101:\n    gathering:\n      hold_s: abc\n", "overrides.C0101.gathering.hold_s"),
        ("overrides:\n  C0101:\n    nope: {}\n", "overrides.C0101.nope"),
        ("rules:\n  gathering:\n    min_persons: 5\n    clear_below: 8\n", "clear_below"),
        ("storm: {flap_max: 0}\n", "storm.flap_max"),
        ("- just a list\n", "top level"),
        ("rules: [\n", "rules file"),
    ],
)
def test_bad_file_names_the_key(tmp_path, text, key):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert key in str(err.value) and str(path) in str(err.value)


def test_overrides_merge_per_community():
    cfg = parse_rules(
        {"rules": {"gathering": {"min_persons": 12}}, "overrides": {"C0101": {"gathering": {"hold_s": 5}}}}
    )
    assert (cfg.rule("gathering", "C0101").min_persons, cfg.rule("gathering", "C0101").hold_s) == (12, 5)
    assert cfg.rule("gathering", "C0202").hold_s == 60
    assert cfg.rule("gathering", None).hold_s == 60


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(RulesError, match="rules file"):
        load_rules(tmp_path / "absent.yaml")
