"""The contract every task view implements, and the Streamlit pieces views share.

A view shows one task's results: display controls, one image's card, drawing on the picture,
downloads and a one-line summary. `ui_results` and `ui_all_tasks` look views up by task and
never branch on the task themselves (supervision's one-class-per-annotator idea, for pages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from components import charts
from components.colors import Color
from components.exports import ExportItem
from components.images import PreparedImage
from components.results import ImageResult, Prediction
from components.tasks import Task, TaskSpec


@dataclass(frozen=True)
class DisplaySettings:
    """How results are shown. Changing them redraws from the stored results, never calls a model."""

    min_score: float = 0.0
    max_concepts: int | None = None
    opacity: float = 0.5
    hidden: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Download:
    label: str
    build: Callable[[], bytes | str]  # called only when the button is pressed
    file_name: str
    mime: str


class TaskView:
    """One task's way of showing results. Subclasses set `task` and override what they show."""

    task: Task
    layer = 0  # when several views draw on one picture, lower layers are drawn first

    @property
    def spec(self) -> TaskSpec:
        return self.task.spec

    def controls(self, results: Sequence[ImageResult], key: str) -> DisplaySettings:
        """Display controls above the results (Streamlit widgets keyed under `key`)."""
        return DisplaySettings()

    def draw(self, picture: np.ndarray, prediction: Prediction, settings: DisplaySettings) -> np.ndarray:
        """The picture with this task's results drawn on it (a new array; unchanged if nothing to draw)."""
        return picture

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        """The result side of one image's card."""
        raise NotImplementedError

    def compact(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        """A short form of the card, for pages that show several tasks per image."""
        st.caption(self.summary(image, prediction, settings))

    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        """This task's own exports (the page adds the raw JSON and annotated pictures)."""
        raise NotImplementedError

    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        """One line saying what was found, in plain words."""
        raise NotImplementedError


def score_column(label: str, percent: bool = False):
    return st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="percent" if percent else "%.2f")


def _page_colours() -> tuple[str, str]:
    """(text colour, background colour) of the page the chart sits on, as "#rrggbb"."""
    if st.context.theme.type == "dark":
        return "#fafafa", "#0e1117"
    text = st.get_option("theme.textColor") or "#31333f"
    background = st.get_option("theme.backgroundColor") or "#ffffff"
    return text, background


def horizontal_bars(frame: pd.DataFrame, value: str, value_title: str, *, percent: bool = False) -> None:
    """One bar per concept in its own colour (the frame's "color" column), largest first, the
    value printed on each bar, on a 0–1 axis shared by every chart."""
    text, background = _page_colours()
    spec = charts.bar_chart_spec(frame, value, value_title, percent=percent, text_color=text, background=background)
    st.vega_lite_chart(spec, width="stretch")  # the spec's description is the chart's accessible name


def colour_table(frame: pd.DataFrame, columns: Sequence[str], column_config: dict) -> None:
    """The frame's `columns` as a table whose concept cells carry the concept's colour (from the
    "color" column), with black or white text, like the labels on the picture."""
    cell_styles = [
        f"background-color: {color}; color: {Color.from_hex(color).text_color.hex}" for color in frame["color"]
    ]
    table = frame[list(columns)].reset_index(drop=True)
    styled = table.style.apply(lambda _: cell_styles, subset=["concept"])
    st.dataframe(styled, hide_index=True, width="stretch", column_config=column_config)
