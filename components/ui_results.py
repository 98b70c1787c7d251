"""Result views: concept charts, boxes, masks, captions, a paginated grid, and downloads.

Display controls (score threshold, opacity, concepts shown) live in a fragment: moving them
redraws the pictures from the stored results and never calls a model again.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import cv2
import numpy as np
import streamlit as st

from components import charts, exports, render
from components.backend import RunOutcome
from components.errors import AppError, ImageError
from components.images import PreparedImage
from components.offline import OFFLINE_MODELS
from components.results import ImageResult, Prediction, Task
from components.ui_state import PageRun

PAGE_SIZE = 8
DISPLAY_SIDE = 1200  # pictures are drawn at most this big for the browser
DISPLAY_JPEG_QUALITY = 90
LOCAL_DETECTOR_HINT = "The local detector looks only for faces, cat faces, people and licence plates."


# --- the page's results section ---------------------------------------------------------------


def run_summary(outcome: RunOutcome, image_count: int) -> str:
    failed = image_count - outcome.succeeded
    parts = [f"**{image_count} image(s)**", f"{outcome.succeeded} with results"]
    if failed:
        parts.append(f":red[{failed} failed]")
    parts.append(f"{outcome.seconds:.2f} s")
    if outcome.plan.backend == "clarifai":
        parts.append(f"{outcome.clarifai_calls} Clarifai call(s)")
    if outcome.from_cache:
        parts.append(f"{outcome.from_cache} from cache")
    return " · ".join(parts)


def show_task_results(task: Task, run: PageRun, page_key: str) -> None:
    outcome = run.outcome
    st.markdown(run_summary(outcome, len(run.images)))
    _results_fragment(task, run, page_key)


@st.fragment
def _results_fragment(task: Task, run: PageRun, page_key: str) -> None:
    view = _view_controls(task, run, page_key)
    _downloads(task, run, view)
    pairs = list(zip(run.images, run.outcome.results))
    for image, result in _paginate(pairs, page_key):
        with st.container(border=True):
            result_card(task, image, result, view)


# --- display controls --------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """Display settings chosen in the fragment; they change the drawing, never the results."""

    min_score: float = 0.0
    max_concepts: int | None = None
    opacity: float = 0.5
    hidden: frozenset[str] = frozenset()


def _view_controls(task: Task, run: PageRun, page_key: str) -> View:
    if task == Task.CAPTIONING:
        return View()
    left, middle, _ = st.columns([2, 2, 3])
    view = View()
    if task in (Task.CLASSIFICATION, Task.DETECTION):
        min_score = left.slider(
            "Show scores from",
            0.0,
            1.0,
            0.0 if task == Task.CLASSIFICATION else 0.3,
            0.01,
            key=f"{page_key}_min_score",
            persist_state="session",
            help="Redraws from the results already here; no new call.",
        )
        view = replace(view, min_score=min_score)
    if task == Task.CLASSIFICATION:
        shown = middle.number_input("Concepts shown", 1, 200, 10, key=f"{page_key}_max_concepts", persist_state="session")
        view = replace(view, max_concepts=int(shown))
    if task == Task.SEGMENTATION:
        opacity = left.slider("Mask opacity", 0.0, 1.0, 0.55, 0.05, key=f"{page_key}_opacity", persist_state="session")
        view = replace(view, opacity=opacity)
        names = _concept_names(run.outcome.results)
        if names:
            shown = st.pills(
                "Segments shown",
                names,
                selection_mode="multi",
                default=names,
                key=f"{page_key}_shown",
                help="Click a segment to hide or show it.",
            )
            view = replace(view, hidden=frozenset(set(names) - set(shown or [])))
    return view


def _concept_names(results: Sequence[ImageResult]) -> list[str]:
    names: dict[str, float] = {}
    for result in results:
        if result.prediction:
            for region in result.prediction.regions:
                top = region.top_concept
                if top is not None:
                    names[top.name] = names.get(top.name, 0.0) + top.value
    return sorted(names, key=lambda name: -names[name])


def _paginate(items: list, page_key: str) -> list:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    if pages == 1:
        return items
    page = st.segmented_control(
        f"Page (of {pages}, {PAGE_SIZE} images each)",
        list(range(1, pages + 1)),
        default=1,
        key=f"{page_key}_page",
        persist_state="session",
    ) or 1
    return items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]


# --- one image's result ----------------------------------------------------------------------


def result_card(task: Task, image: PreparedImage, result: ImageResult, view: View) -> None:
    picture_side, result_side = st.columns([3, 2], gap="medium")
    with picture_side:
        show_picture(task, image, result.prediction, view)
    with result_side:
        st.markdown(f"**{_short(image.name)}**")
        if result.error is not None:
            show_error(result.error)
            return
        prediction = result.prediction
        {
            Task.CLASSIFICATION: concepts_view,
            Task.DETECTION: detections_view,
            Task.SEGMENTATION: segments_view,
            Task.CAPTIONING: caption_view,
        }[task](image, prediction, view)
        for note in prediction.notes:
            st.caption(f":material/warning: {note}")


def show_picture(task: Task | None, image: PreparedImage, prediction: Prediction | None, view: View) -> None:
    """The picture, drawn on for detection, segmentation and All tasks (`task` None), with its notes."""
    if image.data is None:
        st.info(f"Clarifai fetched this image itself, so it is not drawn here.  \n{image.url}", icon=":material/link:")
        return
    if prediction is not None and task in (Task.DETECTION, Task.SEGMENTATION, None):
        st.image(display_jpeg(annotated_display(image, prediction, view, task)), width="stretch")
    else:
        st.image(image.preview, width="stretch")
    if image.notes:
        st.caption(" · ".join(image.notes))


def annotated_display(image: PreparedImage, prediction: Prediction, view: View, task: Task | None = None) -> np.ndarray:
    """The picture at display size with masks and/or boxes drawn for this view."""
    return draw_view(display_pixels(image), prediction, view, task)


def draw_view(picture: np.ndarray, prediction: Prediction, view: View, task: Task | None) -> np.ndarray:
    """Masks for segmentation, boxes for detection, both when `task` is None (All tasks)."""
    if task in (Task.SEGMENTATION, None):
        picture = render.blend_masks(picture, prediction.regions, view.opacity, view.hidden)
    if task in (Task.DETECTION, None):
        picture = render.draw_detections(picture, prediction.regions, view.min_score, view.hidden)
    return picture


def display_jpeg(picture_bgr: np.ndarray) -> bytes:
    """A drawn picture as JPEG for the browser: Streamlit would encode an array at quality 100."""
    ok, encoded = cv2.imencode(".jpg", picture_bgr, [cv2.IMWRITE_JPEG_QUALITY, DISPLAY_JPEG_QUALITY])
    if not ok:
        raise ImageError("The annotated picture could not be encoded for display.")
    return encoded.tobytes()


@lru_cache(maxsize=16)
def display_pixels(image: PreparedImage) -> np.ndarray:
    """The upright picture, at most DISPLAY_SIDE on its longer side (read-only: draw on copies)."""
    pixels = image.pixels()
    height, width = pixels.shape[:2]
    scale = DISPLAY_SIDE / max(height, width)
    if scale < 1:
        pixels = cv2.resize(pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    pixels.setflags(write=False)
    return pixels


def concepts_view(image: PreparedImage, prediction: Prediction, view: View) -> None:
    frame = charts.concepts_frame(prediction.concepts, view.min_score, view.max_concepts)
    if frame.empty:
        st.caption("No concepts at this score.")
        return
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        horizontal_bars(frame, "score", "score")
    with table_tab:
        st.dataframe(frame, hide_index=True, width="stretch", column_config={"score": _score_column("Score")})


def detections_view(image: PreparedImage, prediction: Prediction, view: View) -> None:
    frame = charts.regions_frame(prediction.regions, image.width, image.height, view.min_score)
    total = sum(1 for r in prediction.regions if r.box is not None)
    hidden = total - len(frame)
    if total == 0:
        local = prediction.model_label == OFFLINE_MODELS[Task.DETECTION].name
        st.caption("No objects found." + (f" {LOCAL_DETECTOR_HINT}" if local else ""))
    else:
        st.caption(f"{len(frame)} box(es) shown" + (f", {hidden} below the threshold" if hidden else ""))
    if not frame.empty:
        table = frame[["concept", "score"]].assign(
            box=[f"{x0},{y0} – {x1},{y1}" for x0, y0, x1, y1 in frame[["x0", "y0", "x1", "y1"]].itertuples(index=False)]
        )
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "concept": "Concept",
                "score": _score_column("Score"),
                "box": st.column_config.TextColumn("Box (px)", help="Left,top – right,bottom in pixels of the picture sent"),
            },
        )
    _annotated_download(image, prediction, view, Task.DETECTION)


def segments_view(image: PreparedImage, prediction: Prediction, view: View) -> None:
    frame = charts.coverage_frame(prediction.regions)
    if frame.empty:
        st.caption("No segments.")
        return
    frame = frame[~frame["concept"].isin(view.hidden)]
    horizontal_bars(frame, "share", "share of the image", color="color")
    st.dataframe(
        frame.drop(columns=["color"]),
        hide_index=True,
        width="stretch",
        column_config={"share": _score_column("Share of image", percent=True)},
    )
    _annotated_download(image, prediction, view, Task.SEGMENTATION)


def caption_view(image: PreparedImage, prediction: Prediction, view: View) -> None:
    if not prediction.caption:
        st.caption("The model returned no caption.")
        return
    st.markdown(f"#### “{prediction.caption}”")
    st.code(prediction.caption, language=None, wrap_lines=True)


def show_error(error: AppError) -> None:
    st.error(f"**{error.title}.** {error}", icon=":material/error:")


def _score_column(label: str, percent: bool = False):
    return st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="percent" if percent else "%.2f")


def horizontal_bars(frame, value: str, value_label: str, color: str | None = None) -> None:
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


def _short(name: str, limit: int = 60) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1) :]


# --- downloads -------------------------------------------------------------------------------


def _annotated_download(image: PreparedImage, prediction: Prediction, view: View, task: Task) -> None:
    if image.data is None:
        return
    st.download_button(
        "Annotated PNG",
        data=lambda: exports.annotated_png(draw_view(image.pixels(), prediction, view, task)),
        file_name=exports.export_filename(image.name + "-annotated", "png"),
        mime="image/png",
        icon=":material/download:",
        on_click="ignore",
        key=f"png_{task.value}_{image.digest}",
    )


def export_items(images: Sequence[PreparedImage], results: Sequence[ImageResult]) -> list[exports.ExportItem]:
    return [
        exports.ExportItem(
            image.name,
            image.width,
            image.height,
            result.prediction,
            str(result.error) if result.error is not None else "",
        )
        for image, result in zip(images, results)
    ]


def _downloads(task: Task, run: PageRun, view: View) -> None:
    items = export_items(run.images, run.outcome.results)
    buttons: list[tuple[str, Callable[[], bytes | str], str, str]] = [
        ("Results (JSON)", lambda: exports.raw_json(items), "results.json", "application/json"),
    ]
    if task == Task.CLASSIFICATION:
        buttons.append(("Concepts (CSV)", lambda: exports.concepts_csv(items), "concepts.csv", "text/csv"))
    if task == Task.DETECTION:
        buttons.append(
            ("COCO detections (JSON)", lambda: json.dumps(exports.coco_detections(items, view.min_score), indent=1), "detections-coco.json", "application/json")
        )
    if task == Task.SEGMENTATION:
        buttons.append(("COCO masks, RLE (ZIP)", lambda: exports.coco_segmentation_zip(items, "rle"), "segments-coco-rle.zip", "application/zip"))
        buttons.append(("COCO masks, PNG (ZIP)", lambda: exports.coco_segmentation_zip(items, "png"), "segments-coco-png.zip", "application/zip"))
    if task == Task.CAPTIONING:
        buttons.append(("Captions (CSV)", lambda: exports.captions_csv(items), "captions.csv", "text/csv"))
    if task in (Task.DETECTION, Task.SEGMENTATION):
        buttons.append(("Annotated images (ZIP)", lambda: _annotated_zip(run, view, task), "annotated.zip", "application/zip"))
    columns = st.columns(len(buttons))
    for column, (label, data, file_name, mime) in zip(columns, buttons):
        column.download_button(
            label,
            data=data,
            file_name=file_name,
            mime=mime,
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
            key=f"download_{task.value}_{file_name}",
        )


def _annotated_zip(run: PageRun, view: View, task: Task | None) -> bytes:
    buffer = io.BytesIO()
    names: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index, (image, result) in enumerate(zip(run.images, run.outcome.results)):
            if image.data is None or result.prediction is None:
                continue
            name = exports.export_filename(image.name + "-annotated", "png")
            if name in names:
                name = f"{index:03d}-{name}"
            names.add(name)
            archive.writestr(name, exports.annotated_png(draw_view(image.pixels(), result.prediction, view, task)))
    return buffer.getvalue()
