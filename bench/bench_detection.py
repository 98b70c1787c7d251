"""The local detector's time per picture, against a target of 150 ms for a 1024x768 picture.

Run from the project root: python bench/bench_detection.py

For each sample (1024x768) and each shared photo enlarged to 1024x768: `detect_objects`,
median wall time of repeats and the CPU time of the process over the same calls (OpenCV's
cascades and HOG use several threads: CPU time above wall time is that). Then the time of each
finder on the street sample, the busiest picture. Other work on the machine lengthens wall time;
CPU time shows the work itself.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from components.images.samples import SAMPLES, sample_bytes  # noqa: E402
from components.local_models.cascades import DETECT_SIDE, DETECTORS, close_up_view, detect  # noqa: E402
from components.local_models.common import downscale  # noqa: E402
from components.local_models.detector import _find_color_objects, _find_people, detect_objects  # noqa: E402

TARGET_MS = 150.0
REPEATS = 7
WIDTH, HEIGHT = 1024, 768
PHOTOS = PROJECT_ROOT.parent / "shared" / "testdata" / "photos"


def pictures() -> dict[str, np.ndarray]:
    found = {s.key: cv2.imdecode(np.frombuffer(sample_bytes(s.key), np.uint8), cv2.IMREAD_COLOR) for s in SAMPLES}
    for name in ("metro-north.jpg", "astronaut.png", "chelsea.png", "coffee.png"):
        photo = cv2.imread(str(PHOTOS / name))
        if photo is None:
            print(f"(shared photo {name} not found under {PHOTOS}: left out)")
            continue
        found[name + " at 1024x768"] = cv2.resize(photo, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    return found


def timed(func, repeats: int = REPEATS) -> tuple[float, float]:
    """(median wall ms, mean CPU ms) over `repeats` calls after a warm-up."""
    func()
    walls, cpu_started = [], time.process_time()
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        walls.append((time.perf_counter() - started) * 1000)
    return statistics.median(walls), (time.process_time() - cpu_started) * 1000 / repeats


def main() -> int:
    print(f"cores usable: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}, "
          f"OpenCV threads: {cv2.getNumThreads()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"1. detect_objects per picture; median of {REPEATS} (ms); target {TARGET_MS:.0f} ms")
    print(f"   {'picture':<32} {'wall':>7} {'CPU':>7} {'wall/target':>12} {'found':>6}")
    walls = []
    for name, picture in pictures().items():
        wall, cpu = timed(lambda picture=picture: detect_objects(picture))
        walls.append(wall)
        found = len(detect_objects(picture).regions)
        print(f"   {name:<32} {wall:>7.0f} {cpu:>7.0f} {wall / TARGET_MS:>12.2f} {found:>6}")
    print(f"   median over pictures: {statistics.median(walls):.0f} ms wall, "
          f"{statistics.median(walls) / TARGET_MS:.2f} of the target")

    street = cv2.imdecode(np.frombuffer(sample_bytes("street"), np.uint8), cv2.IMREAD_COLOR)
    gray = cv2.cvtColor(street, cv2.COLOR_BGR2GRAY)
    scene = cv2.equalizeHist(downscale(gray, DETECT_SIDE))
    close_up = close_up_view(gray)
    colors = _find_color_objects(street)
    stages = {
        detector.concept + " (Haar)": (lambda d=detector: detect(d, scene, close_up))
        for detector in DETECTORS
    }
    stages["coloured objects"] = lambda: _find_color_objects(street)
    stages["people (HOG)"] = lambda: _find_people(gray, colors.upright)
    print("2. Each finder on the street sample (ms)")
    print(f"   {'finder':<24} {'wall':>7} {'CPU':>7}")
    for name, stage in stages.items():
        wall, cpu = timed(stage)
        print(f"   {name:<24} {wall:>7.1f} {cpu:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
