"""The task pages, each a short story: sidebar → images → Predict → results."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import streamlit as st

from components import backend, ui_state
from components.errors import AppError, UnexpectedError
from components.images import PreparedImage
from components.tasks import Task
from components.ui_inputs import chosen_images_panel, image_picker
from components.ui_results import show_error, show_task_results
from components.ui_sidebar import APP_TITLE, SidebarChoice, render_sidebar
from components.ui_state import PageRun
from components.views import view_for

T = TypeVar("T")
log = logging.getLogger(__name__)


def configure_page(title: str) -> None:
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", page_icon=":material/visibility:", layout="wide")


def task_page(task: Task) -> None:
    configure_page(task.title)
    choice = render_sidebar(task)
    page_key = ui_state.task_page_key(task)
    spec = task.spec
    st.title(f"{spec.icon} {spec.title}")
    st.markdown(f"{spec.blurb}  \n{model_badge(task, choice)}")

    images = images_section(choice)
    if predict_button(images, choice, [task]):
        _run_and_store(page_key, images, lambda progress: backend.run_predictions(
            choice.plan(task),
            images,
            client=client_for(choice),
            budget=choice.budget,
            progress=progress,
        ), choice)

    error = st.session_state.get(f"run_error_{page_key}")
    if error is not None:
        show_error(error)
    run = ui_state.page_run(page_key)
    if run is not None and run.outcome is not None:
        st.subheader("Results")
        if run.outcome.plan != choice.plan(task) or [i.digest for i in run.images] != [i.digest for i in images]:
            st.caption(":material/info: Images or settings changed since these results: press Predict to update them.")
        show_task_results(view_for(task), run, page_key)


def model_badge(task: Task, choice: SidebarChoice) -> str:
    if choice.backend == backend.OFFLINE:
        local = task.spec.offline
        if local is None:
            return ":orange-badge[:material/cloud_off: Needs Clarifai] There is no local model for this task."
        return f":orange-badge[:material/memory: Local OpenCV model] **{local.name}** — runs on this server, not a Clarifai model."
    model = choice.models.get(task)
    if model is None:
        return ":red-badge[No model] " + choice.model_problems.get(task, "Choose a model in the sidebar.")
    return f":blue-badge[:material/cloud: Clarifai] {model.link_markdown}"


def images_section(choice: SidebarChoice) -> list[PreparedImage]:
    with st.container(border=True):
        image_picker(choice.prepare_options)
        return chosen_images_panel()


def predict_button(images: list[PreparedImage], choice: SidebarChoice, tasks: list[Task]) -> bool:
    missing_model = choice.backend == backend.CLARIFAI and any(choice.models.get(t) is None for t in tasks)
    label = f"Predict {len(images)} image{'s' if len(images) != 1 else ''}" if images else "Predict"
    clicked = st.button(
        label,
        type="primary",
        icon=":material/play_arrow:",
        disabled=not images or missing_model,
        key="predict",
        help="Choose images first." if not images else None,
    )
    return clicked


def client_for(choice: SidebarChoice):
    return ui_state.client() if choice.backend == backend.CLARIFAI else None


def _run_and_store(
    page_key: str,
    images: list[PreparedImage],
    work: Callable[[backend.Progress], backend.RunOutcome],
    choice: SidebarChoice,
) -> None:
    try:
        outcome = run_with_progress(work, len(images), "Predicting")
    except AppError as error:
        st.session_state[f"run_error_{page_key}"] = error
        return
    except Exception as error:  # the page shows a message instead of a traceback
        log.exception("unexpected failure in a prediction run")
        st.session_state[f"run_error_{page_key}"] = UnexpectedError.from_exception(error)
        return
    st.session_state[f"run_error_{page_key}"] = None
    ui_state.save_page_run(page_key, PageRun(images=list(images), outcome=outcome))
    refresh_if_budget_spent(choice, outcome.clarifai_calls)


def refresh_if_budget_spent(choice: SidebarChoice, calls: int) -> None:
    """The sidebar was drawn before the run: draw it again so the budget left is current."""
    if choice.budget is not None and calls:
        st.rerun()


def run_with_progress(work: Callable[[backend.Progress], T], total: int, label: str, unit: str = "image(s)") -> T:
    """Runs `work` off the script thread, showing its progress; re-raises what it raised."""
    done = 0
    lock = threading.Lock()

    def report(count: int) -> None:
        nonlocal done
        with lock:
            done = max(done, count)

    bar = st.progress(0.0, text=f"{label}…")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(work, report)
        while not future.done():
            with lock:
                fraction = done / total if total else 0.0
            bar.progress(min(fraction, 1.0), text=f"{label}: {done} of {total} {unit} · {time.perf_counter() - started:.1f} s")
            time.sleep(0.1)
    bar.empty()
    return future.result()
