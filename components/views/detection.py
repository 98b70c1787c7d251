"""Detection: boxes and labels on the picture, a table of regions; COCO detections."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import streamlit as st

from components.drawing import charts, picture_text, render
from components.drawing.labels import layout_labels
from components.drawing.picture_text import PictureText
from components.images.preparation import PreparedImage
from components.outputs import exports
from components.outputs.exports import ExportItem
from components.results import ImageResult, Prediction
from components.run.compare import Difference, compare_detections
from components.run.model_fit import ModelChoice
from components.tasks import Task
from components.text import plain, plural
from components.views.base import (
    HEADLINE_ITEMS,
    PICK_HINT,
    DisplaySettings,
    Download,
    RequestInputs,
    TaskView,
    answer_details,
    prompted,
    region_table,
)
from components.vlm.labels import parse_label_list

DEFAULT_MIN_SCORE = 0.3


class DetectionView(TaskView):
    task = Task.DETECTION
    card_order = 3
    agreement_words = "(boxes another model also found: same label, overlapping by half or more)"
    layer = 1  # boxes above masks

    def request_controls(self, model: ModelChoice, local: bool, key: str) -> RequestInputs:
        if local or not prompted(model):
            return RequestInputs()
        text = st.text_input(
            "What to find",
            key=f"{key}_things",
            persist_state="session",
            placeholder="people, bags, buses — or leave empty for every object",
            help="The model is asked for a box around each one, in JSON; boxes are drawn where it puts them.",
        )
        things, message = parse_label_list(text)
        if message:
            st.caption(f":material/info: {plain(message)}")
        return RequestInputs(labels=things)

    def request_state(self, key: str, prompt: str, labels: str) -> dict[str, str]:
        return {f"{key}_things": labels} if labels else {}

    def stored_request(self, key: str) -> RequestInputs:
        return RequestInputs(labels=parse_label_list(st.session_state.get(f"{key}_things") or "")[0])

    def controls(self, results: Sequence[ImageResult], key: str) -> DisplaySettings:
        left, _ = st.columns([2, 5])
        min_score = left.slider(
            "Show scores from",
            0.0,
            1.0,
            DEFAULT_MIN_SCORE,
            0.01,
            key=f"{key}_min_score",
            persist_state="session",
            help=(
                "Hides boxes scoring below this. It filters the results already here and redraws them, "
                "with no new call. (The sidebar's Minimum score is different: it asks the model itself to "
                "leave out low scores, and takes effect at the next Predict.)"
            ),
        )
        return DisplaySettings(min_score=min_score)

    def draw(self, picture: np.ndarray, prediction: Prediction, settings: DisplaySettings) -> np.ndarray:
        return render.annotate(
            picture, prediction, settings.min_score, hidden=settings.hidden, masks=False,
            highlighted=settings.highlighted,
        )

    def describe(self, prediction: Prediction, settings: DisplaySettings, width: int, height: int) -> PictureText:
        frame = charts.regions_frame(prediction.regions, width, height, settings.min_score)
        labels = layout_labels(prediction.regions, width, height, settings.min_score, settings.hidden)
        return picture_text.boxes_text(frame, {label.region for label in labels}, settings.highlighted)

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> frozenset[int]:
        frame = charts.regions_frame(prediction.regions, image.width, image.height, settings.min_score)
        st.caption(self.summary(image, prediction, settings))
        if frame.empty:
            answer_details(prediction)
            return frozenset()
        table = frame.assign(
            box=[f"{x0},{y0}–{x1},{y1}" for x0, y0, x1, y1 in frame[["x0", "y0", "x1", "y1"]].itertuples(index=False)]
        )
        picked = region_table(
            table,
            ["concept", "score", "box"],
            {
                # Plain numbers, as on the labels: a phone's column (about 320 px) holds all three.
                "concept": "Concept",
                "score": st.column_config.NumberColumn("Score", format="%.2f"),
                "box": st.column_config.TextColumn("Box (px)", help="Left,top–right,bottom in pixels of the picture sent"),
            },
            key=f"{self.task.value}_rows_{image.digest[:16]}",
            alt=f"Boxes found in {image.name}",
        )
        st.caption(PICK_HINT.format(what="boxes"))
        answer_details(prediction)
        return picked

    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        return [
            Download(
                "COCO detections (JSON)",
                lambda: json.dumps(exports.coco_detections(items, settings.min_score), indent=1),
                "detections-coco.json",
                "application/json",
            )
        ]

    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        total = sum(1 for region in prediction.regions if region.box is not None)
        if total == 0:
            hint = self.spec.local_model.nothing_found_hint if self._is_local(prediction) else ""
            return "No objects found." + (f" {hint}" if hint else "")
        shown = len(charts.regions_frame(prediction.regions, image.width or 1, image.height or 1, settings.min_score))
        below = total - shown
        return f"{plural(shown, 'box')} shown" + (f", {below} below the threshold" if below else "")

    def headline(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        frame = charts.regions_frame(prediction.regions, image.width or 1, image.height or 1, settings.min_score)
        if frame.empty:
            return self.summary(image, prediction, settings)
        counts = frame["concept"].value_counts(sort=False)  # in the frame's order: best box first
        labels = [f"{name} ×{count}" if count > 1 else str(name) for name, count in counts.items()]
        listed = ", ".join(labels[:HEADLINE_ITEMS]) + (", …" if len(labels) > HEADLINE_ITEMS else "")
        return f"{plural(len(frame), 'box', 'boxes')}: {listed}"

    def _is_local(self, prediction: Prediction) -> bool:
        local = self.spec.local_model
        return local is not None and prediction.model_label == local.name

    def compare(self, predictions: Sequence[Prediction | None], settings: DisplaySettings) -> Difference:
        return compare_detections(predictions, settings.min_score)


VIEW = DetectionView()
