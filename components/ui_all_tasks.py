"""All tasks on the same images at once: every task's results drawn and listed together."""

from __future__ import annotations

import streamlit as st

from components import backend, ui_state
from components.images import PreparedImage
from components.navigation import ALL_TASKS
from components.results import ImageResult
from components.tasks import ResultKind, Task
from components.text import shorten
from components.ui_page import (
    client_for,
    configure_page,
    images_section,
    model_badge,
    predict_button,
    refresh_if_budget_spent,
    run_with_progress,
)
from components.ui_results import NAME_LENGTH, paginate, run_summary, show_error, show_picture
from components.ui_sidebar import SidebarChoice, render_sidebar
from components.ui_state import PageRun
from components.views import DisplaySettings, RequestInputs, view_for

PAGE_KEY = "all"
PAGE_SIZE = 6
# In a combined card, text reads as a heading, then concepts, then what is drawn on the picture.
_COMPACT_ORDER = (ResultKind.TEXT, ResultKind.CONCEPTS, ResultKind.BOXES, ResultKind.MASKS)


def all_tasks_page() -> None:
    configure_page(ALL_TASKS.label)
    choice = render_sidebar(None)
    st.title(f"{ALL_TASKS.icon} {ALL_TASKS.label}")
    tasks = _tasks_for(choice)
    st.markdown("Every task on the same images at once: boxes and masks on one picture, with its concepts and caption.")
    st.markdown("  \n".join(f"{task.title}: {model_badge(task, choice)}" for task in Task))
    skipped = [task.title for task in Task if task not in tasks]
    if skipped:
        verb = "needs" if len(skipped) == 1 else "need"
        st.caption(f":material/info: {' and '.join(skipped)} {verb} a Clarifai model, so the offline backend runs the other tasks.")

    images = images_section(choice)
    requests = {task: view_for(task).stored_request(ui_state.task_page_key(task)) for task in tasks}
    asked = [f"{task.title}: {_asked(request)}" for task, request in requests.items() if _asked(request)]
    if asked and choice.backend == backend.CLARIFAI:
        st.caption(":material/chat: As set on each task's page — " + " · ".join(asked))
    problem = next((r.problem for r in requests.values() if r.problem), "")
    if predict_button(images, choice, tasks, RequestInputs(problem=problem)):
        plans = [choice.plan(task, requests[task].prompt, requests[task].labels) for task in tasks]
        task_runs = run_with_progress(
            lambda reporter: backend.run_tasks_concurrently(
                plans, images, client=client_for(choice), budget=choice.budget,
                progress=reporter.progress, on_wait=reporter.wait,
            ),
            len(images) * len(plans),
            f"Running {len(plans)} models",
            unit="predictions",
        )
        ui_state.save_page_run(PAGE_KEY, PageRun(images=list(images), task_runs=task_runs))
        refresh_if_budget_spent(choice, sum(r.outcome.clarifai_calls for r in task_runs if r.outcome))

    run = ui_state.page_run(PAGE_KEY)
    if run is not None and run.task_runs:
        st.subheader("Results")
        for task_run in run.task_runs:
            if task_run.error is not None:
                st.markdown(f"**{task_run.plan.task.title}**")
                show_error(task_run.error)
            else:
                st.markdown(f"**{task_run.plan.task.title}** — {run_summary(task_run.outcome, len(run.images))}")
        _combined_grid(run)


def _asked(request: RequestInputs) -> str:
    if request.labels:
        return shorten(", ".join(request.labels), 60)
    return f"“{shorten(request.prompt, 60)}”" if request.prompt else ""


def _tasks_for(choice: SidebarChoice) -> list[Task]:
    if choice.backend == backend.OFFLINE:
        return [task for task in Task if task.spec.offline is not None]
    return list(Task)


@st.fragment
def _combined_grid(run: PageRun) -> None:
    left, right = st.columns(2)
    min_score = left.slider("Show boxes from", 0.0, 1.0, 0.3, 0.01, key="all_min_score", persist_state="session")
    opacity = right.slider("Mask opacity", 0.0, 1.0, 0.5, 0.05, key="all_opacity", persist_state="session")
    settings = DisplaySettings(min_score=min_score, opacity=opacity)
    by_task = {r.plan.task: r.outcome.results for r in run.task_runs if r.outcome is not None}
    for index in paginate(range(len(run.images)), PAGE_KEY, PAGE_SIZE):
        results = {task: outcomes[index] for task, outcomes in by_task.items()}
        with st.container(border=True):
            _combined_card(run.images[index], results, settings)


def _combined_card(image: PreparedImage, results: dict[Task, ImageResult], settings: DisplaySettings) -> None:
    picture_side, text_side = st.columns([3, 2], gap="medium")
    with picture_side:
        show_picture(image, [(view_for(task), result.prediction) for task, result in results.items()], settings)
    with text_side:
        st.markdown(f"**{shorten(image.name, NAME_LENGTH, keep='end')}**")
        for task, result in results.items():
            if result.error is not None:
                st.caption(f"{task.title}:")
                show_error(result.error)
        for task, result in sorted(results.items(), key=lambda item: _compact_rank(item[0])):
            if result.ok:
                view_for(task).compact(image, result.prediction, settings)


def _compact_rank(task: Task) -> int:
    return min(_COMPACT_ORDER.index(kind) for kind in task.spec.result_kinds)
