"""The contract every task view implements, and the Streamlit pieces views share.

A view shows one task's results: display controls, one image's card, drawing on the picture,
downloads and a one-line summary. `ui_results` and `ui_all_tasks` look views up by task and
never branch on the task themselves (supervision's one-class-per-annotator idea, for pages).
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from components.colors import Color
from components.drawing import charts
from components.drawing.picture_text import PictureText
from components.images.preparation import PreparedImage
from components.outputs.exports import ExportItem
from components.results import ImageResult, Prediction
from components.run.compare import Difference
from components.run.model_fit import ModelChoice, Serving
from components.tasks import Task, TaskSpec
from components.text import plain

RAW_ANSWER_SHOWN = 20_000  # characters of a model's answer shown on the page
HEADLINE_ITEMS = 3  # concepts, labels or segments named under a thumbnail


@dataclass(frozen=True)
class DisplaySettings:
    """How results are shown. Changing them redraws from the stored results, never calls a model.

    `highlighted`: regions picked out on one picture (indexes into its prediction's regions),
    set per card from the rows selected in its table.
    """

    min_score: float = 0.0
    max_concepts: int | None = None
    opacity: float = 0.5
    hidden: frozenset[str] = frozenset()
    highlighted: frozenset[int] = frozenset()


@dataclass(frozen=True)
class RequestInputs:
    """What the page asks a prompted model, from the request controls; `problem` stops Predict."""

    prompt: str = ""
    labels: tuple[str, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class Download:
    label: str
    build: Callable[[], bytes | str]  # called only when the button is pressed
    file_name: str
    mime: str


class TaskView(ABC):
    """One task's way of showing results. Subclasses set `task` and implement what they show."""

    task: Task
    layer = 0  # when several views draw on one picture, lower layers are drawn first
    card_order = 0  # when several views share a card, lower ones come first (text reads as a heading)
    agreement_words = ""  # what Compare's agreement counts, in words: "(concepts in more than one model's top 5)"

    @property
    def spec(self) -> TaskSpec:
        return self.task.spec

    def request_controls(self, model: ModelChoice, local: bool, key: str) -> RequestInputs:
        """Controls for what to ask the model (a prompt, labels), shown before Predict."""
        return RequestInputs()

    def stored_request(self, key: str) -> RequestInputs:
        """What the task's own page last set in its request controls (for pages without them)."""
        return RequestInputs()

    def request_state(self, key: str, prompt: str, labels: str) -> dict[str, str]:
        """The session state that sets the request controls to a prompt or a typed label list (a shared link)."""
        return {}

    def controls(self, results: Sequence[ImageResult], key: str) -> DisplaySettings:
        """Display controls above the results (Streamlit widgets keyed under `key`)."""
        return DisplaySettings()

    def draw(self, picture: np.ndarray, prediction: Prediction, settings: DisplaySettings) -> np.ndarray:
        """The picture with this task's results drawn on it (a new array; unchanged if nothing to draw)."""
        return picture

    def describe(self, prediction: Prediction, settings: DisplaySettings, width: int, height: int) -> PictureText:
        """What `draw` puts on a width x height picture, in words: its alt text and a caption."""
        return PictureText()

    @abstractmethod
    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> frozenset[int]:
        """The result side of one image's card. Returns the regions picked in its table (indexes
        into `prediction.regions`), for the picture to emphasise."""

    def compact(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        """A short form of the card, for pages that show several tasks per image."""
        st.caption(self.summary(image, prediction, settings))

    def headline(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        """The top answer in one short line of plain text (not markdown), shown under a thumbnail."""
        return self.summary(image, prediction, settings)

    @abstractmethod
    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        """This task's own exports (the page adds the raw JSON and annotated pictures)."""

    @abstractmethod
    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        """One line saying what was found, in plain words."""

    @abstractmethod
    def compare(self, predictions: Sequence[Prediction | None], settings: DisplaySettings) -> Difference:
        """How several models' answers about one picture differ: what only each found, and how
        much they agree (`agreement_words` says what is counted)."""


def score_column(label: str, percent: bool = False):
    return st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="percent" if percent else "%.2f")


# Streamlit's own colours, for a config that sets no theme of its own
_STREAMLIT_COLORS = {"light": ("#31333f", "#ffffff"), "dark": ("#fafafa", "#0e1117")}


def _page_colors() -> tuple[str, str]:
    """(text colour, background colour) of the page the chart sits on, as "#rrggbb": the theme the
    browser shows (light or dark, as config.toml's [theme.light] and [theme.dark] set them)."""
    scheme = "dark" if st.context.theme.type == "dark" else "light"
    text, background = _STREAMLIT_COLORS[scheme]
    return (
        st.get_option(f"theme.{scheme}.textColor") or st.get_option("theme.textColor") or text,
        st.get_option(f"theme.{scheme}.backgroundColor") or st.get_option("theme.backgroundColor") or background,
    )


def horizontal_bars(frame: pd.DataFrame, value: str, value_title: str, *, percent: bool = False) -> None:
    """One bar per concept in its own colour (the frame's "color" column), largest first, the
    value printed on each bar, on a 0–1 axis shared by every chart."""
    text, background = _page_colors()
    spec = charts.bar_chart_spec(frame, value, value_title, percent=percent, text_color=text, background=background)
    st.vega_lite_chart(spec, width="stretch")  # the spec's description is the chart's accessible name


def _colored(frame: pd.DataFrame, columns: Sequence[str]):
    """The frame's `columns`, concept cells in the concept's colour (the "color" column) with black
    or white text, like the labels on the picture."""
    cell_styles = [
        f"background-color: {color}; color: {Color.from_hex(color).text_color.hex}" for color in frame["color"]
    ]
    table = frame[list(columns)].reset_index(drop=True)
    return table.style.apply(lambda _: cell_styles, subset=["concept"])


def color_table(frame: pd.DataFrame, columns: Sequence[str], column_config: dict) -> None:
    """The frame's `columns` as a table with the concept cells in their colours."""
    st.dataframe(_colored(frame, columns), hide_index=True, width="stretch", column_config=column_config)


def region_table(
    frame: pd.DataFrame, columns: Sequence[str], column_config: dict, key: str, alt: str
) -> frozenset[int]:
    """A colour table of regions (a frame with a "region" column) whose rows can be selected;
    returns the selected rows' regions.

    The key carries the rows shown, so a selection never outlives the rows it was made on
    (a new threshold or hidden segment starts with none picked).
    """
    rows_shown = ",".join(str(region) for region in frame["region"])
    event = st.dataframe(
        _colored(frame, columns),
        hide_index=True,
        width="stretch",
        column_config=column_config,
        key=f"{key}_{zlib.crc32(rows_shown.encode()):08x}",
        on_select="rerun",
        selection_mode="multi-row",
        alt=alt,
    )
    regions = frame["region"].tolist()
    return frozenset(int(regions[row]) for row in event.selection.rows if 0 <= row < len(regions))


PICK_HINT = ":material/touch_app: Select rows to pick their {what} out on the picture."


def answer_details(prediction: Prediction) -> None:
    """How the model answered one image: time and tokens, and a prompted model's own text."""
    if prediction.facts:
        st.caption(":material/timer: " + " · ".join(prediction.facts))
    if prediction.raw_answer:
        with st.expander("The model's own answer"):
            st.code(prediction.raw_answer[:RAW_ANSWER_SHOWN], language=None, wrap_lines=True)
            if len(prediction.raw_answer) > RAW_ANSWER_SHOWN:
                st.caption(f"First {RAW_ANSWER_SHOWN:,} of {len(prediction.raw_answer):,} characters; the JSON download has it all.")


def names_turned_off(label: str, names: list[str], key: str, help: str) -> frozenset[str]:
    """A pill for each name, all on at first; the names the user turned off. Pills read their
    labels as markdown, so the names (a model's labels) are shown as plain text."""
    if not names:
        return frozenset()
    shown = st.pills(label, names, selection_mode="multi", default=names, format_func=plain, key=key, help=help)
    return frozenset(set(names) - set(shown or []))


def prompted(model: ModelChoice) -> bool:
    return model.serving == Serving.PROMPTED


def prompts_need_clarifai(what: str) -> None:
    st.caption(
        f":material/cloud_off: {what} needs a vision-language model on Clarifai: choose the Clarifai API "
        "in the sidebar and add a key. The local model takes no prompt."
    )
