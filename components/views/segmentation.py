"""Segmentation: masks blended over the picture, each segment's share; COCO masks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from components.drawing import charts, picture_text, render
from components.drawing.picture_text import PictureText
from components.images.preparation import PreparedImage
from components.outputs import exports
from components.outputs.exports import ExportItem
from components.results import ImageResult, Prediction
from components.run.compare import Difference, compare_segments
from components.tasks import Task
from components.text import plural
from components.views.base import (
    HEADLINE_ITEMS,
    PICK_HINT,
    DisplaySettings,
    Download,
    TaskView,
    horizontal_bars,
    names_turned_off,
    region_table,
)

DEFAULT_OPACITY = 0.55


class SegmentationView(TaskView):
    task = Task.SEGMENTATION
    card_order = 4
    agreement_words = "(segments another model also named)"
    layer = 0  # masks under boxes

    def controls(self, results: Sequence[ImageResult], key: str) -> DisplaySettings:
        left, _ = st.columns([2, 5])
        opacity = left.slider("Mask opacity", 0.0, 1.0, DEFAULT_OPACITY, 0.05, key=f"{key}_opacity", persist_state="session")
        names = segment_names(results)
        hidden = names_turned_off("Segments shown", names, f"{key}_shown", "Click a segment to hide or show it.")
        return DisplaySettings(opacity=opacity, hidden=hidden)

    def draw(self, picture: np.ndarray, prediction: Prediction, settings: DisplaySettings) -> np.ndarray:
        return render.annotate(
            picture, prediction, opacity=settings.opacity, hidden=settings.hidden, boxes=False,
            highlighted=settings.highlighted,
        )

    def describe(self, prediction: Prediction, settings: DisplaySettings, width: int, height: int) -> PictureText:
        return picture_text.masks_text(shown_segments(prediction, settings), settings.highlighted)

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> frozenset[int]:
        if charts.coverage_frame(prediction.regions).empty:
            st.caption("No segments.")
            return frozenset()
        frame = shown_segments(prediction, settings)
        if frame.empty:
            st.caption("Every segment is hidden.")
            return frozenset()
        horizontal_bars(frame, "share", "share of the image", percent=True)
        # The share once, in the chart's own words ("39 %"): the table is for picking segments out.
        table = frame.assign(share_text=[text for _, text in picture_text.segment_items(frame)])
        picked = region_table(
            table,
            ["concept", "share_text"],
            {"concept": "Segment", "share_text": st.column_config.TextColumn("Share of image")},
            key=f"{self.task.value}_rows_{image.digest[:16]}",
            alt=f"Segments of {image.name}",
        )
        st.caption(PICK_HINT.format(what="segments"))
        return picked

    def compact(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        items = picture_text.segment_items(shown_segments(prediction, settings))
        listed = picture_text.listing(items, markdown=True)
        st.caption(f"**{self.summary(image, prediction, settings)}**" + (f": {listed}" if listed else ""))

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
        return plural(count, "segment") if count else "No segments."

    def headline(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        items = picture_text.segment_items(shown_segments(prediction, settings))
        if not items:
            hidden = not charts.coverage_frame(prediction.regions).empty
            return "Every segment is hidden." if hidden else self.summary(image, prediction, settings)
        listed = " · ".join(f"{name or '(no name)'} {share}" for name, share in items[:HEADLINE_ITEMS])
        return f"{plural(len(items), 'segment')}: {listed}" + (" …" if len(items) > HEADLINE_ITEMS else "")

    def compare(self, predictions: Sequence[Prediction | None], settings: DisplaySettings) -> Difference:
        return compare_segments(predictions)


def shown_segments(prediction: Prediction, settings: DisplaySettings) -> pd.DataFrame:
    """charts.coverage_frame of the segments not hidden by the page's toggles."""
    frame = charts.coverage_frame(prediction.regions)
    return frame[~frame["concept"].isin(settings.hidden)]


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
