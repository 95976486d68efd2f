"""The protocol walls of ``bench/walls.py`` replay what a real wall asks (``bench/wallbench/client.py``): pure parts.

From a recorded wall: which requests repeat and how often (a ``dcc.Interval``'s own interval, else the mean gap),
what is left out (one-off requests, other hosts); and the payload a protocol wall sends next: ``n_intervals``
counting up, the gate's ``{n, t}``, and every input or state the server set before taken from its answers, as a
page holds them. The replay itself against a real dashboard is the bench's (``bench/walls.py``).
"""

from __future__ import annotations

import json

import pytest

from bench.wallbench.client import Call, ProtocolWall, Spec, spec_from_recording

BASE = "http://127.0.0.1:8050"
LAYOUT = {"type": "Div", "props": {"children": [
    {"type": "Interval", "namespace": "dash_core_components", "props": {"id": "wall-case-tick", "interval": 1000}},
    {"type": "Div", "props": {"children": {"type": "Interval", "props": {"id": "persons-tick", "interval": 10000}}}},
]}}


def _dash(t: float, output: str, inputs: list, state: list | None = None) -> dict:
    return {"t": t, "method": "POST", "url": f"{BASE}/_dash-update-component",
            "body": json.dumps({"output": output, "inputs": inputs, "state": state or []})}


def _get(t: float, path: str, base: str = BASE) -> dict:
    return {"t": t, "method": "GET", "url": base + path, "body": None}


TICK = [{"id": "wall-case-tick", "property": "n_intervals", "value": 4}]
PERSONS = [{"id": "persons-tick", "property": "n_intervals", "value": 1}]
GATE = [{"id": "wall-refresh-request", "property": "data", "value": {"n": 7, "t": 1}}]


@pytest.mark.parametrize("recording,expect", [
    # an interval-driven callback: the layout's interval, whatever the recorded gaps
    ([_dash(t, "case-feed.children", TICK) for t in (0.0, 1.4, 1.9, 3.2)], {"case-feed.children": 1.0}),
    # seen once in the recording but driven by a 10 s interval: still part of the steady load
    ([_dash(0.5, "persons.children", PERSONS)], {"persons.children": 10.0}),
    # the gated refresh (no interval input): the mean gap of its requests
    ([_dash(t, "..kpi-open-alerts.children...wall-refresh-hashes.data..", GATE) for t in (0, 1.1, 2.0, 3.3)],
     {"kpi-open-alerts.children": 1.1}),
    # a callback sent once without an interval (a click, a first render): left out
    ([_dash(0.2, "alert-detail.className", [{"id": "x", "property": "n_clicks", "value": 1}])], {}),
    # a repeated GET (a camera tile's frame): its mean gap; a GET to another host: left out
    ([_get(t, "/api/cameras/C-1/snapshot.jpg?missing=204") for t in (0, 1, 2)]
     + [_get(t, "/tile.png", "http://elsewhere") for t in (0, 1, 2)],
     {"/api/cameras/C-1/snapshot.jpg": 1.0}),
    # a GET seen twice only: too few to call it repeated
    ([_get(0, "/a"), _get(1, "/a")], {}),
])
def test_spec_from_recording(recording, expect):
    spec = spec_from_recording(recording, LAYOUT, BASE)
    assert {c.name: round(c.period_s, 2) for c in spec.calls} == expect
    assert Spec.from_json(spec.to_json()) == spec


def test_payload_follows_the_page_state():
    body = {"output": "..a.children...wall-refresh-hashes.data..",
            "inputs": [{"id": "wall-refresh-request", "property": "data", "value": {"n": 1, "t": 0}},
                       [{"id": {"type": "crumb", "node": "D1"}, "property": "n_clicks", "value": None}]],
            "state": [{"id": "wall-refresh-hashes", "property": "data", "value": {"feed": "recorded"}},
                      {"id": "city-map-scope", "property": "data", "value": None},
                      {"id": {"type": "x", "n": 1}, "property": "value", "value": "recorded"}]}
    wall = ProtocolWall(BASE, Spec([Call("refresh", 1.0, body=body)]))
    first = json.loads(wall._payload(wall.spec.calls[0], 1))
    assert first["inputs"][0]["value"]["n"] == 1 and first["state"][0]["value"] == {"feed": "recorded"}

    wall._learn(json.dumps({"multi": True, "response": {
        "wall-refresh-hashes": {"data": {"feed": "h2"}}, '{"n":1,"type":"x"}': {"value": "set"}}}).encode())
    nxt = json.loads(wall._payload(wall.spec.calls[0], 2))
    assert nxt["inputs"][0]["value"]["n"] == 2  # the gate's next request
    assert nxt["inputs"][1] == body["inputs"][1]  # a wildcard input: as recorded
    assert nxt["state"][0]["value"] == {"feed": "h2"}  # what the server set last, as the page holds it
    assert nxt["state"][1]["value"] is None  # never set by the server: as recorded
    assert nxt["state"][2]["value"] == "set"  # a dict id, keyed as Dash stringifies it
    assert wall.sent == {"wall-refresh-hashes.data": 1, '{"n":1,"type":"x"}.value': 1}


def test_payload_counts_intervals():
    body = {"output": "case-feed.children", "inputs": TICK, "state": []}
    wall = ProtocolWall(BASE, Spec([Call("cases", 1.0, body=body)]))
    assert [json.loads(wall._payload(wall.spec.calls[0], n))["inputs"][0]["value"] for n in (1, 2, 9)] == [1, 2, 9]
