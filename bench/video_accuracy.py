"""Person detectors against the hand labels of the project's own video: the table in docs/video.md.

Decodes the labelled frames of OpenCV's vtest.avi (Debian's opencv-doc; labels in
tests/data/vtest_labels.json: counts and boxes for 14 frames, 85 people) and runs each detector on them:
per frame the labelled count, the count found and the labelled boxes found at IoU >= 0.5; then the mean
absolute count error, recall, and the CPU ms per frame (one thread). ``--big`` also runs ssd on the frames
made a 1080p camera (scaled to 1440x1080, centred in 1920x1080), tiled and not.

    python bench/video_accuracy.py [--quick] [--big]

Last line: ``RESULT ssd_mae=… ssd_recall=… ssd_ms=… hog_mae=… hog_recall=… hog_ms=…``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.video.detectors import make_detector  # noqa: E402
from ingest.video.detectors.accuracy import Score  # noqa: E402
from onescreen.settings import VideoSettings  # noqa: E402
from sim.streams import VTEST, VTEST_INSTALL  # noqa: E402

LABELS = REPO / "tests" / "data" / "vtest_labels.json"


def frames() -> list[tuple[dict, np.ndarray]]:
    want = {f["index"]: f for f in json.loads(LABELS.read_text())["frames"]}
    cap, out, i = cv2.VideoCapture(str(VTEST)), [], 0
    while want:
        ok, frame = cap.read()
        if not ok:
            raise SystemExit(f"{VTEST} ended before frame {min(want)}")
        if i in want:
            out.append((want.pop(i), frame))
        i += 1
    return out


def run(name: str, labelled: list[tuple[dict, np.ndarray]], **cfg) -> tuple[Score, float, list[tuple]]:
    detector = make_detector(VideoSettings(detector=name, **cfg))
    total, rows, cpu = Score(), [], 0.0
    for label, frame in labelled:
        h, w = frame.shape[:2]
        t0 = time.thread_time()
        boxes = detector.detect(frame)
        cpu += time.thread_time() - t0
        found = [[b.x0 * w, b.y0 * h, b.x1 * w, b.y1 * h] for b in boxes]
        hits = total.hits
        total.add(label["persons"], label["boxes"], found)
        rows.append((label["index"], label["persons"], len(found), total.hits - hits))
    return total, 1000 * cpu / len(labelled), rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="(the run is short anyway)")
    parser.add_argument("--big", action="store_true", help="also the 1080p tiling comparison")
    args = parser.parse_args(argv)
    if not VTEST.is_file():
        raise SystemExit(f"{VTEST} absent: {VTEST_INSTALL}")
    labelled = frames()
    results = {name: run(name, labelled) for name in ("ssd", "hog")}
    print("| frame | people (label) | ssd found | ssd boxes hit | HOG found | HOG boxes hit |")
    print("|---|---|---|---|---|---|")
    for (idx, persons, s_found, s_hits), (_i, _p, h_found, h_hits) in zip(results["ssd"][2], results["hog"][2]):
        print(f"| {idx} | {persons} | {s_found} | {s_hits} | {h_found} | {h_hits} |")
    for name, (score, ms, _rows) in results.items():
        print(f"{name}: MAE {score.mae:.2f} per frame, recall@0.5 {score.recall:.2f} ({score.hits}/{score.boxed}), "
              f"found {score.found} of {score.persons}, {ms:.0f} ms CPU per 768x576 frame")
    if args.big:
        for tile_px in (960, 0):
            detector = make_detector(VideoSettings(detector="ssd", ssd_tile_px=tile_px))
            total = Score()
            for label, frame in labelled:
                canvas = np.zeros((1080, 1920, 3), np.uint8)
                canvas[:, 240:1680] = cv2.resize(frame, (1440, 1080))
                k = 1080 / frame.shape[0]
                found = [[(b.x0 * 1920 - 240) / k, b.y0 * 1080 / k, (b.x1 * 1920 - 240) / k, b.y1 * 1080 / k]
                         for b in detector.detect(canvas)]
                total.add(label["persons"], label["boxes"], found)
            print(f"1080p, ssd_tile_px={tile_px}: {detector.passes / total.frames:.0f} passes a frame, "
                  f"MAE {total.mae:.2f}, recall@0.5 {total.recall:.2f}")
    (s, s_ms, _), (h, h_ms, _) = results["ssd"], results["hog"]
    print(f"RESULT ssd_mae={s.mae:.2f} ssd_recall={s.recall:.2f} ssd_ms={s_ms:.0f} "
          f"hog_mae={h.mae:.2f} hog_recall={h.recall:.2f} hog_ms={h_ms:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
