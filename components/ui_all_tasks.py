"""The page that runs every task on the same images at once and shows them together."""

from __future__ import annotations

import streamlit as st

from components import backend, charts, ui_state
from components.images import PreparedImage
from components.results import ImageResult, Prediction, Region, Task
from components.ui_page import (
    client_for,
    configure_page,
    images_section,
    model_badge,
    predict_button,
    refresh_if_budget_spent,
    run_with_progress,
)
from components.ui_results import (
    View,
    horizontal_bars,
    run_summary,
    show_error,
    show_picture,
)
from components.ui_sidebar import SidebarChoice, render_sidebar
from components.ui_state import PageRun

PAGE_KEY = "all"
PAGE_SIZE = 6


def all_tasks_page() -> None:
    configure_page("All tasks")
    choice = render_sidebar(None)
    st.title(":material/dashboard: All tasks")
    tasks = _tasks_for(choice)
    st.markdown("Every task on the same images at once: boxes and masks on one picture, with its concepts and caption.")
    st.markdown("  \n".join(f"{task.title}: {model_badge(task, choice)}" for task in Task))
    if choice.backend == backend.OFFLINE:
        st.caption(":material/info: Captions need a Clarifai model, so the offline backend runs the other three tasks.")

    images = images_section(choice)
    if predict_button(images, choice, tasks):
        plans = [choice.plan(task) for task in tasks]
        task_runs = run_with_progress(
            lambda progress: backend.run_tasks_concurrently(
                plans, images, client=client_for(choice), budget=choice.budget, progress=progress
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


def _tasks_for(choice: SidebarChoice) -> list[Task]:
    if choice.backend == backend.OFFLINE:
        return [task for task in Task if task != Task.CAPTIONING]
    return list(Task)


@st.fragment
def _combined_grid(run: PageRun) -> None:
    left, right = st.columns(2)
    min_score = left.slider("Show boxes from", 0.0, 1.0, 0.3, 0.01, key="all_min_score", persist_state="session")
    opacity = right.slider("Mask opacity", 0.0, 1.0, 0.5, 0.05, key="all_opacity", persist_state="session")
    view = View(min_score=min_score, opacity=opacity)
    by_task = {r.plan.task: r.outcome.results for r in run.task_runs if r.outcome is not None}
    count = len(run.images)
    pages = max(1, -(-count // PAGE_SIZE))
    page = 1
    if pages > 1:
        page = st.segmented_control(f"Page (of {pages})", list(range(1, pages + 1)), default=1, key="all_page", persist_state="session") or 1
    for index in range((page - 1) * PAGE_SIZE, min(page * PAGE_SIZE, count)):
        image = run.images[index]
        results = {task: outcomes[index] for task, outcomes in by_task.items()}
        with st.container(border=True):
            _combined_card(image, results, view)


def _combined_card(image: PreparedImage, results: dict[Task, ImageResult], view: View) -> None:
    picture_side, text_side = st.columns([3, 2], gap="medium")
    drawn = _regions_of(results, Task.SEGMENTATION) + _regions_of(results, Task.DETECTION)
    with picture_side:
        show_picture(None, image, Prediction(regions=tuple(drawn)), view)
    with text_side:
        st.markdown(f"**{image.name if len(image.name) < 60 else '…' + image.name[-59:]}**")
        for task, result in results.items():
            if result.error is not None:
                st.caption(f"{task.title}:")
                show_error(result.error)
        caption = results.get(Task.CAPTIONING)
        if caption and caption.ok and caption.prediction.caption:
            st.markdown(f"#### “{caption.prediction.caption}”")
        concepts = results.get(Task.CLASSIFICATION)
        if concepts and concepts.ok:
            frame = charts.concepts_frame(concepts.prediction.concepts, 0.0, 8)
            if not frame.empty:
                horizontal_bars(frame, "score", "score")
        counts = []
        if Task.DETECTION in results and results[Task.DETECTION].ok:
            shown = charts.regions_frame(results[Task.DETECTION].prediction.regions, image.width or 1, image.height or 1, view.min_score)
            counts.append(f"{len(shown)} object(s) at score ≥ {view.min_score:.2f}")
        if Task.SEGMENTATION in results and results[Task.SEGMENTATION].ok:
            counts.append(f"{len(results[Task.SEGMENTATION].prediction.regions)} segment(s)")
        if counts:
            st.caption(" · ".join(counts))


def _regions_of(results: dict[Task, ImageResult], task: Task) -> list[Region]:
    result = results.get(task)
    return list(result.prediction.regions) if result is not None and result.ok else []
