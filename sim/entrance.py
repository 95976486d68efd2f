"""A generated entrance scene: figures cross a gate line in known numbers each way (issue #18).

The scene is a script of walkers, each a piecewise-linear path of its foot point in normalised image
coordinates over time, so the truth is known exactly: how many went in, how many out. Besides plain walkers
in and out it holds the hard cases of counting: a loiterer who stands on the line (with the jitter of a
detector's box) and leaves on the side they came from, one who steps onto the line and turns back, and one
who crosses back and forth. ``tracks(fps)`` gives the ground-truth foot points per frame (what a perfect
detector and tracker would hand the crossing counter); ``render(t)`` draws the frame (RGB bytes, the same
street and figure as ``rtsp_scenes``) for the detector path.

Walkers appear and vanish in the middle of the view (their sprite is cut at no edge), so consecutive walkers
are ``GAP_S`` apart, longer than the tracker's ``video.track_gap_s``: with a shorter gap the tracker takes the
next walker, appearing within a body height of where the last one vanished, for the same person (boxes alone
cannot tell them apart), and that jump across the line is a crossing nobody made. Real people leave the view at
its edges, so this is the scene's artefact, not a case to count.

The gate line is horizontal at ``LINE_Y`` across the view; "in" is below it (towards the camera), i.e. the
screen-right of a -> b: ``LINE``, as it is written in cameras.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.rtsp_scenes import DATA, Canvas, person_sprite, street

LINE_Y = 0.75
LINE = {"a": [0.02, LINE_Y], "b": [0.98, LINE_Y], "in": "right"}
FAR, NEAR = 0.58, 0.94          # foot y before and after the line
WALK_S = 3.0                     # seconds from FAR to NEAR
GAP_S = 3.5                      # seconds between walkers: more than video.track_gap_s (3), see above


@dataclass(frozen=True, slots=True)
class Walker:
    """One figure: its kind, x position, and foot y waypoints ``[(t, y), ...]`` (t in scene seconds)."""

    kind: str
    x: float
    path: tuple[tuple[float, float], ...]

    @property
    def start(self) -> float:
        return self.path[0][0]

    @property
    def end(self) -> float:
        return self.path[-1][0]

    def foot(self, t: float) -> tuple[float, float] | None:
        """The foot point at ``t``, or None when the walker is not in view."""
        if t < self.start or t > self.end:
            return None
        for (t0, y0), (t1, y1) in zip(self.path, self.path[1:]):
            if t0 <= t <= t1:
                k = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
                return self.x, y0 + k * (y1 - y0)
        return self.x, self.path[-1][1]


# kind -> (foot y waypoints as (seconds after start, y), crossings in, crossings out)
KINDS: dict[str, tuple[tuple[tuple[float, float], ...], int, int]] = {
    "in": (((0, FAR), (WALK_S, NEAR)), 1, 0),
    "out": (((0, NEAR), (WALK_S, FAR)), 0, 1),
    # walks up to the line, stands on it swaying ±0.008 for a while, walks back: nothing
    "loiter": (((0, FAR), (1.5, LINE_Y - 0.005), (2.5, LINE_Y + 0.008), (3.5, LINE_Y - 0.008),
                (4.5, LINE_Y + 0.008), (5.5, LINE_Y - 0.004), (7.0, FAR)), 0, 0),
    # steps onto the line (just past it, inside the band) and turns back: nothing
    "turn_back": (((0, NEAR), (1.8, LINE_Y - 0.012), (2.3, LINE_Y - 0.012), (4.0, NEAR)), 0, 0),
    # in, out, in again
    "back_and_forth": (((0, FAR), (WALK_S, NEAR), (2 * WALK_S, FAR), (3 * WALK_S, NEAR)), 2, 1),
}


@dataclass(slots=True)
class EntranceScript:
    """A sequence of walkers with the counts they must give; walkers follow each other, one in view at a time."""

    walkers: list[Walker] = field(default_factory=list)
    expected_in: int = 0
    expected_out: int = 0

    @classmethod
    def of(cls, kinds: list[str], gap_s: float = GAP_S) -> EntranceScript:
        """Walkers of these kinds one after the other, ``gap_s`` apart, at varying x."""
        script = cls()
        t = 0.5
        for i, kind in enumerate(kinds):
            path, n_in, n_out = KINDS[kind]
            x = 0.3 + 0.4 * ((i * 0.37) % 1.0)
            script.walkers.append(Walker(kind, x, tuple((t + dt, y) for dt, y in path)))
            script.expected_in += n_in
            script.expected_out += n_out
            t += path[-1][0] + gap_s
        return script

    @classmethod
    def default(cls) -> EntranceScript:
        """5 in, 3 out, a loiterer on the line, one turning back, one back and forth: 7 in, 4 out."""
        return cls.of(["in", "out", "loiter", "in", "in", "turn_back", "out", "back_and_forth", "in", "out",
                       "in"])

    @property
    def duration(self) -> float:
        return max((w.end for w in self.walkers), default=0.0) + 0.5

    def feet(self, t: float) -> dict[int, tuple[float, float]]:
        """Ground truth at ``t``: walker number (1-based, a perfect tracker's id) -> foot point."""
        out = {}
        for i, w in enumerate(self.walkers, 1):
            p = w.foot(t)
            if p is not None:
                out[i] = p
        return out

    def tracks(self, fps: float) -> list[tuple[float, dict[int, tuple[float, float]]]]:
        """``(t, feet)`` for every frame at ``fps`` over the whole script."""
        n = int(self.duration * fps) + 1
        return [(i / fps, self.feet(i / fps)) for i in range(n)]


class EntranceScene:
    """Draws a script's frames: the dusk street with the figures standing on their foot points."""

    def __init__(self, script: EntranceScript, width: int = 640, height: int = 360):
        self.script, self.width, self.height = script, width, height
        self._bg = street(width, height, True)
        self._fig_h = int(height * 0.6)
        self._sprites = [person_sprite(DATA / f"person-{n}.ppm", self._fig_h) for n in range(3)]  # standing, strides

    def render(self, t: float) -> bytes:
        """The RGB frame (width*height*3 bytes) at ``t`` seconds into the script."""
        canvas = Canvas(self.width, self.height, self._bg)
        for _, (x, y) in sorted(self.script.feet(t).items()):
            sprite = self._sprites[1 + int(t * 4) % 2]
            cx, top = int(x * self.width), int(y * self.height) - self._fig_h
            for dy, dx, run in sprite:
                canvas.paste(top + dy, cx + dx, run)
        return bytes(canvas.data)
