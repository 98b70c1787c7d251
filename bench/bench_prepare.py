"""Preparing a 12 MP phone photo: `prepare_upload` against a plain full-size Pillow path.

Run from the project root: python bench/bench_prepare.py
Both paths start from the same 4000x3000 JPEG with EXIF orientation 6 and end with upright
JPEG bytes; they are measured in the same run, alternating, median of the repeats.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from components.images.preparation import PrepareOptions, prepare_upload  # noqa: E402

REPEATS = 9
WIDTH, HEIGHT = 4000, 3000


def phone_photo_jpeg() -> bytes:
    """A 4000x3000 orientation-6 JPEG at quality 95 with photo-like detail (a few MB)."""
    rng = np.random.default_rng(12)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    red = 120 + 80 * np.sin(x / 700) * np.cos(y / 900)
    green = 110 + 70 * np.cos(x / 400 + y / 1300)
    blue = 100 + 60 * np.sin((x + y) / 900)
    picture = np.stack([red, green, blue], axis=-1)
    # Detail at several scales, as in a real photo: fine grain and blotches.
    picture += rng.normal(0, 3.5, (HEIGHT, WIDTH, 1)).astype(np.float32)
    blotches = rng.normal(0, 18, (HEIGHT // 20, WIDTH // 20, 3)).astype(np.float32)
    picture += np.kron(blotches, np.ones((20, 20, 1), dtype=np.float32))
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def plain_full_size(data: bytes) -> bytes:
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def prepared(data: bytes) -> bytes:
    return prepare_upload("phone.jpg", data, PrepareOptions()).data or b""


def main() -> None:
    data = phone_photo_jpeg()
    candidates = {"Pillow full size + exif_transpose": plain_full_size, "prepare_upload (1024 px)": prepared}
    times: dict[str, list[float]] = {name: [] for name in candidates}
    sizes: dict[str, int] = {}
    for name, run in candidates.items():  # warm-up
        sizes[name] = len(run(data))
    for _ in range(REPEATS):
        for name, run in candidates.items():
            started = time.perf_counter()
            run(data)
            times[name].append(time.perf_counter() - started)

    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"input: {WIDTH}x{HEIGHT} JPEG, EXIF orientation 6, {len(data) / 1e6:.2f} MB; median of {REPEATS}")
    print(f"{'path':<36} {'ms':>8} {'output KB':>10}")
    for name in candidates:
        print(f"{name:<36} {medians[name]:>8.1f} {sizes[name] / 1024:>10.0f}")
    full, ours = candidates
    print(
        f"prepare_upload is {medians[full] / medians[ours]:.1f}x faster and sends "
        f"{sizes[full] / sizes[ours]:.1f}x fewer bytes"
    )


if __name__ == "__main__":
    main()
