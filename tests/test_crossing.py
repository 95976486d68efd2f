"""The entrance line crossing counter (ingest/video/crossing.py): table-driven walks and properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.video.crossing import CrossingCounter, Line, lines_of, summary

# A horizontal gate across the whole width at y = 0.5; "in" is below it (screen-right of a -> b, y down).
GATE = {"gate": {"a": [0.0, 0.5], "b": [1.0, 0.5], "in": "right"}}
# A short gate in the middle, in is above it (screen-left of a -> b).
SHORT = {"door": {"a": [0.4, 0.5], "b": [0.6, 0.5], "in": "left"}}


def walk(lines: dict, *paths: list[tuple[float, float]], band: float = 0.02) -> dict[str, dict[str, int]]:
    """Run tracks 1, 2, … along their paths, one point per frame (a shorter path ends early)."""
    counter = CrossingCounter(lines_of(lines), band=band)
    for frame in range(max(len(p) for p in paths)):
        feet = {i + 1: p[frame] for i, p in enumerate(paths) if frame < len(p)}
        counter.update(feet, float(frame))
    return counter.totals


def ys(*values: float, x: float = 0.5) -> list[tuple[float, float]]:
    return [(x, y) for y in values]


CASES = [  # (case, lines, paths, expected totals)
    ("walks in", GATE, [ys(0.2, 0.4, 0.6, 0.8)], {"gate": {"in": 1, "out": 0}}),
    ("walks out", GATE, [ys(0.8, 0.6, 0.4, 0.2)], {"gate": {"in": 0, "out": 1}}),
    ("one big step over the line", GATE, [ys(0.1, 0.9)], {"gate": {"in": 1, "out": 0}}),
    ("stands on the line, jittering", GATE, [ys(0.3, 0.49, 0.51, 0.495, 0.515, 0.505, 0.49, 0.51)],
     {"gate": {"in": 0, "out": 0}}),
    ("steps onto the line and turns back", GATE, [ys(0.3, 0.45, 0.51, 0.515, 0.45, 0.3)],
     {"gate": {"in": 0, "out": 0}}),
    ("crosses, turns back, crosses again", GATE, [ys(0.3, 0.6, 0.7, 0.4, 0.3, 0.6)],
     {"gate": {"in": 2, "out": 1}}),
    ("first seen on the line, walks in", GATE, [ys(0.5, 0.51, 0.7, 0.9)], {"gate": {"in": 0, "out": 0}}),
    ("two people opposite ways", GATE, [ys(0.2, 0.4, 0.6), ys(0.9, 0.7, 0.45, 0.3)],
     {"gate": {"in": 1, "out": 1}}),
    ("through a short gate (in is above)", SHORT, [ys(0.7, 0.55, 0.45, 0.3)], {"door": {"in": 1, "out": 0}}),
    ("round the end of a short gate", SHORT, [[(0.5, 0.7), (0.9, 0.7), (0.9, 0.3), (0.5, 0.3)]],
     {"door": {"in": 0, "out": 0}}),
    ("round the end, then back through it", SHORT, [[(0.5, 0.7), (0.9, 0.7), (0.9, 0.3), (0.5, 0.3),
                                                     (0.5, 0.7)]], {"door": {"in": 0, "out": 1}}),
    ("diagonal through the gate", SHORT, [[(0.3, 0.6), (0.45, 0.52), (0.55, 0.48), (0.7, 0.4)]],
     {"door": {"in": 1, "out": 0}}),
    ("wide band swallows a small step", GATE, [ys(0.45, 0.56)], {"gate": {"in": 0, "out": 0}}),
]


@pytest.mark.parametrize(("case", "lines", "paths", "expected"), CASES, ids=[c[0] for c in CASES])
def test_crossings(case, lines, paths, expected):
    band = 0.1 if case.startswith("wide band") else 0.02
    assert walk(lines, *paths, band=band) == expected


def test_update_returns_the_new_crossings_and_summary_groups_them():
    counter = CrossingCounter(lines_of({**GATE, **SHORT}))
    assert counter.update({7: (0.5, 0.7)}, 0.0) == []
    got = counter.update({7: (0.5, 0.3)}, 1.0)
    assert [(c.line, c.direction, c.track_id, c.ts) for c in got] == [("door", "in", 7, 1.0), ("gate", "out", 7, 1.0)]
    assert summary(got) == {"door": {"in": 1}, "gate": {"out": 1}}


def test_a_camera_without_lines_counts_nothing():
    counter = CrossingCounter([])
    assert counter.update({1: (0.5, 0.5)}, 0.0) == [] and counter.totals == {}


def test_forgotten_tracks_are_dropped():
    counter = CrossingCounter(lines_of(GATE), forget_s=5.0)
    for i in range(200):
        counter.update({i: (0.5, 0.2)}, float(i))
    assert len(counter._sides) <= 64 + 6


def test_line_sides():
    ln = Line.of("g", GATE["gate"])
    assert ln.offset((0.5, 0.9)) > 0 > ln.offset((0.5, 0.1))  # right of a->b on screen (below) is in
    left = Line.of("g", {**GATE["gate"], "in": "left"})
    assert left.offset((0.5, 0.9)) < 0 < left.offset((0.5, 0.1))


# ---------------------------------------------------------------- properties
_X = st.floats(0.0, 1.0, allow_nan=False)
_Y = st.floats(0.0, 1.0, allow_nan=False)
_BAND = 0.02


def _side(y: float) -> int:
    return 0 if abs(y - 0.5) <= _BAND else (1 if y > 0.5 else -1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_X, _Y), min_size=1, max_size=40))
def test_net_count_is_the_change_of_side(path):
    """On a full-width line, in - out is +1/-1/0 by where the track was first and last seen off the line."""
    totals = walk(GATE, path, band=_BAND)["gate"]
    sides = [s for s in (_side(y) for _, y in path) if s]
    net = totals["in"] - totals["out"]
    if not sides or sides[0] == sides[-1]:
        assert net == 0  # ended on the side it started: nothing net
    else:
        assert net == sides[-1]
    # and every confirmed flip of side is one crossing
    flips = sum(1 for a, b in itertools.pairwise(sides) if a != b)
    assert totals["in"] + totals["out"] == flips


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 30), start_in=st.booleans(), jitter=st.lists(st.floats(-0.9 * _BAND, 0.9 * _BAND), max_size=5),
       x=st.floats(0.05, 0.95))
def test_back_and_forth_n_times_counts_exactly(n, start_in, jitter, x):
    """N crossings with dwelling on the line in between count exactly N, alternating in and out."""
    far = 0.8 if start_in else 0.2
    other = 1.0 - far
    path = [(x, far)]
    for i in range(n):
        path += [(x, 0.5 + j) for j in jitter]  # stand on the line a while
        path.append((x, other if i % 2 == 0 else far))
    totals = walk(GATE, path, band=_BAND)["gate"]
    first, second = (n + 1) // 2, n // 2
    assert totals == ({"in": second, "out": first} if start_in else {"in": first, "out": second})
