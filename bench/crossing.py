"""What the entrance-line crossing counter costs per analysed frame, against the rest of the analysis in the
same run (issue #18: it should be lost in the noise).

Both sides are measured on the same frames of the generated entrance scene (``sim/entrance.py``) at 5 fps:

- the baseline: what an analysed frame costs without lines (the tracker and the zone counter fed with the
  scene's ground-truth boxes, i.e. the analysis minus the detector, the cheapest it gets);
- the counter: ``CrossingCounter.update`` on the same tracks, with ``--lines`` lines on the camera.

The detector (ssd: ~21 ms per frame, see docs/video.md) is left out of the baseline on purpose, so the
ratio printed is an upper bound of the counter's share. Its cost inside the whole camera pipeline is in
``bench/video.py`` (``crossing_us``, ``crossing_share``); this one stresses the counter with many walkers and lines. Last line:
``RESULT counter_us_per_frame=… baseline_us_per_frame=… ratio=…``.

    python bench/crossing.py [--quick] [--lines 2] [--people 20]
"""

from __future__ import annotations

import argparse
import time

from ingest.video.crossing import CrossingCounter, lines_of
from ingest.video.detectors import Box
from ingest.video.tracker import Tracker
from ingest.video.zones import ZoneCounter, zone_polygons
from onescreen.settings import VideoSettings
from sim.entrance import KINDS, LINE, EntranceScript


def frames(people: int, fps: float) -> list[tuple[float, list[Box]]]:
    """The scene's ground truth as detector boxes (a body 0.5 of the frame high over each foot point)."""
    kinds = sorted(KINDS)
    script = EntranceScript.of([kinds[i % len(kinds)] for i in range(people)], gap_s=-2.0)  # overlapping walkers
    out = []
    for t, feet in script.tracks(fps):
        out.append((t, [Box(x - 0.05, y - 0.5, x + 0.05, y) for x, y in feet.values()]))
    return out


def run(seq: list[tuple[float, list[Box]]], n_lines: int, rounds: int) -> tuple[float, float]:
    cfg = VideoSettings()
    lines = {f"g{i}": {**LINE, "a": [0.02, 0.7 + 0.02 * i], "b": [0.98, 0.7 + 0.02 * i]} for i in range(n_lines)}
    base_s = count_s = 0.0
    n = 0
    for _ in range(rounds):
        tracker = Tracker(cfg.track_iou, cfg.track_gap_s, cfg.track_reassoc, cfg.track_hold_s)
        zones = ZoneCounter(zone_polygons({}), cfg.track_gap_s, cfg.track_reassoc)
        counter = CrossingCounter(lines_of(lines), cfg.line_band)
        for t, boxes in seq:
            t0 = time.perf_counter()
            tracks = tracker.update(boxes, t)
            zones.update(tracks, t)
            t1 = time.perf_counter()
            counter.update({tr.id: tr.box.foot for tr in tracks}, t)
            t2 = time.perf_counter()
            base_s += t1 - t0
            count_s += t2 - t1
            n += 1
    return 1e6 * count_s / n, 1e6 * base_s / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a few seconds)")
    ap.add_argument("--lines", type=int, default=2)
    ap.add_argument("--people", type=int, default=20)
    args = ap.parse_args()
    seq = frames(args.people, 5.0)
    counter_us, base_us = run(seq, args.lines, 5 if args.quick else 40)
    print(f"{len(seq)} frames, {args.people} walkers, {args.lines} lines")
    print(f"tracker + zones (baseline, no detector): {base_us:.1f} us/frame; crossing counter: {counter_us:.1f} us/frame")
    print(f"RESULT counter_us_per_frame={counter_us:.1f} baseline_us_per_frame={base_us:.1f} "
          f"ratio={counter_us / base_us:.3f}")


if __name__ == "__main__":
    main()
