"""Generated camera scenes for the simulator's RTSP server, as raw RGB frames (standard library only).

Kept apart from rtsp_server.py so the drawing can be checked without GStreamer (the project's own Python
has no gi): tests render frames here and run the video pipeline's person detector on them directly.
``quiet`` is a street at dusk with almost no motion (one window light blinks every 3 s); ``figure`` adds a
person-like figure that walks in, stands ``stand`` s in the middle, walks out, and leaves the street empty
for ``gap`` s, again and again. Frames repeat a lot, so they are cached by what is in them.
"""

from __future__ import annotations


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


def figure_sprite(height: int, stride: float) -> list[tuple[int, int, int, bytes]]:
    """A person-like silhouette as (dy, dx0, dx1, colour) spans around its centre line; stride in head units."""
    u = height / 8.0                      # one head height; a standing adult is about eight heads tall
    skin, hair = _rgb(212, 172, 140), _rgb(32, 26, 22)
    shirt, pants, shoes = _rgb(172, 48, 44), _rgb(36, 42, 72), _rgb(18, 18, 18)
    spans = []
    for dy in range(height):
        y = dy / u
        if y < 1.0:                                                  # head: an ellipse
            half = 0.38 * u * max(0.0, 1 - ((y - 0.5) / 0.5) ** 2) ** 0.5
            spans.append((dy, int(-half), int(half) + 1, hair if y < 0.3 else skin))
        elif y < 1.2:                                                # neck
            spans.append((dy, int(-0.16 * u), int(0.16 * u) + 1, skin))
        elif y < 4.2:                                                # torso with arms at the sides
            t = (y - 1.2) / 3.0
            half = (1.0 - 0.2 * t) * 0.62 * u if y > 1.45 else 0.5 * u
            spans.append((dy, int(-half), int(half), shirt))
            if y > 1.35:
                arm = skin if y > 3.7 else shirt
                for side in (-1, 1):
                    inner = half + 0.08 * u
                    x0, x1 = (inner, inner + 0.3 * u) if side > 0 else (-inner - 0.3 * u, -inner)
                    spans.append((dy, int(x0), int(x1), arm))
        else:                                                        # legs, apart by the stride
            t = (y - 4.2) / 3.8
            colour = shoes if y > 7.7 else pants
            if y < 4.6:
                spans.append((dy, int(-0.5 * u), int(0.5 * u), pants))
                continue
            for side in (-1, 1):
                centre = side * (0.28 * u + stride * u * t)
                w = 0.26 * u if colour is pants else 0.34 * u
                x0, x1 = centre - w, centre + w
                if colour is shoes:
                    x1 += 0.2 * u
                spans.append((dy, int(x0), int(x1), colour))
    return spans


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
        # Proportions and size tuned so OpenCV's default HOG people detector finds the figure in every
        # pose (640x360 and 1280x720, after JPEG compression); the quiet street gives no detection.
        fig_h = int(self.height * 0.6)
        self._sprites = [figure_sprite(fig_h, s) for s in (0.2, 0.45, 0.15)]   # standing, two strides
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

    def _draw(self, key: tuple) -> bytes:
        canvas = Canvas(self.width, self.height, self._bg[key[0]])
        if len(key) == 3:
            cx, sprite = key[1], key[2]
            for dy, dx0, dx1, colour in self._sprites[sprite]:
                canvas.span(self._fig_top + dy, cx + dx0, cx + dx1, colour)
        return bytes(canvas.data)
