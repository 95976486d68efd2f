"""The generated entrance scene (sim/entrance.py): the crossing counter is exact on its ground-truth tracks, and
through the real detector path (rendered frames -> the default detector ssd -> tracker -> counter, the Analyser
the worker runs) on the whole scene: both directions, the loiterer swaying on the line, the one who steps onto it
and turns back, the one going back and forth.

What it takes (docs/video.md, "Entrance lines"): ssd's box bottoms sit 0-0.035 of the frame height above the drawn
feet (the strides), so the line's band is 0.04 (it was 0.02: the one turning back, 0.012 past the line, was
counted out and in); and the walkers are further apart than the tracker's gap (sim/entrance.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.video.crossing import CrossingCounter, lines_of
from onescreen.settings import VideoSettings
from sim.entrance import KINDS, LINE, EntranceScene, EntranceScript


def count(script: EntranceScript, fps: float) -> dict[str, int]:
    counter = CrossingCounter(lines_of({"gate": LINE}), VideoSettings().line_band)
    for t, feet in script.tracks(fps):
        counter.update(feet, t)
    return counter.totals["gate"]


@pytest.mark.parametrize("fps", [2.0, 5.0, 12.5, 25.0])
def test_counter_is_exact_on_the_default_scene(fps):
    script = EntranceScript.default()
    assert (script.expected_in, script.expected_out) == (7, 4)
    assert count(script, fps) == {"in": 7, "out": 4}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_alone(kind):
    script = EntranceScript.of([kind])
    assert count(script, 5.0) == {"in": script.expected_in, "out": script.expected_out}


@settings(max_examples=40, deadline=None)
@given(kinds=st.lists(st.sampled_from(sorted(KINDS)), max_size=12), fps=st.sampled_from([2.0, 3.0, 5.0, 10.0]))
def test_any_script_counts_exactly(kinds, fps):
    script = EntranceScript.of(kinds)
    assert count(script, fps) == {"in": script.expected_in, "out": script.expected_out}


def test_render_draws_the_figures_on_the_street():
    script = EntranceScript.of(["in"])
    scene = EntranceScene(script, 320, 180)
    empty, busy = scene.render(0.0), scene.render(1.5)
    assert len(empty) == len(busy) == 320 * 180 * 3
    assert empty != busy and empty == scene.render(script.duration + 1)


# ---------------------------------------------------------------- through the detector
def detector_count(script: EntranceScript, fps: float) -> dict[str, int]:
    """Render the script at ``fps`` and count through the worker's Analyser with the default settings (ssd)."""
    import numpy as np

    from ingest.video.analysis import Analyser
    from ingest.video.detectors import make_detector

    cfg = VideoSettings()
    assert cfg.detector == "ssd"
    analyser = Analyser(cfg, make_detector(cfg), {}, lines={"gate": LINE})
    scene = EntranceScene(script)
    t0 = 1_800_000_000.0
    for t, _feet in script.tracks(fps):
        rgb = np.frombuffer(scene.render(t), np.uint8).reshape(scene.height, scene.width, 3)
        analyser.process(np.ascontiguousarray(rgb[:, :, ::-1]), t0 + t)
    # the counter's own CPU (bench/video.py reports it per analysed frame) is clocked: some, far below the detector's
    assert 0 < analyser.stats.crossing_cpu_s < analyser.stats.detect_cpu_s / 50
    return analyser.lines.totals["gate"]


@pytest.mark.parametrize("kinds, fps", [
    (["loiter", "turn_back", "back_and_forth", "in", "out"], 5.0),  # each kind once, at the default analysis rate
    (["out", "in", "back_and_forth", "turn_back", "loiter"], 2.0),  # the other way round, at a low rate
], ids=["5fps", "2fps"])
def test_detector_path_counts_exactly(kinds, fps):
    """Each kind once (a short scene: the detector costs ~21 ms a frame); the default scene passes too (docs)."""
    script = EntranceScript.of(kinds)
    assert detector_count(script, fps) == {"in": script.expected_in, "out": script.expected_out}


# ---------------------------------------------------------------- onescreen sim scenario entrance_surge
def test_entrance_surge_scenario_feeds_the_rule_and_the_hourly_counts(settings, redis_client):
    """The scenario writes what ingest-video writes; the rule (all-day hours here) raises on it."""
    import orjson

    from alerts.config import parse_rules
    from alerts.rules import RULES, RuleContext, RuleState
    from ingest.video.entrances import read_hours
    from onescreen import names
    from sim.city import SimCity
    from sim.citygen import generate_city
    from sim.scenarios import SCENARIOS, run_scenario
    from tests.city_fixtures import SMALL

    assert "entrance_surge" in SCENARIOS
    city = SimCity.from_bundle(generate_city(seed=11, **SMALL))
    gated = [c for c in city.cameras if c.lines]
    assert gated and all(c.lines == ("gate",) and c.district_id for c in gated)  # door cameras have a gate line
    out: list[str] = []
    sc = run_scenario(settings, "entrance_surge", duration=0.6, city=city, out=out.append, seed=3, persons=31)
    assert sc.published == 31 and "entrance_surge" in out[0] and f"{sc.camera.id}/gate" in out[0]
    stream = names.event_stream(names.VIDEO, names.partition_of(sc.camera.community_id, settings.redis.partitions))
    docs = [orjson.loads(f[b"d"]) for _id, f in redis_client.xrange(stream)]
    assert len(docs) == 31 and all(d["crossings"] == {"gate": {"in": 1}} for d in docs)
    assert docs[0]["district_id"] == sc.camera.district_id and docs[0]["cell_id"] == sc.camera.cell_id

    ctx = RuleContext(None, parse_rules({"rules": {"entrance_surge": {"start": "00:00", "end": "00:00"}}}))
    state, decided = RuleState(), []
    for d in docs:
        decided += RULES["entrance_surge"].on_event(state, d, ctx)
    assert [(x.action, x.subject.key, x.evidence["crossings"]) for x in decided] == [
        ("raise", f"camera_zone:{sc.camera.id}/gate", 30)]

    from datetime import datetime
    hour = datetime.fromtimestamp(docs[-1]["ts"] / 1000, sc.ctx.tz).strftime("%Y%m%d%H")
    hours = read_hours(redis_client, sc.camera.community_id, [hour])
    first = datetime.fromtimestamp(docs[0]["ts"] / 1000, sc.ctx.tz).strftime("%Y%m%d%H")
    if first == hour:  # (unless the run straddled an hour)
        assert hours[0].gates == {f"{sc.camera.id}/gate": {"in": 31, "out": 0}} and hours[0].total_in == 31


# ---------------------------------------------------------------- the hook in ingest-video
def test_the_video_pipeline_counts_a_walker_through_the_gate(redis_server, redis_client):
    """The default detector (ssd) + tracker + counter in the camera pipeline on rendered frames of one walker going
    in: the frame's document carries the crossing and the community's hourly counts hold it."""
    import numpy as np
    import orjson

    from ingest.video.detectors import make_detector
    from ingest.video.entrances import read_hours
    from ingest.video.pipeline import CameraPipeline
    from ingest.video.publish import Publisher
    from onescreen import names
    from onescreen.events import Place
    from onescreen.registry.cache import CameraInfo
    from onescreen.settings import load_settings

    s = load_settings(redis={"url": redis_server.url})
    cam = CameraInfo("C-GATE", "G1", "gate", 0.0, 0.0, "rtsp://unused", None, None, True, 25.0, {},
                     {"gate": LINE})
    place = Place(cell_id="G1", community_id="M1", district_id="D1", lat=0.0, lon=0.0)
    pipe = CameraPipeline(cam, place, s.video, make_detector(s.video), Publisher(redis_client, s))
    script = EntranceScript.of(["in"])
    scene = EntranceScene(script)
    t0 = 1_800_000_000.0
    for t, _feet in script.tracks(5.0):
        rgb = np.frombuffer(scene.render(t), np.uint8).reshape(scene.height, scene.width, 3)
        pipe.on_frame(np.ascontiguousarray(rgb[:, :, ::-1]), t0 + t)
    pipe.appender.close()
    assert pipe.analyser.lines.totals == {"gate": {"in": 1, "out": 0}}
    docs = [orjson.loads(f[b"d"]) for _id, f in redis_client.xrange(pipe.stream)]
    assert [d["crossings"] for d in docs if "crossings" in d] == [{"gate": {"in": 1}}]
    from ingest.video.entrances import local_hour

    (hour,) = read_hours(redis_client, "M1", [local_hour(t0, pipe.publisher.zone)])
    assert hour.gates == {"C-GATE/gate": {"in": 1, "out": 0}} and hour.total_in == 1
    assert names.entrance_hourly("M1", hour.hour) in {k.decode() for k in redis_client.keys("os:ent:*")}
