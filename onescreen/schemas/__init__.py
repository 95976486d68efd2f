"""JSON Schemas (draft 2020-12) of the CONTRACT §1 MQTT payloads, written by hand from CONTRACT.md.

They are deliberately *not* generated from ``onescreen.events``: they are the independent statement of
the contract that tests hold the simulator (and anything else that speaks MQTT to OneScreen) against,
and that device vendors can be given. Each file is self-contained (no cross-file ``$ref``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = ("access", "patrol_position", "edge_count", "device_status")


@cache
def load(name: str) -> dict:
    """The schema document ``name`` (one of NAMES)."""
    if name not in NAMES:
        raise KeyError(f"no schema {name!r}; one of {NAMES}")
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def validator(name: str):
    """A Draft 2020-12 validator with format checking (needs the optional ``jsonschema`` package)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
