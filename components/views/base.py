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


def horizontal_bars(frame: pd.DataFrame, value: str, value_label: str, color: str | None = None) -> None:
    """One bar per concept, largest first (a column of hex colours may colour them)."""
    st.bar_chart(
        frame,
        x="concept",
        y=value,
        color=color,
        horizontal=True,
        sort=f"-{value}",
        height=48 + 26 * max(len(frame), 1),
        x_label="",
        y_label=value_label,
    )
