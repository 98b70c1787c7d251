"""The task pages, each a short story: sidebar → images → what to ask → Predict → results."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import streamlit as st

from components.clarifai.client import RunCallbacks
from components.errors import AppError, UnexpectedError
from components.images.preparation import PreparedImage
from components.navigation import HOME, NAVIGATION_SECTIONS
from components.run import backend
from components.run.backend import Backend
from components.tasks import Task
from components.text import last_path_part, plain, plural, shorten
from components.ui import state as ui_state
from components.ui.inputs import chosen_images_panel, image_picker
from components.ui.results import show_error, show_task_results
from components.ui.share import open_shared_link, share_section
from components.ui.sidebar import APP_TITLE, SidebarChoice, render_sidebar
from components.ui.state import PageRun
from components.views import RequestInputs, view_for

T = TypeVar("T")
log = logging.getLogger(__name__)
LIVE_ANSWERS_SHOWN = 6  # streamed answers shown while a run is under way
ASSETS = Path(__file__).resolve().parents[2] / "assets"
LOGO = ASSETS / "logo.svg"  # the sidebar's; its wordmark follows the browser's light or dark setting
LOGO_ICON = ASSETS / "logo-icon.svg"  # in the corner while the sidebar is closed


def run_app() -> None:
    """The entry file's work on every run: the logo and the navigation, what a reload left, the
    page, then keeping what the page changed for the next reload."""
    st.logo(str(LOGO), icon_image=str(LOGO_ICON), size="large")
    sections = {
        heading: [
            st.Page(page.path, title=page.label, icon=page.icon, url_path=page.url_path or None, default=page is HOME)
            for page in pages
        ]
        for heading, pages in NAVIGATION_SECTIONS
    }
    current = st.navigation(sections, position="sidebar", expanded=True)
    ui_state.set_current_page(current.title)
    ui_state.restore_after_reload()
    if note := ui_state.take_arrival_note():
        st.toast(note, icon=":material/check_circle:")
    current.run()
    ui_state.keep_for_reload()


def configure_page(title: str) -> None:
    # "auto": the sidebar starts closed on a phone; Streamlit's navigation closes it again after a page is chosen
    st.set_page_config(
        page_title=f"{title} · {APP_TITLE}",
        page_icon=":material/visibility:",
        layout="wide",
        initial_sidebar_state="auto",
    )


def task_page(task: Task) -> None:
    configure_page(task.title)
    open_shared_link(task)  # before the widgets it sets are drawn
    choice = render_sidebar(task)
    page_key = ui_state.task_page_key(task)
    spec = task.spec
    view = view_for(task)
    st.title(f"{spec.icon} {spec.title}")
    st.markdown(f"{spec.blurb}  \n{model_badge(task, choice)}")

    images = images_section(choice)
    request = view.request_controls(choice.model(task), local=choice.backend == Backend.LOCAL, key=page_key)
    if predict_button(images, choice, [task], request):
        plan = choice.plan(task, request.prompt, request.labels)
        _run_and_store(
            page_key,
            images,
            lambda reporter: backend.run_predictions(
                plan, images, client=client_for(choice), budget=choice.budget, callbacks=reporter.callbacks
            ),
            choice,
        )

    error = st.session_state.get(f"run_error_{page_key}")
    if error is not None:
        show_error(error)
        return  # an error replaces the results it made stale
    run = ui_state.page_run(page_key)
    if run is not None and run.outcome is not None:
        heading, share_column = st.columns([4, 1], vertical_alignment="bottom")
        heading.subheader("Results")
        with share_column:
            plan = run.outcome.plan
            share_section(task, plan.model.path if plan.model else "", plan.prompt, plan.labels)
        st.caption(f"From {_model_words(run.outcome.plan)}")
        current = choice.plan(task, request.prompt, request.labels)
        if run.outcome.plan != current or [i.digest for i in run.images] != [i.digest for i in images]:
            st.caption(":material/info: Images or settings changed since these results: press Predict to update them.")
        show_task_results(view, run, page_key)


def _model_words(plan: backend.RunPlan) -> str:
    label = plain(plan.model_label)
    words = label if plan.backend == Backend.LOCAL else f"“{label}”"
    if plan.labels:
        words += f", asked about: {plain(shorten(', '.join(plan.labels), 120))}"
    elif plan.prompt:
        words += f", asked: “{plain(shorten(plan.prompt, 120))}”"
    return words + "."


def model_badge(task: Task, choice: SidebarChoice) -> str:
    if choice.backend == Backend.LOCAL:
        local = task.spec.local_model
        if local is None:
            return ":orange-badge[:material/cloud_off: Needs Clarifai] There is no local model for this task."
        return f":orange-badge[:material/memory: Local OpenCV model] **{local.name}** — runs on this server, not a Clarifai model."
    model = choice.model(task)
    if model.ref is None:
        return ":red-badge[No model] " + (model.problem or "Choose a model in the sidebar.")
    if model.problem:  # known not to answer or not to fit: never shown as if all were well
        return f":orange-badge[:material/cloud_off: Not usable] {model.ref.link_markdown}"
    return f":blue-badge[:material/cloud: Clarifai] {model.ref.link_markdown}"


def images_section(choice: SidebarChoice) -> list[PreparedImage]:
    with st.container(border=True):
        image_picker(choice.prepare_options)
        return chosen_images_panel()


def predict_button(
    images: list[PreparedImage], choice: SidebarChoice, tasks: list[Task], request: RequestInputs = RequestInputs()
) -> bool:
    """The Predict button, disabled with the reason shown when a press could only fail."""
    reason = _why_not_ready(images, choice, tasks, request)
    label = f"Predict {len(images)} image{'s' if len(images) != 1 else ''}" if images else "Predict"
    clicked = st.button(
        label,
        type="primary",
        icon=":material/play_arrow:",
        disabled=bool(reason),
        key="predict",
        help=reason or None,
    )
    if reason and images:
        st.caption(f":material/block: {reason}")
    return clicked


def _why_not_ready(images: list[PreparedImage], choice: SidebarChoice, tasks: list[Task], request: RequestInputs) -> str:
    if not images:
        return "Choose images first."
    if choice.backend == Backend.LOCAL:
        if not any(task.spec.local_model is not None for task in tasks):
            return tasks[0].spec.no_local_model
        return ""
    for task in tasks:
        model = choice.model(task)
        if model.ref is None or model.problem:
            return model.problem or "Choose a model in the sidebar."
    return request.problem


def client_for(choice: SidebarChoice):
    return ui_state.client() if choice.backend == Backend.CLARIFAI else None


def _run_and_store(
    page_key: str,
    images: list[PreparedImage],
    work: Callable[[RunReporter], backend.RunOutcome],
    choice: SidebarChoice,
) -> None:
    try:
        outcome = run_with_progress(work, len(images), "Predicting", names=[image.name for image in images])
    except AppError as error:
        st.session_state[f"run_error_{page_key}"] = error
        return
    except Exception as error:  # the page shows a message instead of a traceback
        log.exception("unexpected failure in a prediction run")
        st.session_state[f"run_error_{page_key}"] = UnexpectedError.from_exception(error)
        return
    st.session_state[f"run_error_{page_key}"] = None
    ui_state.save_page_run(page_key, PageRun(images=list(images), outcome=outcome))
    if outcome.clarifai_calls and outcome.succeeded:
        choice.key_worked()
    refresh_if_budget_spent(choice, outcome.clarifai_calls)


def run_models_together(plans: Sequence[backend.RunPlan], images: list[PreparedImage], choice: SidebarChoice, page_key: str) -> None:
    """Several models on the same images at once (All tasks, Compare), with the run's progress
    shown; the run is kept for the page, and the sidebar redrawn when it spent the demo budget."""
    task_runs = run_with_progress(
        lambda reporter: backend.run_tasks_concurrently(
            plans, images, client=client_for(choice), budget=choice.budget, callbacks=reporter.callbacks
        ),
        len(images) * len(plans),
        f"Running {plural(len(plans), 'model')}",
        unit="prediction",
    )
    ui_state.save_page_run(page_key, PageRun(images=list(images), task_runs=task_runs))
    refresh_if_budget_spent(choice, sum(run.outcome.clarifai_calls for run in task_runs if run.outcome))


def refresh_if_budget_spent(choice: SidebarChoice, calls: int) -> None:
    """The sidebar was drawn before the run: draw it again so the budget left is current."""
    if choice.budget is not None and calls:
        st.rerun()


@dataclass
class RunReporter:
    """What a run reports while it works (from worker threads): images done, what it waits for,
    and answers as they stream in. The page reads it to draw progress."""

    done: int = 0
    waiting: str = ""
    texts: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def progress(self, count: int) -> None:
        with self._lock:
            self.done = max(self.done, count)
            self.waiting = ""

    def wait(self, message: str) -> None:
        with self._lock:
            self.waiting = message

    def text(self, index: int, text: str) -> None:
        with self._lock:
            self.texts[index] = text
            self.waiting = ""

    @property
    def callbacks(self) -> RunCallbacks:
        """Its methods as the callbacks a run reports through."""
        return RunCallbacks(progress=self.progress, on_text=self.text, on_wait=self.wait)

    def snapshot(self) -> tuple[int, str, dict[int, str]]:
        with self._lock:
            return self.done, self.waiting, dict(self.texts)


def run_with_progress(
    work: Callable[[RunReporter], T],
    total: int,
    label: str,
    unit: str = "image",
    names: Sequence[str] = (),
) -> T:
    """Runs `work` off the script thread, showing its progress, what it waits for, and answers as
    they stream in; re-raises what it raised."""
    reporter = RunReporter()
    bar = st.progress(0.0, text=f"{label}…")
    live = st.empty()
    started = time.perf_counter()
    shown_texts: dict[int, str] = {}
    drawn_at = 0.0
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(work, reporter)
        while not future.done():
            done, waiting, texts = reporter.snapshot()
            status = waiting or f"{done} of {plural(total, unit)}"
            bar.progress(min(done / total if total else 0.0, 1.0), text=f"{label}: {status} · {time.perf_counter() - started:.1f} s")
            if texts != shown_texts and time.perf_counter() - drawn_at >= LIVE_REDRAW_S:
                shown_texts, drawn_at = texts, time.perf_counter()
                _show_live_answers(live, texts, names)
            time.sleep(0.1)
    bar.empty()
    live.empty()
    return future.result()


LIVE_REDRAW_S = 0.3  # answers as they arrive are redrawn at most this often


def _show_live_answers(placeholder, texts: dict[int, str], names: Sequence[str]) -> None:
    with placeholder.container(border=True):
        st.caption(":material/stream: Answers as they arrive")
        for index in sorted(texts)[:LIVE_ANSWERS_SHOWN]:
            name = shorten(last_path_part(names[index]), 40) if index < len(names) else f"Image {index + 1}"
            st.text(f"{name}: {texts[index]}▌")  # the latest part only, as plain text
