"""A page of concept charts with 1, 2, 4, 30 and 50 bars, drawn by the app's own chart code.

The browser tests run it with `streamlit run tests/chart_gallery.py` to check every label shows at
phone and desktop widths; the app's pages never have 30 or 50 concepts offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from components.drawing.charts import concepts_frame  # noqa: E402
from components.results import Concept  # noqa: E402
from components.views.base import horizontal_bars  # noqa: E402

BAR_COUNTS = (1, 2, 4, 30, 50)
NAMES = (
    "person", "sky", "a rather long concept name that needs cutting", "tree", "road", "building", "car",
    "grass", "water", "cloud", "mountain", "bicycle", "traffic light", "dog", "cat", "bench", "umbrella",
)


def gallery_concepts(count: int) -> list[Concept]:
    """`count` concepts with distinct names and scores spread over 0–1 (the top one is 0.97)."""
    names = [NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i // len(NAMES) + 1}") for i in range(count)]
    return [Concept(name, round(0.97 - 0.95 * i / max(count, 2), 2)) for i, name in enumerate(names)]


def main() -> None:
    for count in BAR_COUNTS:
        st.markdown(f"**{count} bar(s)**")
        horizontal_bars(concepts_frame(gallery_concepts(count)), "score", "score")


if __name__ == "__main__":  # as `streamlit run` runs it; importing it only gives the names
    main()
