"""Text in the picture: the text read, whole and ready to select, each line's box drawn on the
picture when the model gives one, a table of lines that picks their boxes out; TXT and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from components.drawing import render
from components.drawing.picture_text import PictureText
from components.drawing.regions import region_color
from components.images.preparation import PreparedImage
from components.outputs import exports
from components.outputs.exports import ExportItem
from components.results import Box, Prediction, Region
from components.run.compare import Difference, compare_texts
from components.tasks import Task
from components.text import first_line, plural
from components.views.base import PICK_HINT, DisplaySettings, Download, TaskView, answer_details, region_table

NO_TEXT = "No text found in this picture."


class TextView(TaskView):
    task = Task.OCR
    layer = 1  # line boxes above masks
    card_order = 1  # under a caption, above concepts
    agreement_words = "(words the texts read have in common)"

    def draw(self, picture: np.ndarray, prediction: Prediction, settings: DisplaySettings) -> np.ndarray:
        indexes = [index for index, region in enumerate(prediction.regions) if region.text and region.box is not None]
        if not indexes:
            return picture
        lines = [_around(prediction.regions[index]) for index in indexes]
        picked = frozenset(number for number, index in enumerate(indexes) if index in settings.highlighted)
        return render.draw_detections(picture, lines, show_labels=False, highlighted=picked)

    def describe(self, prediction: Prediction, settings: DisplaySettings, width: int, height: int) -> PictureText:
        boxed = sum(1 for region in prediction.regions if region.text and region.box is not None)
        if not boxed:
            return PictureText()
        words = f"{plural(boxed, 'line')} of text outlined"
        return PictureText(alt=f"The picture with {words}.", caption=words[0].upper() + words[1:] + ".")

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> frozenset[int]:
        text = prediction.text_read
        if not text:
            st.caption(NO_TEXT)
            answer_details(prediction)
            return frozenset()
        st.caption(self.summary(image, prediction, settings))
        st.text(text)  # the text as read, line by line, plain and selectable
        picked = frozenset()
        frame = _lines_frame(prediction)
        if frame["box"].any():
            with st.expander("Lines and where they are"):
                picked = region_table(
                    frame.assign(color=region_color(_first_line(prediction)).hex),
                    ["line", "concept"],
                    {"line": st.column_config.NumberColumn("Line", width="small"), "concept": "Text"},
                    key=f"{self.task.value}_rows_{image.digest[:16]}",
                    alt=f"Lines of text read in {image.name}",
                )
                st.caption(PICK_HINT.format(what="lines"))
        answer_details(prediction)
        return picked

    def compact(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        text = prediction.text_read
        if text:
            st.text(text)
        else:
            st.caption(NO_TEXT)

    def headline(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        return first_line(prediction.text_read) or NO_TEXT

    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        return [
            Download("Text read (TXT)", lambda: exports.text_txt(items), "text-read.txt", "text/plain"),
            Download("Lines and boxes (JSON)", lambda: exports.text_lines_json(items), "text-lines.json", "application/json"),
        ]

    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        lines = [region for region in prediction.regions if region.text]
        if not lines:
            return NO_TEXT
        words = sum(len(region.text.split()) for region in lines)
        return f"{plural(len(lines), 'line')}, {plural(words, 'word')} read."

    def compare(self, predictions: Sequence[Prediction | None], settings: DisplaySettings) -> Difference:
        return compare_texts(predictions)


LINE_MARGIN = 0.3  # of a line's height, left around it so its outline does not cover the letters


def _around(region: Region) -> Region:
    """The line with its box grown a little on every side."""
    box = region.box
    margin = (box.bottom - box.top) * LINE_MARGIN
    grown = Box(box.top - margin, box.left - margin / 2, box.bottom + margin, box.right + margin / 2)
    return replace(region, box=grown.clipped() or box)


def _lines_frame(prediction: Prediction) -> pd.DataFrame:
    rows = [
        {"region": index, "text": region.text, "box": region.box is not None}
        for index, region in enumerate(prediction.regions)
        if region.text
    ]
    frame = pd.DataFrame(rows, columns=["region", "text", "box"]).rename(columns={"text": "concept"})
    frame.insert(0, "line", range(1, len(frame) + 1))  # region_table colours the "concept" column
    return frame


def _first_line(prediction: Prediction):
    return next(region for region in prediction.regions if region.text)


VIEW = TextView()
