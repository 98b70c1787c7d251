"""Sample pictures the app draws itself, so the repository ships no binary images.

Each is a 1024x768 JPEG painted with numpy and OpenCV from fixed seeds (the same bytes every
run), made to have clear regions of distinct colours for classification, colour models and
segmentation. Clarifai's own sample photo is referenced by URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

import cv2
import numpy as np

from components.colors import Color
from components.images.preparation import PreparedImage, PrepareOptions, prepare_upload
from components.memory import one_at_a_time

CLARIFAI_SAMPLE_URL = "https://samples.clarifai.com/metro-north.jpg"
SAMPLE_WIDTH, SAMPLE_HEIGHT = 1024, 768
_JPEG_QUALITY = 92
_AA = cv2.LINE_AA


@dataclass(frozen=True)
class Sample:
    key: str
    title: str
    description: str

    @property
    def file_name(self) -> str:
        return f"sample-{self.key}.jpg"


SAMPLES: tuple[Sample, ...] = (
    Sample("street", "City street", "Coloured houses, cars, trees and a traffic light on a sunny street."),
    Sample("sunset", "Sunset at sea", "A sun low over the sea, a purple-to-orange sky and dark hills."),
    Sample("fruit", "Fruit on a table", "Apples, oranges, a lemon, grapes and a banana on a wooden table."),
    Sample("balloons", "Hot-air balloons", "Striped balloons in a blue sky with clouds over green hills."),
)
SAMPLES_BY_KEY = {sample.key: sample for sample in SAMPLES}


@one_at_a_time
@cache
def sample_bytes(key: str) -> bytes:
    """The sample's JPEG bytes (made once per process)."""
    return render_sample_jpeg(key)


@one_at_a_time
@lru_cache(maxsize=32)
def prepare_sample(key: str, options: PrepareOptions = PrepareOptions()) -> PreparedImage:
    """The sample prepared like an upload (source "sample"); PreparedImage is immutable."""
    sample = _sample(key)
    return prepare_upload(sample.file_name, sample_bytes(key), options, source="sample")


def render_sample_jpeg(key: str) -> bytes:
    """Paint the sample and encode it as JPEG (uncached; deterministic)."""
    painter = _PAINTERS[_sample(key).key]
    canvas = painter(np.random.default_rng(_SEEDS[key]))
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode sample {key!r}")
    return encoded.tobytes()


def _sample(key: str) -> Sample:
    try:
        return SAMPLES_BY_KEY[key]
    except KeyError:
        known = ", ".join(SAMPLES_BY_KEY)
        raise KeyError(f"no sample called {key!r}; samples are: {known}") from None


# --- painting helpers (BGR, float32 0-255 canvases) -----------------------------------------


def _vertical_gradient(stops: list[tuple[float, str]], height: int, width: int) -> np.ndarray:
    """Rows blended between colour stops at fractions of the height."""
    positions = np.array([position for position, _ in stops], dtype=np.float32)
    colors = np.array([Color.from_hex(color) for _, color in stops], dtype=np.float32)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)
    column = np.stack([np.interp(rows, positions, colors[:, c]) for c in range(3)], axis=-1)
    return np.repeat(column[:, None, :], width, axis=1)


def _blend_mask(canvas: np.ndarray, mask: np.ndarray, color, strength: float = 1.0) -> None:
    """Paint `colour` through a float mask (0-1) onto the float canvas, in place."""
    weight = (np.clip(mask, 0.0, 1.0) * strength)[..., None]
    canvas *= 1.0 - weight
    canvas += weight * np.array(color, dtype=np.float32)


def _soft_shape(
    draw: Callable[[np.ndarray], object], blur: float, shape: tuple[int, int] = (SAMPLE_HEIGHT, SAMPLE_WIDTH)
) -> np.ndarray:
    """A 0-1 mask of what `draw` paints (with 1.0), its edge softened by a Gaussian blur."""
    mask = np.zeros(shape, dtype=np.float32)
    draw(mask)
    if blur > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), blur)
    return mask


def _grain(canvas: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """A little photographic noise so the JPEG looks like a picture, not a flat drawing."""
    canvas += rng.normal(0.0, amount, canvas.shape[:2])[..., None].astype(np.float32)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def _shadow(canvas: np.ndarray, centre, axes, strength: float = 0.45, blur: float = 14) -> None:
    def ellipse(mask):
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1, _AA)

    mask = _soft_shape(ellipse, blur, canvas.shape[:2])
    _blend_mask(canvas, mask, (20, 15, 10), strength)


# --- the samples ----------------------------------------------------------------------------


def _paint_street(rng: np.random.Generator) -> np.ndarray:
    h, w = SAMPLE_HEIGHT, SAMPLE_WIDTH
    canvas = _vertical_gradient([(0.0, "#4a90d9"), (0.55, "#bfe3f7"), (1.0, "#bfe3f7")], h, w)
    horizon = 520

    # Houses in a row, each a different colour, with windows and a door.
    houses = [
        (0, 180, 230, "#c0392b"), (180, 360, 150, "#f4c542"), (360, 520, 260, "#1abc9c"),
        (520, 700, 190, "#8e6fbf"), (700, 860, 240, "#e67e22"), (860, 1024, 170, "#3f7fbf"),
    ]
    for x0, x1, top, color in houses:
        base = np.array(Color.from_hex(color), dtype=np.float32)
        canvas[top:horizon, x0:x1] = base
        canvas[top:top + 14, x0:x1] = base * 0.7  # cornice
        for wy in range(top + 40, horizon - 90, 70):
            for wx in range(x0 + 22, x1 - 40, 52):
                cv2.rectangle(canvas, (wx, wy), (wx + 30, wy + 42), (250, 245, 235), -1)
                cv2.rectangle(canvas, (wx + 3, wy + 3), (wx + 27, wy + 39), Color.from_hex("#5d7a99"), -1)
                cv2.line(canvas, (wx + 15, wy + 3), (wx + 15, wy + 39), (250, 245, 235), 2)
        door_x = (x0 + x1) // 2 - 20
        door_color = tuple(float(v) for v in base * 0.45)
        cv2.rectangle(canvas, (door_x, horizon - 80), (door_x + 40, horizon), door_color, -1)

    # Pavement, kerb and road with lane markings.
    canvas[horizon:horizon + 40] = np.array(Color.from_hex("#b9b4aa"), dtype=np.float32)
    canvas[horizon + 40:horizon + 48] = np.array(Color.from_hex("#8a857c"), dtype=np.float32)
    canvas[horizon + 48:] = np.array(Color.from_hex("#3b3d42"), dtype=np.float32)
    for x in range(20, w, 130):
        cv2.rectangle(canvas, (x, 655), (x + 70, 667), (235, 235, 235), -1)

    # Trees on the pavement.
    for x in (150, 610, 950):
        cv2.rectangle(canvas, (x - 9, horizon - 70), (x + 9, horizon + 30), Color.from_hex("#6b4226"), -1)
        crown = ((-35, -95, 48, "#2e8b3d"), (30, -100, 50, "#37a047"), (0, -145, 55, "#45b653"))
        for dx, dy, radius, shade in crown:
            cv2.circle(canvas, (x + dx, horizon + dy), radius, Color.from_hex(shade), -1, _AA)

    # Traffic light.
    cv2.rectangle(canvas, (455, 330), (465, horizon + 30), Color.from_hex("#2d2d2d"), -1)
    cv2.rectangle(canvas, (438, 250), (482, 360), Color.from_hex("#1f1f1f"), -1, _AA)
    for y, color in ((272, "#5a1a1a"), (305, "#5a4a1a"), (338, "#27e35a")):
        cv2.circle(canvas, (460, y), 13, Color.from_hex(color), -1, _AA)

    # Cars.
    for x, y, body in ((70, 600, "#d62828"), (420, 612, "#1d4ed8"), (760, 598, "#f7c815")):
        _shadow(canvas, (x + 110, y + 62), (125, 14), 0.5, 6)
        cv2.rectangle(canvas, (x, y), (x + 220, y + 55), Color.from_hex(body), -1, _AA)
        roof = np.array([[x + 40, y], [x + 70, y - 42], [x + 160, y - 42], [x + 190, y]], np.int32)
        cv2.fillPoly(canvas, [roof], Color.from_hex(body), _AA)
        glass = np.array([[x + 52, y - 4], [x + 76, y - 34], [x + 154, y - 34], [x + 178, y - 4]], np.int32)
        cv2.fillPoly(canvas, [glass], Color.from_hex("#9fc9e8"), _AA)
        cv2.line(canvas, (x + 115, y - 34), (x + 115, y - 4), Color.from_hex(body), 5)
        cv2.rectangle(canvas, (x + 205, y + 12), (x + 220, y + 24), Color.from_hex("#fff3b0"), -1)
        for wheel_x in (x + 50, x + 170):
            cv2.circle(canvas, (wheel_x, y + 55), 24, Color.from_hex("#151515"), -1, _AA)
            cv2.circle(canvas, (wheel_x, y + 55), 10, Color.from_hex("#a7a7a7"), -1, _AA)

    return _grain(canvas, rng, 3.0)


def _paint_sunset(rng: np.random.Generator) -> np.ndarray:
    h, w = SAMPLE_HEIGHT, SAMPLE_WIDTH
    horizon = 470
    sky = [
        (0.0, "#2b1055"), (0.25, "#7b2f8e"), (0.45, "#e0457b"),
        (0.58, "#fd8e3c"), (0.62, "#ffd36e"), (1.0, "#ffd36e"),
    ]
    canvas = _vertical_gradient(sky, h, w)
    sun_centre = (640, horizon - 40)
    glow = _soft_shape(lambda m: cv2.circle(m, sun_centre, 150, 1.0, -1, _AA), 60)
    _blend_mask(canvas, glow, Color.from_hex("#ffe08a"), 0.7)
    sun = _soft_shape(lambda m: cv2.circle(m, sun_centre, 85, 1.0, -1, _AA), 1.5)
    _blend_mask(canvas, sun, Color.from_hex("#fff4c2"))

    # Thin clouds across the sun.
    for y, x0, x1 in ((300, 120, 520), (360, 560, 980), (200, 300, 760)):
        def streak(mask, y=y, x0=x0, x1=x1):
            cv2.ellipse(mask, ((x0 + x1) // 2, y), ((x1 - x0) // 2, 9), 0, 0, 360, 1.0, -1, _AA)

        _blend_mask(canvas, _soft_shape(streak, 4), Color.from_hex("#b83a6e"), 0.75)

    # Sea: darker gradient with a glittering reflection under the sun.
    sea = _vertical_gradient([(0.0, "#4a2a6a"), (1.0, "#120b2e")], h - horizon, w)
    canvas[horizon:] = sea
    for row in range(horizon + 4, h, 9):
        depth = (row - horizon) / (h - horizon)
        half = int(40 + 160 * depth) + int(rng.integers(-25, 25))
        x_shift = int(rng.integers(-12, 12))
        brightness = 0.85 - 0.5 * depth
        cv2.line(canvas, (sun_centre[0] - half + x_shift, row), (sun_centre[0] + half + x_shift, row),
                 tuple(v * brightness for v in Color.from_hex("#ffc86b")), 3, _AA)

    # Hills and a small boat in silhouette.
    hills = np.array([[0, horizon], [0, 330], [120, 360], [260, 410], [360, horizon]], np.int32)
    cv2.fillPoly(canvas, [hills], Color.from_hex("#1b0f2e"), _AA)
    far_hills = np.array([[780, horizon], [870, 430], [960, 405], [1024, 420], [1024, horizon]], np.int32)
    cv2.fillPoly(canvas, [far_hills], Color.from_hex("#2c1745"), _AA)
    hull = np.array([[250, 560], [370, 560], [350, 585], [270, 585]], np.int32)
    cv2.fillPoly(canvas, [hull], Color.from_hex("#0b0614"), _AA)
    cv2.line(canvas, (310, 560), (310, 470), Color.from_hex("#0b0614"), 4, _AA)
    sail = np.array([[314, 475], [314, 555], [365, 555]], np.int32)
    cv2.fillPoly(canvas, [sail], Color.from_hex("#0b0614"), _AA)

    # Birds.
    for x, y, s in ((180, 150, 14), (215, 170, 10), (250, 140, 12), (840, 210, 11)):
        cv2.ellipse(canvas, (x - s, y), (s, s // 2), 0, 180, 360, Color.from_hex("#1b0f2e"), 3, _AA)
        cv2.ellipse(canvas, (x + s, y), (s, s // 2), 0, 180, 360, Color.from_hex("#1b0f2e"), 3, _AA)

    return _grain(canvas, rng, 2.5)


def _paint_fruit(rng: np.random.Generator) -> np.ndarray:
    h, w = SAMPLE_HEIGHT, SAMPLE_WIDTH
    # Wall, then a wooden table with grain.
    canvas = _vertical_gradient([(0.0, "#e9e2d0"), (0.3, "#d8cfb8"), (0.3, "#8b5a2b"), (1.0, "#6e4420")], h, w)
    table_top = int(0.3 * h)
    ys, xs = np.mgrid[table_top:h, 0:w].astype(np.float32)
    jitter = rng.normal(0, 0.15, ys.shape).astype(np.float32)
    wood = 0.5 + 0.5 * np.sin(ys / 6.0 + 3.0 * np.sin(xs / 140.0) + jitter)
    canvas[table_top:] *= (0.88 + 0.12 * wood)[..., None]

    # A white plate.
    _shadow(canvas, (520, 520), (330, 150), 0.4, 18)
    cv2.ellipse(canvas, (512, 505), (330, 150), 0, 0, 360, Color.from_hex("#f7f7f4"), -1, _AA)
    cv2.ellipse(canvas, (512, 505), (250, 105), 0, 0, 360, Color.from_hex("#e6e6e1"), 3, _AA)

    def round_fruit(centre, radius, color, highlight, stem=False, leaf=None, texture=0.0):
        # Painted on a patch around the fruit: full-canvas masks per grape would be slow.
        half = radius * 2
        x0, y0 = max(centre[0] - half, 0), max(centre[1] - half, 0)
        patch = canvas[y0:centre[1] + half, x0:centre[0] + half]
        cx, cy = centre[0] - x0, centre[1] - y0
        size = patch.shape[:2]
        _shadow(patch, (cx + 12, cy + radius - 8), (radius, radius // 4), 0.5, 8)
        def disc(centre, disc_radius):
            return lambda mask: cv2.circle(mask, centre, disc_radius, 1.0, -1, _AA)

        body = _soft_shape(disc((cx, cy), radius), 1.0, size)
        _blend_mask(patch, body, Color.from_hex(color))
        # Shading: darker towards the lower right, a soft highlight at the upper left.
        offset = radius // 3
        shade = _soft_shape(disc((cx + offset, cy + offset), int(radius * 0.9)), radius / 3, size)
        _blend_mask(patch, shade * body, (0, 0, 0), 0.35)
        shine = _soft_shape(disc((cx - offset, cy - offset), radius // 4), radius / 6, size)
        _blend_mask(patch, shine * body, Color.from_hex(highlight), 0.8)
        if texture:
            patch += (rng.normal(0, texture, size).astype(np.float32) * body)[..., None]
        if stem:
            cv2.line(patch, (cx, cy - radius + 8), (cx + 6, cy - radius - 18), Color.from_hex("#5b3a1a"), 6, _AA)
        if leaf:
            cv2.ellipse(patch, (cx + 24, cy - radius - 10), (24, 10), -25, 0, 360, Color.from_hex(leaf), -1, _AA)

    # Banana: a thick yellow arc behind the others.
    banana = _soft_shape(lambda m: cv2.ellipse(m, (520, 330), (250, 120), 0, 25, 155, 1.0, 42, _AA), 2)
    _shadow(canvas, (540, 470), (200, 22), 0.35, 10)
    _blend_mask(canvas, banana, Color.from_hex("#f2d43a"))
    cv2.ellipse(canvas, (520, 330), (250, 120), 0, 40, 140, Color.from_hex("#d9b12a"), 4, _AA)
    cv2.circle(canvas, (292, 381), 9, Color.from_hex("#4a3418"), -1, _AA)

    # Grapes: a cluster of small green circles.
    for _ in range(26):
        gx = 760 + int(rng.normal(0, 38))
        gy = 450 + int(abs(rng.normal(0, 45)))
        round_fruit((gx, gy), 24, "#8fc93a", "#e3f5b0")
    cv2.line(canvas, (760, 410), (772, 372), Color.from_hex("#5b3a1a"), 5, _AA)

    round_fruit((345, 470), 82, "#d7263d", "#ff9aa2", stem=True, leaf="#3f9b35")
    round_fruit((520, 500), 86, "#f28c28", "#ffd6a0", texture=7.0)
    round_fruit((245, 560), 62, "#7a1f5c", "#d98cc0")  # plum
    round_fruit((640, 590), 72, "#b5172a", "#ff8f8f", stem=True)

    # Lemon: an ellipse with pointed ends.
    lemon = _soft_shape(lambda m: cv2.ellipse(m, (420, 630), (70, 48), -10, 0, 360, 1.0, -1, _AA), 1)
    _shadow(canvas, (430, 672), (70, 14), 0.5, 8)
    _blend_mask(canvas, lemon, Color.from_hex("#f7e03c"))
    cv2.ellipse(canvas, (420, 630), (82, 12), -10, 0, 360, Color.from_hex("#f7e03c"), -1, _AA)
    shine = _soft_shape(lambda m: cv2.ellipse(m, (400, 612), (28, 12), -10, 0, 360, 1.0, -1, _AA), 6)
    _blend_mask(canvas, shine, Color.from_hex("#fffbd0"), 0.7)

    return _grain(canvas, rng, 2.5)


def _paint_balloons(rng: np.random.Generator) -> np.ndarray:
    h, w = SAMPLE_HEIGHT, SAMPLE_WIDTH
    canvas = _vertical_gradient([(0.0, "#1e6fd9"), (0.7, "#8cc8f5"), (1.0, "#d2ecfb")], h, w)

    # Clouds: clusters of soft white circles.
    for cx, cy, scale in ((180, 170, 1.0), (760, 110, 0.8), (560, 330, 0.6), (930, 300, 0.7)):
        def puff(m, cx=cx, cy=cy, scale=scale):
            for dx, dy, r in ((-60, 10, 45), (-15, -15, 60), (40, 0, 50), (85, 15, 35), (10, 25, 45)):
                cv2.circle(m, (int(cx + dx * scale), int(cy + dy * scale)), int(r * scale), 1.0, -1, _AA)
        _blend_mask(canvas, _soft_shape(puff, 6), (255, 255, 255), 0.92)

    # Rolling hills.
    hills = ((600, 40, 0.0, "#5fae4c"), (650, 30, 2.0, "#3d8b37"), (710, 20, 4.0, "#2a6b2c"))
    for base, amplitude, phase, color in hills:
        xs = np.arange(0, w + 8, 8)
        ys = base + amplitude * np.sin(xs / 170.0 + phase)
        outline = np.column_stack([xs, ys]).astype(np.int32)
        polygon = np.vstack([outline, [[w, h], [0, h]]]).astype(np.int32)
        cv2.fillPoly(canvas, [polygon], Color.from_hex(color), _AA)

    def balloon(cx, cy, radius, stripes):
        neck_y = cy + int(radius * 1.45)

        def envelope_shape(mask):
            cv2.circle(mask, (cx, cy), radius, 1.0, -1, _AA)
            taper = [
                [cx - int(radius * 0.87), cy + radius // 2], [cx + int(radius * 0.87), cy + radius // 2],
                [cx + radius // 4, neck_y], [cx - radius // 4, neck_y],
            ]
            cv2.fillPoly(mask, [np.array(taper, np.int32)], 1.0, _AA)

        envelope = _soft_shape(envelope_shape, 1.0)
        xs = np.arange(w, dtype=np.float32)
        stripe_index = np.floor((xs - (cx - radius)) / (2 * radius / len(stripes))).astype(int)
        stripe_index = np.clip(stripe_index, 0, len(stripes) - 1)
        palette = np.array([Color.from_hex(c) for c in stripes], dtype=np.float32)
        colors = np.broadcast_to(palette[stripe_index][None, :, :], canvas.shape)
        weight = envelope[..., None]
        canvas[:] = canvas * (1 - weight) + colors * weight
        shade_centre = (cx + radius // 3, cy + radius // 4)
        shade = _soft_shape(lambda m: cv2.circle(m, shade_centre, radius, 1.0, -1, _AA), radius / 3)
        _blend_mask(canvas, shade * envelope, (0, 0, 0), 0.25)
        basket_top = neck_y + 28
        for side in (-1, 1):
            rope_top, rope_bottom = (cx + side * radius // 4, neck_y), (cx + side * radius // 6, basket_top)
            cv2.line(canvas, rope_top, rope_bottom, Color.from_hex("#4a3520"), 2, _AA)
        basket = (cx - radius // 6, basket_top), (cx + radius // 6, basket_top + radius // 5)
        cv2.rectangle(canvas, *basket, Color.from_hex("#8b5a2b"), -1)

    balloon(300, 300, 110, ["#e63946", "#f1c40f", "#e63946", "#f1c40f", "#e63946"])
    balloon(700, 260, 80, ["#2a9d8f", "#ffffff", "#2a9d8f", "#ffffff"])
    balloon(870, 460, 50, ["#8e44ad", "#ff7f50", "#8e44ad"])
    balloon(520, 520, 38, ["#ff6f00", "#1e3a8a", "#ff6f00"])
    return _grain(canvas, rng, 2.0)


_PAINTERS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "street": _paint_street,
    "sunset": _paint_sunset,
    "fruit": _paint_fruit,
    "balloons": _paint_balloons,
}
_SEEDS = {"street": 101, "sunset": 202, "fruit": 303, "balloons": 404}
