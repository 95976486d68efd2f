"""The CLI as an operator meets it: clear one-line errors instead of tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def onescreen(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "onescreen.cli", *args], env=base, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("command, env, expected", [
    (["ingest-mqtt"], {"ONESCREEN_REDIS_URL": "redis://127.0.0.1:{port}/0"}, "cannot reach Redis at redis://127.0.0.1:"),
    (["dashboard"], {"ONESCREEN_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:{port}/x"}, "cannot open the database"),
    (["config"], {"ONESCREEN_MQTT_PORT": "many"}, "mqtt.port: Input should be a valid integer"),
    (["config"], {"ONESCREEN_MQTTPORT": "1"}, "ONESCREEN_MQTTPORT: no such setting"),
])
def test_missing_service_or_bad_config_gives_a_message_not_a_trace(command, env, expected):
    port = closed_port()
    env = {k: v.format(port=port) for k, v in env.items()}
    result = onescreen(*command, env=env)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_database_without_schema_is_named(tmp_path):
    port = closed_port()
    result = onescreen("dashboard", env={"ONESCREEN_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db",
                                         "ONESCREEN_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    assert result.returncode != 0 and "run `onescreen db upgrade` first" in result.stderr


def test_db_upgrade_then_config_shows_masked_secrets(tmp_path):
    env = {"ONESCREEN_DATABASE_URL": f"sqlite:///{tmp_path}/os.db", "ONESCREEN_MQTT_PASSWORD": "s3cret-pw"}
    up = onescreen("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    shown = onescreen("config", env=env)
    assert shown.returncode == 0 and "s3cret-pw" not in shown.stdout and "prefix: city" in shown.stdout


def test_users_add_deactivate_activate_and_password(tmp_path):
    """The account commands an engineer runs on a closed network: passwords from the environment, never argv."""
    env = {"ONESCREEN_DATABASE_URL": f"sqlite:///{tmp_path}/os.db", "NEW_PW": "first-pass-123",
           "OTHER_PW": "second-pass-456"}
    assert onescreen("db", "upgrade", env=env).returncode == 0
    steps = [("users", "add", "ops01", "--role", "operator", "--password-env", "NEW_PW"),
             ("users", "deactivate", "ops01"), ("users", "activate", "ops01"),
             ("users", "password", "ops01", "--password-env", "OTHER_PW"), ("users", "scope", "ops01")]
    for step in steps:
        done = onescreen(*step, env=env)
        assert done.returncode == 0, (step, done.stderr)
    missing = onescreen("users", "deactivate", "ghost", env=env)
    assert missing.returncode != 0 and "no user 'ghost'" in missing.stderr and "Traceback" not in missing.stderr
    nowhere = onescreen("users", "scope", "ops01", "--scope", "C-nowhere", env=env)
    assert nowhere.returncode != 0 and "'C-nowhere' is not a grid node" in nowhere.stderr

    from onescreen.accounts import verify_password
    from onescreen.db.session import make_engine, session_factory

    engine = make_engine(env["ONESCREEN_DATABASE_URL"])
    with session_factory(engine)() as session:
        assert verify_password(session, "ops01", "first-pass-123") is None
        assert verify_password(session, "ops01", "second-pass-456") is not None
    engine.dispose()
