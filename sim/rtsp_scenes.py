"""Generated camera scenes for the simulator's RTSP server, as raw RGB frames (standard library only).

Kept apart from rtsp_server.py so the drawing can be checked without GStreamer (the project's own Python
has no gi): tests render frames here and run the video pipeline's person detector on them directly.
``quiet`` is a street at dusk with almost no motion (one window light blinks every 3 s); ``figure`` adds a
person (a man cut out of OpenCV's sample video, sim/data/person-*.ppm) who walks in, stands ``stand`` s in
the middle, walks out, and leaves the street empty for ``gap`` s, again and again. Frames repeat a lot, so they are cached by what is in them.
"""

from __future__ import annotations

from pathlib import Path


def _rgb(r: int, g: int, b: int) -> bytes:
    return bytes((r, g, b))


class Canvas:
    """An RGB frame as a bytearray, drawn with horizontal spans (fast enough in pure Python)."""

    def __init__(self, width: int, height: int, data: bytes | None = None):
        self.w, self.h = width, height
        self.data = bytearray(data) if data is not None else bytearray(width * height * 3)

    def span(self, y: int, x0: int, x1: int, color: bytes) -> None:
        x0, x1 = max(0, x0), min(self.w, x1)
        if 0 <= y < self.h and x0 < x1:
            start = (y * self.w + x0) * 3
            self.data[start:start + (x1 - x0) * 3] = color * (x1 - x0)

    def paste(self, y: int, x: int, run: bytes) -> None:
        """RGB pixels ``run`` into row y from column x, clipped to the canvas."""
        n = len(run) // 3
        x0, x1 = max(0, x), min(self.w, x + n)
        if 0 <= y < self.h and x0 < x1:
            start = (y * self.w + x0) * 3
            self.data[start:start + (x1 - x0) * 3] = run[(x0 - x) * 3:(x1 - x) * 3]

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: bytes) -> None:
        for y in range(max(0, y0), min(self.h, y1)):
            self.span(y, x0, x1, color)


def street(width: int, height: int, lit_window: bool = True) -> bytes:
    """A dusk street: facade with windows, sidewalk, road with a dashed lane line."""
    c = Canvas(width, height)
    h = height
    c.rect(0, 0, width, int(0.38 * h), _rgb(52, 52, 62))            # facade
    win_w, win_h = max(4, width // 24), max(4, h // 14)
    for row, y in enumerate(range(int(0.05 * h), int(0.32 * h), win_h * 2)):
        for col, x in enumerate(range(width // 32, width - win_w, win_w * 2)):
            lit = (row * 7 + col * 3) % 5 == 0
            if row == 0 and col == 3:
                lit = lit_window                                     # the one blinking light
            c.rect(x, y, x + win_w, y + win_h, _rgb(190, 170, 100) if lit else _rgb(34, 36, 46))
    c.rect(0, int(0.38 * h), width, int(0.58 * h), _rgb(122, 120, 114))  # sidewalk
    c.rect(0, int(0.58 * h), width, int(0.60 * h), _rgb(150, 150, 150))  # kerb
    c.rect(0, int(0.60 * h), width, h, _rgb(86, 86, 92))                 # road
    dash = max(8, width // 16)
    for x in range(0, width, dash * 2):
        c.rect(x, int(0.80 * h), x + dash, int(0.80 * h) + max(2, h // 90), _rgb(205, 205, 190))
    return bytes(c.data)


DATA = Path(__file__).resolve().parent / "data"
KEY = bytes((255, 0, 255))       # the sprites' transparent colour


def read_ppm(path: Path) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a binary PPM (P6, maxval 255): the one image format the stdlib can read."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:                       # magic, width, height, maxval; no comments in our files
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not a binary 8-bit PPM")
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1:pos + 1 + w * h * 3]


def person_sprite(path: Path, height: int) -> list[tuple[int, int, bytes]]:
    """A person cut out of a real video, scaled to ``height`` (nearest neighbour), as opaque runs
    (dy, dx from the centre line, RGB bytes); the key colour is transparent."""
    w, h, rgb = read_ppm(path)
    width = max(1, round(w * height / h))
    runs = []
    for dy in range(height):
        sy = min(h - 1, dy * h // height)
        row = [rgb[(sy * w + min(w - 1, dx * w // width)) * 3:][:3] for dx in range(width)]
        dx = 0
        while dx < width:
            if row[dx] == KEY:
                dx += 1
                continue
            start = dx
            while dx < width and row[dx] != KEY:
                dx += 1
            runs.append((dy, start - width // 2, b"".join(row[start:dx])))
    return runs


class Scene:
    """Renders RGB frames for a time offset; frames are cached since most of them repeat."""

    KINDS = ("quiet", "figure")

    def __init__(self, kind: str, opts: dict[str, str]):
        if kind not in self.KINDS:
            raise ValueError(f"unknown scene {kind!r} (one of {', '.join(self.KINDS)})")
        size = opts.get("size", "640x360").lower().split("x")
        self.width, self.height = int(size[0]) // 2 * 2, int(size[1]) // 2 * 2
        self.fps = int(opts.get("fps", 25))
        self.kind = kind
        self.stand = float(opts.get("stand", 20))
        self.walk = float(opts.get("walk", 4))
        self.gap = float(opts.get("gap", 4))
        self._bg = {lit: street(self.width, self.height, lit) for lit in (True, False)}
        # A real person (sim/data/person-N.ppm: one man in three steps, cut out of OpenCV's sample vtest.avi
        # and mirrored to face the way he walks), so both detectors find him: SSD ignores drawn silhouettes.
        # Size chosen so OpenCV's HOG finds him in every pose too (640x360 and 1280x720, after coding).
        fig_h = int(self.height * 0.6)
        self._sprites = [person_sprite(DATA / f"person-{n}.ppm", fig_h) for n in range(3)]  # standing, strides
        self._feet = int(self.height * 0.86)
        self._fig_top = self._feet - fig_h
        self._cache: dict[tuple, bytes] = {}

    @property
    def period(self) -> float:
        """Seconds of one figure cycle: walk in, stand, walk out, empty street."""
        return 2 * self.walk + self.stand + self.gap

    def render(self, t: float) -> bytes:
        """The RGB frame (width*height*3 bytes) at ``t`` seconds into the scene."""
        lit = int(t / 3.0) % 2 == 0
        key: tuple = (lit,)
        if self.kind == "figure":
            pose = self.pose(t)
            if pose is not None:
                key = (lit, *pose)
        frame = self._cache.get(key)
        if frame is None:
            if len(self._cache) > 64:
                self._cache.clear()
            frame = self._draw(key)
            self._cache[key] = frame
        return frame

    def pose(self, t: float) -> tuple[int, int] | None:
        """(centre x, sprite index) of the figure at time t, or None while the street is empty."""
        t %= self.period
        margin = self.width // 8
        centre, left, right = self.width // 2, -margin, self.width + margin
        step = 1 + int(t * 4) % 2
        if t < self.walk:
            return int(left + (centre - left) * t / self.walk), step
        if t < self.walk + self.stand:
            return centre, 0
        if t < 2 * self.walk + self.stand:
            frac = (t - self.walk - self.stand) / self.walk
            return int(centre + (right - centre) * frac), step
        return None

    def person_box(self, t: float) -> tuple[float, float, float, float] | None:
        """The person's box (x0, y0, x1, y1, normalised) at ``t``, clipped to the frame; None unless at least half
        of him is in view (the labelling rule for a person cut by the frame's edge)."""
        pose = self.pose(t)
        if pose is None:
            return None
        cx, sprite = pose
        runs = self._sprites[sprite]
        x0 = cx + min(dx for _dy, dx, _run in runs)
        x1 = cx + max(dx + len(run) // 3 for _dy, dx, run in runs)
        full = x1 - x0
        x0, x1 = max(0, x0), min(self.width, x1)
        if x1 - x0 < full / 2:
            return None
        return x0 / self.width, self._fig_top / self.height, x1 / self.width, self._feet / self.height

    def _draw(self, key: tuple) -> bytes:
        canvas = Canvas(self.width, self.height, self._bg[key[0]])
        if len(key) == 3:
            cx, sprite = key[1], key[2]
            for dy, dx0, run in self._sprites[sprite]:
                canvas.paste(self._fig_top + dy, cx + dx0, run)
        return bytes(canvas.data)
