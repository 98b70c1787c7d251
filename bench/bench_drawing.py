"""Drawing speed, measured side by side in one run: our render module against the naive
per-mask blend and (if installed) supervision's annotators.

    python bench/bench_drawing.py

Masks are random ellipses covering about half the frame, at the picture's size; boxes are the
masks' bounding boxes, with labels. Times are medians of several runs (time.perf_counter).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from components import colors
from components.drawing import render
from components.drawing.labels import label_text, style_for
from components.results import Box, Concept, Region  # noqa: E402

try:
    import supervision as sv
except ImportError:  # installed for the benchmark only
    sv = None

SIZES = [(1920, 1080), (4000, 3000)]
OBJECT_COUNTS = [5, 30]
OPACITY = 0.5
TARGET_SPEEDUP = 10.0  # at 30 masks on 4000x3000, ours vs naive
NAMES = ["person", "car", "dog", "tree", "building", "bench", "sky", "road", "bicycle", "train"]


def make_scene(width: int, height: int, count: int, seed: int = 0):
    """A noisy picture and `count` regions whose elliptical masks cover about half of it."""
    rng = np.random.default_rng(seed)
    picture = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    area_each = 0.5 * width * height / count * 1.3  # a little extra: ellipses overlap
    regions = []
    for i in range(count):
        aspect = rng.uniform(0.5, 2.0)
        a = math.sqrt(area_each / math.pi * aspect)
        b = area_each / (math.pi * a)
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        canvas = np.zeros((height, width), np.uint8)
        cv2.ellipse(canvas, centre, (int(a), int(b)), float(rng.uniform(0, 180)), 0, 360, 1, -1)
        mask = canvas.astype(bool)
        x, y, w, h = cv2.boundingRect(canvas)
        box = Box(y / height, x / width, (y + h) / height, (x + w) / width)
        concept = Concept(NAMES[i % len(NAMES)], float(rng.uniform(0.3, 1.0)))
        regions.append(Region((concept,), box=box, mask=mask))
    return picture, regions


def naive_blend(picture, regions, opacity=OPACITY):
    """What tutorials do: paint each mask on a copy and blend the whole frame, once per mask."""
    out = picture.copy()
    for region in regions:
        overlay = out.copy()
        overlay[region.mask] = colors.color_for(region.top_concept.name)
        out = cv2.addWeighted(overlay, opacity, out, 1 - opacity, 0)
    return out


def supervision_inputs(picture, regions):
    height, width = picture.shape[:2]
    detections = sv.Detections(
        xyxy=np.array([r.box.pixels(width, height) for r in regions], dtype=float),
        mask=np.stack([r.mask for r in regions]),
        class_id=np.array([NAMES.index(r.top_concept.name) for r in regions]),
        confidence=np.array([r.top_concept.value for r in regions]),
    )
    labels = [label_text(r.top_concept) for r in regions]
    return detections, labels


def median_ms(func, repeats: int) -> float:
    func()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    print(f"OpenCV {cv2.__version__}, threads {cv2.getNumThreads()}; "
          + (f"supervision {sv.__version__}" if sv else "supervision not installed"))
    passed = None
    rows = []
    for width, height in SIZES:
        for count in OBJECT_COUNTS:
            picture, regions = make_scene(width, height, count)
            coverage = np.logical_or.reduce([r.mask for r in regions]).mean()
            big = width * height > 5_000_000
            slow_repeats = 3 if big else 5
            label = f"{width}x{height}, {count:2d} objects ({coverage:.0%} covered)"

            ours_masks = median_ms(lambda: render.blend_masks(picture, regions, OPACITY), 7)
            naive_masks = median_ms(lambda: naive_blend(picture, regions), slow_repeats)
            ours_boxes = median_ms(lambda: render.draw_detections(picture, regions), 7)
            sv_masks = sv_boxes = None
            if sv is not None:
                detections, labels = supervision_inputs(picture, regions)
                style = style_for(width, height)
                mask_annotator = sv.MaskAnnotator(opacity=OPACITY)
                box_annotator = sv.BoxAnnotator(thickness=style.line_width)
                label_annotator = sv.LabelAnnotator(  # OpenCV's Hershey font: about 22 px tall at scale 1
                    text_scale=style.font_px / 22, text_thickness=max(1, style.font_px // 15),
                    text_padding=style.padding, smart_position=True,
                )
                sv_masks = median_ms(lambda: mask_annotator.annotate(picture.copy(), detections), slow_repeats)
                sv_boxes = median_ms(
                    lambda: label_annotator.annotate(
                        box_annotator.annotate(picture.copy(), detections), detections, labels
                    ),
                    5,
                )
            rows.append((label, ours_masks, naive_masks, sv_masks, ours_boxes, sv_boxes))
            if (width, height, count) == (4000, 3000, 30):
                passed = naive_masks / ours_masks >= TARGET_SPEEDUP
                target_ratio = naive_masks / ours_masks

    print()
    print("Mask blending (ms, median)")
    print(f"{'scene':44} {'ours':>8} {'naive':>8} {'superv.':>8} {'naive/ours':>11} {'superv./ours':>13}")
    for label, ours, naive, svm, _, _ in rows:
        sv_text = f"{svm:8.1f}" if svm is not None else f"{'-':>8}"
        sv_ratio = f"{svm / ours:12.1f}x" if svm is not None else f"{'-':>13}"
        print(f"{label:44} {ours:8.1f} {naive:8.1f} {sv_text} {naive / ours:10.1f}x {sv_ratio}")
    print()
    print("Boxes and labels (ms, median)")
    print(f"{'scene':44} {'ours':>8} {'superv.':>8} {'superv./ours':>13}")
    for label, _, _, _, ours, svb in rows:
        sv_text = f"{svb:8.1f}" if svb is not None else f"{'-':>8}"
        sv_ratio = f"{svb / ours:12.1f}x" if svb is not None else f"{'-':>13}"
        print(f"{label:44} {ours:8.1f} {sv_text} {sv_ratio}")
    if sv is None:
        print("supervision not installed: its columns are empty (pip install supervision)")
    print()
    verdict = "PASS" if passed else "FAIL"
    print(f"{verdict}: 30 masks on 4000x3000, ours {target_ratio:.1f}x faster than naive "
          f"(target >= {TARGET_SPEEDUP:.0f}x)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
