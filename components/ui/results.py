"""The results section of a page: summary, display controls, downloads, then a card per image, or
for more than a few images a gallery of thumbnails whose cards open in a dialog.

What a task shows comes from its view (`components.views`); this module lays views out and never
branches on the task. Display controls live in a fragment: moving them redraws the pictures from
the stored results and never calls a model again.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

import cv2
import numpy as np
import streamlit as st

from components.errors import AppError, ImageError
from components.images.preparation import PreparedImage
from components.outputs import codegen, exports, report
from components.results import ImageResult, Prediction
from components.run.backend import Backend, RunOutcome, RunPlan
from components.text import duration, plain, plural, shorten
from components.ui import gallery
from components.ui.gallery import GALLERY_ABOVE, Tile, kept_tile, open_dialog, show_gallery, tile_background
from components.ui.state import PageRun
from components.views import DisplaySettings, Download, TaskView

DISPLAY_SIDE = 1200  # pictures are drawn at most this big for the browser
DISPLAY_JPEG_QUALITY = 90
NAME_LENGTH = 60


# --- the page's results section ---------------------------------------------------------------


def run_summary(outcome: RunOutcome, image_count: int) -> str:
    failed = image_count - outcome.succeeded
    parts = [f"**{plural(image_count, 'image')}**", f"{outcome.succeeded} with results"]
    if failed:
        parts.append(f":red[{failed} failed]")
    if outcome.from_cache < image_count:  # answered wholly from the cache: no time worth saying
        parts.append(duration(outcome.seconds))
    if outcome.plan.backend == Backend.CLARIFAI:
        parts.append(plural(outcome.clarifai_calls, "Clarifai call"))
    if outcome.from_cache:
        parts.append(f"{outcome.from_cache} from cache")
    return " · ".join(parts)


def show_task_results(view: TaskView, run: PageRun, page_key: str) -> None:
    st.markdown(run_summary(run.outcome, len(run.images)))
    _results_fragment(view, run, page_key)


@st.fragment
def _results_fragment(view: TaskView, run: PageRun, page_key: str) -> None:
    settings = view.controls(run.outcome.results, page_key)
    show_downloads(view, run.images, run.outcome.results, settings, page_key, plan=run.outcome.plan)
    pairs = list(zip(run.images, run.outcome.results))
    codes = [lambda image=image: codegen.request_for(run.outcome.plan, run.outcome.info, image) for image in run.images]
    if len(pairs) > GALLERY_ABOVE:

        def open_card(index: int) -> None:
            image, result = pairs[index]
            open_dialog(image.name, lambda: result_card(view, image, result, settings, codes[index](), show_name=False))

        show_gallery(len(pairs), lambda index: result_tile(view, *pairs[index], settings), open_card, page_key)
        return
    for (image, result), code in zip(pairs, codes):
        with st.container(border=True):
            result_card(view, image, result, settings, code())


def result_tile(view: TaskView, image: PreparedImage, result: ImageResult, settings: DisplaySettings) -> Tile:
    """One image's tile in a gallery: its thumbnail drawn as its card draws the picture, and its top answer."""
    if result.error is not None:
        picture = drawn_tile(image, (), settings)
        return Tile(image.name, picture, image.name, (f"Failed: {result.error.title}.",))
    prediction = result.prediction
    drawn = ((view, prediction),) if view.spec.draws_on_picture else ()
    alt = view.describe(prediction, settings, image.width or 1, image.height or 1).alt if drawn else ""
    answer = view.headline(image, prediction, settings)
    picture = drawn_tile(image, drawn, settings)
    return Tile(image.name, picture, f"{image.name}: {alt}" if alt else image.name, (answer,))


def drawn_tile(image: PreparedImage, drawn: DrawnResults, settings: DisplaySettings) -> bytes | None:
    """A gallery thumbnail with each view's results drawn as its card draws them (kept, so a
    rerun that changes none of them, such as opening a card, draws no thumbnail again)."""
    background = tile_background()
    key = (image.digest, tuple((view.task, id(prediction)) for view, prediction in drawn), settings, background)
    return kept_tile(
        key, (image, drawn), lambda: gallery.tile_picture(image, lambda pixels: draw_results(pixels, drawn, settings), background)
    )


# --- one image's result ----------------------------------------------------------------------


def result_card(
    view: TaskView,
    image: PreparedImage,
    result: ImageResult,
    settings: DisplaySettings,
    code: codegen.CodeRequest | None = None,
    show_name: bool = True,
) -> None:
    """The picture, its name above it (unless a dialog's title says it), beside what was found."""
    picture_side, result_side = st.columns([3, 2], gap="medium")
    picked: frozenset[int] = frozenset()
    with result_side:  # first: the rows selected in its table pick regions out on the picture
        if result.error is not None:
            show_error(result.error)
        else:
            prediction = result.prediction
            picked = view.card(image, prediction, settings) or frozenset()
            if view.spec.draws_on_picture and image.data is not None:
                key = f"png_{view.task.value}_{image.digest}"
                annotated_download(image, lambda: view.draw(image.pixels(), prediction, settings), key)
            for note in prediction.notes:
                st.caption(f":material/warning: {plain(note)}")
        if code is not None:
            show_code(code)
    with picture_side:
        if show_name:
            picture_name(image)
        show_picture(image, [(view, result.prediction)], replace(settings, highlighted=picked))


def picture_name(image: PreparedImage) -> None:
    """The image's name as the caption over its picture."""
    st.markdown(f"**{plain(shorten(image.name, NAME_LENGTH, keep='end'))}**")


def show_code(request: codegen.CodeRequest) -> None:
    """The Python that makes this same request, one tab per form Clarifai's users call models with
    (the SDK first for a new-style model, clarifai-grpc for an old-style one); the key is never in it."""
    forms, first = codegen.code_forms(request)
    with st.expander("Get the code", icon=":material/code:"):
        st.caption(f"Python that makes this same request: set `{codegen.PAT_ENV}` in your environment and run it.")
        for tab, form in zip(st.tabs([form.label for form in forms], default=first), forms):
            with tab:
                st.caption(f"{form.caption} `{form.install}`")
                st.code(form.code, language="python")


DrawnResults = Sequence[tuple[TaskView, Prediction | None]]


def show_picture(image: PreparedImage, drawn: DrawnResults, settings: DisplaySettings) -> None:
    """The picture with each view's results drawn on it, what is drawn in words (the picture's
    alt text, and each view's caption under it), and the picture's notes."""
    if image.data is None:
        st.info(f"Clarifai fetched this image itself, so it is not drawn here.  \n{plain(image.url)}", icon=":material/link:")
        return
    drawn = [(view, prediction) for view, prediction in drawn if view.spec.draws_on_picture and prediction is not None]
    if drawn:
        picture = display_pixels(image)
        height, width = picture.shape[:2]
        texts = [view.describe(prediction, settings, width, height) for view, prediction in drawn]
        alt = " ".join([f"{image.name}:", *(text.alt for text in texts if text.alt)])
        st.image(display_jpeg(draw_results(picture, drawn, settings)), width="stretch", alt=alt)
        for text in texts:
            if text.caption:
                st.caption(text.caption)  # names in it are made plain by picture_text
    else:
        st.image(image.preview, width="stretch", alt=image.name)
    if image.notes:
        st.caption(plain(" · ".join(image.notes)))


def draw_results(picture: np.ndarray, drawn: DrawnResults, settings: DisplaySettings) -> np.ndarray:
    """Each view draws its prediction in turn, lowest layer first (masks under boxes)."""
    for view, prediction in sorted(drawn, key=lambda pair: pair[0].layer):
        if prediction is not None:
            picture = view.draw(picture, prediction, settings)
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


def show_error(error: AppError) -> None:
    st.error(f"**{error.title}.** {plain(error)}", icon=":material/error:")


# --- downloads -------------------------------------------------------------------------------


def annotated_download(image: PreparedImage, drawn: Callable[[], np.ndarray], key: str) -> None:
    """A download of the picture as `drawn` (when the button is pressed), as a PNG."""
    st.download_button(
        "Annotated PNG",
        data=lambda: exports.annotated_png(drawn()),
        file_name=exports.export_filename(image.name + "-annotated", "png"),
        mime="image/png",
        icon=":material/download:",
        on_click="ignore",
        key=key,
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


def show_downloads(
    view: TaskView,
    images: Sequence[PreparedImage],
    results: Sequence[ImageResult],
    settings: DisplaySettings,
    key: str,
    plan: RunPlan | None = None,
) -> None:
    """The raw JSON, the view's own exports, for views that draw every annotated picture, and with
    the run's plan a self-contained HTML report."""
    items = export_items(images, results)
    downloads = [
        Download("Results (JSON)", lambda: exports.raw_json(items), "results.json", "application/json"),
        *view.downloads(items, settings),
    ]
    if plan is not None:
        downloads.append(
            Download("Report (HTML)", lambda: run_report([(view, plan)], images, [results], settings), "report.html", "text/html")
        )
    if view.spec.draws_on_picture:
        downloads.append(
            Download(
                "Annotated images (ZIP)",
                lambda: annotated_zip(view, images, results, settings),
                "annotated.zip",
                "application/zip",
            )
        )
    download_row(downloads, key)


def download_row(downloads: Sequence[Download], key: str) -> None:
    """One button per download, side by side; `key` tells rows apart, file names buttons in a row."""
    row = st.container(horizontal=True, gap="small")  # wraps on a narrow screen; labels stay whole
    for download in downloads:
        row.download_button(
            download.label,
            data=download.build,
            file_name=download.file_name,
            mime=download.mime,
            icon=":material/download:",
            on_click="ignore",
            key=f"download_{key}_{download.file_name}",
        )


REPORT_SIDE = 800  # pictures in a report are at most this big: a report of 128 pictures stays a few MB


def run_report(
    runs: Sequence[tuple[TaskView, RunPlan]],
    images: Sequence[PreparedImage],
    results: Sequence[Sequence[ImageResult]],
    settings: DisplaySettings,
) -> str:
    """One HTML file of a run: each picture drawn as on the page (every task's results on it when
    there are several), with what was found, the models, what they were asked, and the time."""
    plans = [plan for _, plan in runs]
    title = plans[0].task.title if len(plans) == 1 else "All tasks"
    facts = [(plan.task.title if len(plans) > 1 else "Asked", _asked_words(plan)) for plan in plans if _asked_words(plan)]
    facts.append(("Images", str(len(images))))
    report_images = []
    for index, image in enumerate(images):
        per_task = [result[index] for result in results]
        drawn = [(view, r.prediction) for (view, _), r in zip(runs, per_task) if r.ok]
        picture = None
        if image.data is not None:
            pixels = _fit(display_pixels(image), REPORT_SIDE)
            picture = display_jpeg(draw_results(pixels, drawn, settings))
        merged = _merged(per_task)
        errors_seen = "; ".join(str(r.error) for r in per_task if r.error is not None)
        report_images.append(
            report.ReportImage(image.name, picture, prediction=merged, error=errors_seen if merged is None else "", url=image.url)
        )
    models = " · ".join(dict.fromkeys(plan.model_label for plan in plans))
    made = time.strftime("%Y-%m-%d %H:%M")
    return report.html_report(report.ReportRun(title, models, tuple(facts), tuple(report_images), made))


def _asked_words(plan: RunPlan) -> str:
    if plan.labels:
        return ", ".join(plan.labels)
    return plan.prompt


def _merged(results: Sequence[ImageResult]) -> Prediction | None:
    """Every task's findings on one picture, as one prediction for the report."""
    ok = [r.prediction for r in results if r.ok]
    if not ok:
        return None
    return Prediction(
        concepts=tuple(c for p in ok for c in p.concepts),
        regions=tuple(region for p in ok for region in p.regions),
        caption=" ".join(p.caption for p in ok if p.caption),
        notes=tuple(note for p in ok for note in p.notes),
        usage=next((p.usage for p in ok if p.usage is not None), None),
        raw_answer="\n\n".join(p.raw_answer for p in ok if p.raw_answer),
    )


def _fit(pixels: np.ndarray, side: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return pixels
    return cv2.resize(pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def annotated_zip(
    view: TaskView, images: Sequence[PreparedImage], results: Sequence[ImageResult], settings: DisplaySettings
) -> bytes:
    buffer = io.BytesIO()
    names: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index, (image, result) in enumerate(zip(images, results)):
            if image.data is None or result.prediction is None:
                continue
            name = exports.export_filename(image.name + "-annotated", "png")
            if name in names:
                name = f"{index:03d}-{name}"
            names.add(name)
            archive.writestr(name, exports.annotated_png(view.draw(image.pixels(), result.prediction, settings)))
    return buffer.getvalue()
