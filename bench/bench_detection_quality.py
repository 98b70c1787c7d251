"""How precise the local detector is: precision and recall at IoU 0.5 against boxes of people,
faces and objects labelled by hand (tests/local_models/labelled_boxes.py), per picture and
overall, on the app's four samples and on the shared photos (left out when ../shared is absent).

Run from the project root: python bench/bench_detection_quality.py
Target: precision >= 0.8 overall, on the samples and on the photos.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from components.local_models.detector import detect_objects  # noqa: E402
from tests.local_models.labelled_boxes import (  # noqa: E402
    PHOTO_LABELS,
    SAMPLE_LABELS,
    Score,
    photo_image,
    sample_image,
    score,
)

TARGET_PRECISION = 0.8
TESTDATA = PROJECT_ROOT.parent / "shared" / "testdata"


def _line(name: str, result: Score) -> str:
    found = result.true_positives + result.false_positives
    return (f"   {name:<14} {result.precision:>9.2f} {result.recall:>7.2f} {found:>6} {result.true_positives:>4} "
            f"{result.labels:>7}")


def main() -> int:
    groups: dict[str, dict[str, Score]] = {"samples": {}, "photos": {}}
    for key, labels in SAMPLE_LABELS.items():
        groups["samples"][key] = score(detect_objects(sample_image(key)).regions, labels)
    if TESTDATA.is_dir():
        for key, labels in PHOTO_LABELS.items():
            groups["photos"][key] = score(detect_objects(photo_image(TESTDATA, key)).regions, labels)
    else:
        print(f"(shared test data not found at {TESTDATA}: photos left out)")
    print(f"Local detector against hand-labelled boxes, IoU >= 0.5; target precision >= {TARGET_PRECISION}")
    print(f"   {'picture':<14} {'precision':>9} {'recall':>7} {'boxes':>6} {'true':>4} {'labels':>7}")
    total, passed = Score(0, 0, 0), True
    for group, results in groups.items():
        if not results:
            continue
        subtotal = Score(0, 0, 0)
        for key, result in results.items():
            print(_line(key, result))
            for false in result.false:
                print(f"      false: {false}")
            subtotal += result
        print(_line(f"all {group}", subtotal))
        passed &= subtotal.precision >= TARGET_PRECISION
        total += subtotal
    print(_line("overall", total))
    passed &= total.precision >= TARGET_PRECISION
    print(f"{'PASS' if passed else 'FAIL'}: precision {total.precision:.2f} overall (target >= {TARGET_PRECISION}), "
          f"recall {total.recall:.2f}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
