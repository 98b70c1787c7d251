"""Captioning: the caption under each picture, ready to copy; captions CSV."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components import exports
from components.exports import ExportItem
from components.images import PreparedImage
from components.results import Prediction
from components.tasks import Task
from components.views.base import DisplaySettings, Download, TaskView

NO_CAPTION = "The model returned no caption."


class CaptioningView(TaskView):
    task = Task.CAPTIONING

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        if not prediction.caption:
            st.caption(NO_CAPTION)
            return
        st.markdown(f"#### “{prediction.caption}”")
        st.code(prediction.caption, language=None, wrap_lines=True)

    def compact(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        if prediction.caption:
            st.markdown(f"#### “{prediction.caption}”")
        else:
            st.caption(NO_CAPTION)

    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        return [Download("Captions (CSV)", lambda: exports.captions_csv(items), "captions.csv", "text/csv")]

    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        return f"“{prediction.caption}”" if prediction.caption else NO_CAPTION


VIEW = CaptioningView()
