"""Classification: concepts as a sorted bar chart and a table; concepts CSV."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components.drawing import charts
from components.images.preparation import PreparedImage
from components.outputs import exports
from components.outputs.exports import ExportItem
from components.results import ImageResult, Prediction
from components.run.compare import TOP_N, Difference, compare_concepts
from components.run.model_fit import ModelChoice
from components.tasks import MODEL_ESTIMATE_NOTE, Task
from components.text import plain, plural
from components.views.base import (
    HEADLINE_ITEMS,
    DisplaySettings,
    Download,
    RequestInputs,
    TaskView,
    answer_details,
    color_table,
    horizontal_bars,
    prompted,
    score_column,
)
from components.vlm.labels import parse_label_list

COMPACT_CONCEPTS = 8


class ClassificationView(TaskView):
    task = Task.CLASSIFICATION
    card_order = 2
    agreement_words = f"(concepts in more than one model's top {TOP_N})"

    def request_controls(self, model: ModelChoice, local: bool, key: str) -> RequestInputs:
        if local or not prompted(model):
            pick = self.task.spec.prompted_pick
            if not local and pick is not None and model.serving is not None:
                st.caption(f":material/label: To choose from labels you list, pick {pick.label} in the sidebar.")
            return RequestInputs()
        text = st.text_area(
            "Labels to choose from",
            key=f"{key}_labels",
            persist_state="session",
            placeholder="cat, dog, bird — or leave empty and the model names what it sees",
            height=80,
            help="Comma-separated or one per line. The model is asked to answer in JSON with a confidence for each.",
        )
        labels, message = parse_label_list(text)
        if message:
            st.caption(f":material/info: {plain(message)}")
        st.caption(":material/psychology: " + MODEL_ESTIMATE_NOTE)
        return RequestInputs(labels=labels)

    def request_state(self, key: str, prompt: str, labels: str) -> dict[str, str]:
        return {f"{key}_labels": labels} if labels else {}

    def stored_request(self, key: str) -> RequestInputs:
        return RequestInputs(labels=parse_label_list(st.session_state.get(f"{key}_labels") or "")[0])

    def controls(self, results: Sequence[ImageResult], key: str) -> DisplaySettings:
        left, middle, _ = st.columns([2, 2, 3])
        min_score = left.slider(
            "Show scores from",
            0.0,
            1.0,
            0.0,
            0.01,
            key=f"{key}_min_score",
            persist_state="session",
            help="Redraws from the results already here; no new call.",
        )
        shown = middle.number_input("Concepts shown", 1, 200, 10, key=f"{key}_max_concepts", persist_state="session")
        return DisplaySettings(min_score=min_score, max_concepts=int(shown))

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> frozenset[int]:
        frame = charts.concepts_frame(prediction.concepts, settings.min_score, settings.max_concepts)
        if frame.empty:
            st.caption("No concepts at this score.")
            answer_details(prediction)
            return frozenset()
        chart_tab, table_tab = st.tabs(["Chart", "Table"])
        with chart_tab:
            horizontal_bars(frame, "score", "score")
        with table_tab:
            color_table(frame, ["concept", "score"], {"score": score_column("Score")})
        answer_details(prediction)
        return frozenset()

    def compact(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        frame = charts.concepts_frame(prediction.concepts, 0.0, COMPACT_CONCEPTS)
        if frame.empty:
            st.caption(self.summary(image, prediction, settings))
        else:
            horizontal_bars(frame, "score", "score")

    def headline(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        shown = min(settings.max_concepts or HEADLINE_ITEMS, HEADLINE_ITEMS)
        frame = charts.concepts_frame(prediction.concepts, settings.min_score, shown)
        if frame.empty:
            return "No concepts at this score." if prediction.concepts else "No concepts."
        return " · ".join(f"{name} {score:.2f}" for name, score in frame[["concept", "score"]].itertuples(index=False))

    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        return [Download("Concepts (CSV)", lambda: exports.concepts_csv(items), "concepts.csv", "text/csv")]

    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        ranked = prediction.sorted_concepts
        if not ranked:
            return "No concepts."
        return f"{plural(len(ranked), 'concept')}; top: {ranked[0].name} {ranked[0].value:.2f}"

    def compare(self, predictions: Sequence[Prediction | None], settings: DisplaySettings) -> Difference:
        return compare_concepts(predictions)


VIEW = ClassificationView()
