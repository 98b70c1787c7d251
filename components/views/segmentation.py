"""Segmentation: masks blended over the picture, each segment's share; COCO masks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from components import charts, exports, render
from components.exports import ExportItem
from components.images import PreparedImage
from components.results import ImageResult, Prediction
from components.tasks import Task
from components.views.base import (
    DisplaySettings,
    Download,
    TaskView,
    colour_table,
    horizontal_bars,
    score_column,
)

DEFAULT_OPACITY = 0.55


class SegmentationView(TaskView):
    task = Task.SEGMENTATION
    layer = 0  # masks under boxes

    def controls(self, results: Sequence[ImageResult], key: str) -> DisplaySettings:
        left, _ = st.columns([2, 5])
        opacity = left.slider("Mask opacity", 0.0, 1.0, DEFAULT_OPACITY, 0.05, key=f"{key}_opacity", persist_state="session")
        names = segment_names(results)
        hidden: frozenset[str] = frozenset()
        if names:
            shown = st.pills(
                "Segments shown",
                names,
                selection_mode="multi",
                default=names,
                key=f"{key}_shown",
                help="Click a segment to hide or show it.",
            )
            hidden = frozenset(set(names) - set(shown or []))
        return DisplaySettings(opacity=opacity, hidden=hidden)

    def draw(self, picture: np.ndarray, prediction: Prediction, settings: DisplaySettings) -> np.ndarray:
        return render.annotate(picture, prediction, opacity=settings.opacity, hidden=settings.hidden, boxes=False)

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        frame = charts.coverage_frame(prediction.regions)
        if frame.empty:
            st.caption("No segments.")
            return
        frame = frame[~frame["concept"].isin(settings.hidden)]
        if frame.empty:
            st.caption("Every segment is hidden.")
            return
        horizontal_bars(frame, "share", "share of the image", percent=True)
        colour_table(frame, ["concept", "share"], {"share": score_column("Share of image", percent=True)})

    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        return [
            Download(
                "COCO masks, RLE (ZIP)",
                lambda: exports.coco_segmentation_zip(items, "rle"),
                "segments-coco-rle.zip",
                "application/zip",
            ),
            Download(
                "COCO masks, PNG (ZIP)",
                lambda: exports.coco_segmentation_zip(items, "png"),
                "segments-coco-png.zip",
                "application/zip",
            ),
        ]

    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        count = sum(1 for region in prediction.regions if region.mask is not None)
        return f"{count} segment(s)" if count else "No segments."


def segment_names(results: Sequence[ImageResult]) -> list[str]:
    """Every segment's concept across the results, largest total share first."""
    names: dict[str, float] = {}
    for result in results:
        if result.prediction:
            for region in result.prediction.regions:
                top = region.top_concept
                if top is not None:
                    names[top.name] = names.get(top.name, 0.0) + top.value
    return sorted(names, key=lambda name: -names[name])


VIEW = SegmentationView()
