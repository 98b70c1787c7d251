"""All tasks on the same images at once: every task's results drawn and listed together, with the
task pages' display controls, legend, toggles and downloads, and one summary line for the run."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace

import streamlit as st

from components.errors import AppError
from components.images.preparation import PreparedImage
from components.navigation import ALL_TASKS, TASK_PAGES
from components.outputs import codegen, exports
from components.results import ImageResult
from components.run import backend
from components.run.backend import Backend, RunPlan
from components.run.combined_results import legend, legend_html, summary_line, toggle_names
from components.tasks import Task
from components.text import plain, shorten
from components.ui import state as ui_state
from components.ui.gallery import GALLERY_ABOVE, Tile, open_dialog, show_gallery
from components.ui.models import follows_suggestion, none_answers_line
from components.ui.page import (
    configure_page,
    images_section,
    model_badge,
    predict_button,
    run_models_together,
)
from components.ui.results import (
    annotated_download,
    download_row,
    draw_results,
    drawn_tile,
    export_items,
    picture_name,
    run_report,
    show_code,
    show_error,
    show_picture,
)
from components.ui.sidebar import SidebarChoice, render_sidebar
from components.ui.state import PageRun
from components.views import DisplaySettings, Download, RequestInputs, view_for
from components.views.base import names_turned_off
from components.views.detection import DEFAULT_MIN_SCORE
from components.views.segmentation import DEFAULT_OPACITY

PAGE_KEY = "all"
SEGMENT_FOUND_KEY = "all_segment_found"
NO_TASK_READY = "No task has a model that can be used with this key: choose one on a task's page."
ByTask = Mapping[Task, Sequence[ImageResult]]


def all_tasks_page() -> None:
    configure_page(ALL_TASKS.label)
    choice = render_sidebar(None)
    st.title(f"{ALL_TASKS.icon} {ALL_TASKS.label}")
    tasks = _tasks_for(choice)
    st.markdown("Every task on the same images at once: boxes and masks on one picture, with its concepts and caption.")
    st.markdown("  \n".join(f"{task.title}: {model_badge(task, choice)}" for task in Task))
    for task in tasks:
        if note := choice.model(task).note:
            st.caption(f":material/swap_horiz: {task.title}: {plain(note)}")
    _left_out(choice)
    skipped = [task.title for task in Task if task not in tasks and task.spec.local_model is None]
    if skipped and choice.backend == Backend.LOCAL:
        verb = "needs" if len(skipped) == 1 else "need"
        st.caption(f":material/info: {' and '.join(skipped)} {verb} a Clarifai model, so the offline backend runs the other tasks.")

    images = images_section(choice)
    requests = {task: view_for(task).stored_request(ui_state.task_page_key(task)) for task in tasks}
    asked = [f"{task.title}: {_asked(request)}" for task, request in requests.items() if _asked(request)]
    if asked and choice.backend == Backend.CLARIFAI:
        st.caption(":material/chat: As set on each task's page — " + " · ".join(asked))
    segment_found = _segment_found_option(choice, tasks)
    problem = next((r.problem for r in requests.values() if r.problem), "") or ("" if tasks else NO_TASK_READY)
    if predict_button(images, choice, tasks, RequestInputs(problem=problem)):
        plans = [choice.plan(task, requests[task].prompt, requests[task].labels) for task in tasks]
        if segment_found:
            plans = [replace(p, regions_from=Task.DETECTION) if p.task == Task.SEGMENTATION else p for p in plans]
        run_models_together(plans, images, choice, PAGE_KEY)

    run = ui_state.page_run(PAGE_KEY)
    if run is not None and run.task_runs:
        st.subheader("Results")
        st.markdown(summary_line(run.task_runs, len(run.images)))
        for task_run in run.task_runs:
            if task_run.error is not None:
                error = task_run.error
                st.error(f"**{task_run.plan.task.title}: {error.title}.** {plain(error)}", icon=":material/error:")
                _link_to_picker(task_run.plan.task)
        _combined_results(run)


def _asked(request: RequestInputs) -> str:
    if request.labels:
        return plain(shorten(", ".join(request.labels), 60))
    return f"“{plain(shorten(request.prompt, 60))}”" if request.prompt else ""


def _tasks_for(choice: SidebarChoice) -> list[Task]:
    """The tasks a run does: offline, those with a local model; with Clarifai, those whose model is
    not known to fail (the others are named, with the way to their picker)."""
    if choice.backend == Backend.LOCAL:
        return [task for task in Task if task.spec.local_model is not None]
    return [task for task in Task if not choice.model(task).problem]


def _left_out(choice: SidebarChoice) -> None:
    """One calm line for the tasks left out of a run because their model cannot be used, and a
    link to each one's page, where its model picker is."""
    if choice.backend != Backend.CLARIFAI:
        return
    left_out = [task for task in Task if choice.model(task).problem]
    if not left_out:
        return
    unanswered = [task for task in left_out if follows_suggestion(task)]
    parts = [f"{task.title} is left out: {plain(choice.model(task).problem)}" for task in left_out if task not in unanswered]
    if unanswered:
        parts.append(none_answers_line(unanswered) + " Until then it is left out of the run.")
    st.info("  \n".join(parts), icon=":material/info:")
    with st.container(horizontal=True):
        for task in left_out:
            _link_to_picker(task)


def _link_to_picker(task: Task) -> None:
    page = TASK_PAGES[task]
    st.page_link(page.path, label=f"Choose a model for {page.label}", icon=page.icon, width="content")


def _segment_found_option(choice: SidebarChoice, tasks: list[Task]) -> bool:
    """A toggle, on by default, when the segmentation model can be given the detector's boxes."""
    if choice.backend != Backend.CLARIFAI or choice.credentials is None:
        return False
    if Task.DETECTION not in tasks or Task.SEGMENTATION not in tasks:
        return False
    segmenter, detector = choice.model(Task.SEGMENTATION), choice.model(Task.DETECTION)
    if segmenter.ref is None or detector.ref is None:
        return False
    try:
        fit = backend.regions_fit(ui_state.client(), choice.plan(Task.SEGMENTATION), choice.budget)
    except AppError:  # a wrong key or a missing model: Predict says so for its task
        return False
    if fit is None:
        return False
    return st.toggle(
        "Segment what the detector found",
        value=True,
        key=SEGMENT_FOUND_KEY,
        persist_state="session",
        help=f"Runs the detector first, then gives {segmenter.ref.model_id} each picture's boxes "
        f"(its `{fit.method.name}` method), so each mask is named after what was found there. "
        "A picture with no boxes is segmented whole. Off: both models run at once, masks unnamed.",
    )


# --- the results ---------------------------------------------------------------------------------


@st.fragment
def _combined_results(run: PageRun) -> None:
    by_task = {r.plan.task: r.outcome.results for r in run.task_runs if r.outcome is not None}
    every = [(task.spec, result.prediction) for task, results in by_task.items() for result in results]
    settings = _display_controls(toggle_names(every))
    plans = {r.plan.task: r.plan for r in run.task_runs if r.outcome is not None}
    _downloads(run.images, by_task, settings, plans)
    _code(run)

    def results_of(index: int) -> dict[Task, ImageResult]:
        return {task: outcomes[index] for task, outcomes in by_task.items()}

    if len(run.images) > GALLERY_ABOVE:

        def open_card(index: int) -> None:
            image = run.images[index]
            open_dialog(image.name, lambda: _combined_card(image, results_of(index), settings, show_name=False))

        show_gallery(len(run.images), lambda index: combined_tile(run.images[index], results_of(index), settings), open_card, PAGE_KEY)
        return
    for index, image in enumerate(run.images):
        with st.container(border=True):
            _combined_card(image, results_of(index), settings)


def combined_tile(image: PreparedImage, results: Mapping[Task, ImageResult], settings: DisplaySettings) -> Tile:
    """A gallery tile with every task drawn on the thumbnail, and each task's top answer under it."""
    drawn = tuple((view_for(task), result.prediction) for task, result in results.items() if result.ok)
    answers = [
        view_for(task).headline(image, result.prediction, settings) if result.ok else f"{task.title} failed."
        for task, result in sorted(results.items(), key=lambda item: view_for(item[0]).card_order)
    ]
    picture = drawn_tile(image, drawn, settings)
    return Tile(image.name, picture, image.name, tuple(answers))


def code_requests(run: PageRun, image_index: int = 0) -> list[tuple[Task, codegen.CodeRequest]]:
    """Per Clarifai task run, the request it made for one image; a model given another task's
    regions (Segment Anything given the detector's boxes) is shown given them."""
    if not run.images:
        return []
    image = run.images[min(image_index, len(run.images) - 1)]
    by_task = {r.plan.task: r for r in run.task_runs}
    requests = []
    for task_run in run.task_runs:
        if task_run.outcome is None:
            continue
        plan = task_run.plan
        source = by_task.get(plan.regions_from) if plan.regions_from is not None else None
        regions = backend.found_regions(source, len(run.images))[min(image_index, len(run.images) - 1)] if source else ()
        request = codegen.request_for(plan, task_run.outcome.info, image, regions)
        if request is not None:
            requests.append((plan.task, request))
    return requests


def _code(run: PageRun) -> None:
    """"Get the code" for each Clarifai model of the run, for the first picture."""
    requests = code_requests(run)
    if not requests:
        return
    with st.container(key="all_tasks_code"):
        task = st.selectbox(
            "Code for", [task for task, _ in requests], format_func=lambda t: t.title, key="all_code_task",
            help=f"The request each model was sent for the first picture, {plain(shorten(run.images[0].name, 40))}.",
        )
        show_code(dict(requests)[task])


def _display_controls(names: list[str]) -> DisplaySettings:
    """The detection page's threshold, the segmentation page's opacity, and a toggle per concept
    drawn (its boxes and masks together). They redraw from the results here; no new call."""
    left, right = st.columns(2)
    min_score = left.slider(
        "Show boxes from", 0.0, 1.0, DEFAULT_MIN_SCORE, 0.01, key="all_min_score", persist_state="session",
        help="Boxes scoring below this are not drawn. Redraws from the results already here; no new call.",
    )
    opacity = right.slider("Mask opacity", 0.0, 1.0, DEFAULT_OPACITY, 0.05, key="all_opacity", persist_state="session")
    key = f"all_shown_{zlib.crc32(chr(0).join(names).encode()):08x}"  # new concepts start shown
    hidden = names_turned_off("Shown on the pictures", names, key, "Click a concept to hide or show its boxes and masks.")
    return DisplaySettings(min_score=min_score, opacity=opacity, hidden=hidden)


def _combined_card(
    image: PreparedImage, results: Mapping[Task, ImageResult], settings: DisplaySettings, show_name: bool = True
) -> None:
    picture_side, text_side = st.columns([3, 2], gap="medium")
    with picture_side:
        if show_name:
            picture_name(image)
        show_picture(image, [(view_for(task), result.prediction) for task, result in results.items()], settings)
        drawn = ((task.spec, result.prediction) for task, result in results.items())
        entries = legend(drawn, settings.min_score, settings.hidden)
        if entries:
            st.markdown(legend_html(entries), unsafe_allow_html=True)
    with text_side:
        for task, result in results.items():
            if result.error is not None:
                st.caption(f"{task.title}:")
                show_error(result.error)
        for task, result in sorted(results.items(), key=lambda item: view_for(item[0]).card_order):
            if result.ok:
                view_for(task).compact(image, result.prediction, settings)
        for task, result in results.items():
            for note in (result.prediction.notes if result.ok else ()):
                st.caption(f":material/warning: {task.title}: {plain(note)}")
        if image.data is not None and any(task.spec.draws_on_picture and result.ok for task, result in results.items()):
            annotated_download(image, lambda: _drawn_full_size(image, results, settings), f"png_all_{image.digest}")


# --- downloads -----------------------------------------------------------------------------------


def _downloads(
    images: Sequence[PreparedImage], by_task: ByTask, settings: DisplaySettings, plans: Mapping[Task, RunPlan]
) -> None:
    """What the task pages offer, per task (raw JSON and the view's own exports), and the pictures
    with every task drawn, as on this page."""
    groups = downloads(images, by_task, settings, plans)
    with st.expander("Downloads", icon=":material/download:"):
        for number, (title, group) in enumerate(groups):
            st.caption(title)
            download_row(group, f"all_{number}")  # two tasks may export files of one name


def downloads(
    images: Sequence[PreparedImage],
    by_task: ByTask,
    settings: DisplaySettings,
    plans: Mapping[Task, RunPlan] | None = None,
) -> list[tuple[str, list[Download]]]:
    """The page's downloads, grouped under a title; file names are unique across groups."""
    groups: list[tuple[str, list[Download]]] = []
    if plans:
        runs = [(view_for(task), plans[task]) for task in by_task if task in plans]
        per_task = [by_task[task] for task in by_task if task in plans]
        report_download = Download(
            "Report (HTML)", lambda: run_report(runs, images, per_task, settings), "report-all-tasks.html", "text/html"
        )
        groups.append(("The whole run, to open in any browser", [report_download]))
    if any(task.spec.draws_on_picture for task in by_task) and any(image.data is not None for image in images):
        pictures = Download(
            "Annotated images (ZIP)",
            lambda: combined_zip(images, by_task, settings),
            "annotated-all-tasks.zip",
            "application/zip",
        )
        groups.append(("Every task drawn together", [pictures]))
    for task, results in by_task.items():
        items = export_items(images, results)
        raw = Download(
            "Results (JSON)",
            lambda items=items: exports.raw_json(items),
            f"{task.value}-results.json",
            "application/json",
        )
        groups.append((task.title, [raw, *view_for(task).downloads(items, settings)]))
    return groups


def combined_zip(images: Sequence[PreparedImage], by_task: ByTask, settings: DisplaySettings) -> bytes:
    """One PNG per picture with every task's results drawn on it at full size, as the page shows them."""
    buffer = io.BytesIO()
    names: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index, image in enumerate(images):
            results = {task: outcomes[index] for task, outcomes in by_task.items()}
            if image.data is None or not any(result.ok for result in results.values()):
                continue
            name = exports.export_filename(image.name + "-annotated", "png")
            if name in names:
                name = f"{index:03d}-{name}"
            names.add(name)
            archive.writestr(name, exports.annotated_png(_drawn_full_size(image, results, settings)))
    return buffer.getvalue()


def _drawn_full_size(image: PreparedImage, results: Mapping[Task, ImageResult], settings: DisplaySettings):
    drawn = [(view_for(task), result.prediction) for task, result in results.items()]
    return draw_results(image.pixels(), drawn, settings)
