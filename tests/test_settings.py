"""Config: sources and precedence, and rejection with a message naming the key (table-driven)."""

from __future__ import annotations

import pytest

from onescreen.settings import ConfigError, load_settings


def write(tmp_path, text: str):
    p = tmp_path / "onescreen.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_match_the_contract():
    s = load_settings()
    assert s.mqtt.prefix == "city"
    assert s.city.timezone == "Asia/Shanghai"
    assert s.dashboard.port == 8050
    assert s.city.late_limit_s == 24 * 3600


def test_yaml_then_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "mqtt:\n  prefix: town\n  shared_group: g1\nredis:\n  partitions: 4\n")
    monkeypatch.setenv("ONESCREEN_MQTT_PREFIX", "metro")  # CONTRACT names this variable
    s = load_settings(path)
    assert (s.mqtt.prefix, s.mqtt.shared_group, s.redis.partitions) == ("metro", "g1", 4)


def test_camera_page_size_from_file_or_environment(tmp_path, monkeypatch):
    assert load_settings().dashboard.camera_page_size == 4
    assert load_settings(write(tmp_path, "dashboard:\n  camera_page_size: 9\n")).dashboard.camera_page_size == 9
    monkeypatch.setenv("ONESCREEN_DASHBOARD_CAMERA_PAGE_SIZE", "9")  # a string: must still be accepted
    assert load_settings().dashboard.camera_page_size == 9


def test_secret_from_environment_is_masked(monkeypatch):
    monkeypatch.setenv("ONESCREEN_MQTT_PASSWORD", "hunter2")
    s = load_settings()
    assert s.mqtt.password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump(mode="json"))


@pytest.mark.parametrize("text, expected", [
    ("mqtt:\n  prefx: x\n", "mqtt.prefx: Extra inputs are not permitted"),
    ("mqttt:\n  prefix: x\n", "mqttt: Extra inputs are not permitted"),
    ("redis:\n  partitions: zero\n", "redis.partitions: Input should be a valid integer"),
    ("redis:\n  partitions: 0\n", "redis.partitions: Input should be greater than or equal to 1"),
    ("redis:\n  url: http://x\n", "redis.url: Value error, must start with redis://"),
    ("dashboard:\n  language: fr\n", "dashboard.language: Input should be 'zh' or 'en'"),
    ("city:\n  timezone: Mars/Olympus\n", "city.timezone: Value error, unknown timezone 'Mars/Olympus'"),
    ("mqtt:\n  port: 70000\n", "mqtt.port: Input should be less than or equal to 65535"),
    ("alerts:\n  max_attempts: 0\n", "alerts.max_attempts: Input should be greater than or equal to 1"),
    ("dashboard:\n  camera_page_size: 6\n", "dashboard.camera_page_size: Value error, must be 4 or 9"),
    ("mqtt:\n  password: x\n", "mqtt.password is a secret; set it in ONESCREEN_MQTT_PASSWORD"),
    ("dashboard:\n  secret_key: x\n", "dashboard.secret_key is a secret"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("mqtt: [\n", "config file"),
])
def test_bad_file_is_rejected_naming_the_key(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert expected in str(err.value)


@pytest.mark.parametrize("name, value, expected", [
    ("ONESCREEN_REDIS_PARTITONS", "3", "ONESCREEN_REDIS_PARTITONS: no such setting"),
    ("ONESCREEN_NOPE", "1", "ONESCREEN_NOPE: no such setting"),
    ("ONESCREEN_MQTT_PORT", "many", "mqtt.port: Input should be a valid integer"),
    ("ONESCREEN_LOG_LEVEL", "LOUD", "log.level: Input should be"),
    ("ONESCREEN_DASHBOARD_CAMERA_PAGE_SIZE", "16", "dashboard.camera_page_size: Value error, must be 4 or 9"),
])
def test_bad_environment_is_rejected_naming_the_variable(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.yaml")


def test_every_setting_is_documented_and_the_reference_is_current():
    from pathlib import Path

    from onescreen.settings import Settings, reference_markdown

    for group, gfield in Settings.model_fields.items():
        assert gfield.description, group
        for name, field in gfield.annotation.model_fields.items():
            assert field.description, f"{group}.{name} has no description"
    doc = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8").rstrip("\n") == reference_markdown().rstrip("\n"), \
        "docs/configuration.md is stale: run `onescreen config --reference > docs/configuration.md`"
