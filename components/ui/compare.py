"""Compare models: two to four models for one task on the same images, side by side, with what one
found that the others did not, how much they agree, and each model's time and calls."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from components import errors
from components.images.preparation import PreparedImage
from components.models import MODEL_FORMAT_HELP, ModelRef, parse_model_ref
from components.navigation import COMPARE
from components.results import ImageResult
from components.run.backend import Backend, RunPlan, TaskRun
from components.run.model_fit import ModelChoice, Serving, fit_model
from components.tasks import Task
from components.text import plain, shorten
from components.ui import state as ui_state
from components.ui.gallery import paginate
from components.ui.page import configure_page, images_section, predict_button, run_models_together
from components.ui.results import NAME_LENGTH, show_error, show_picture
from components.ui.sidebar import SidebarChoice, render_sidebar
from components.ui.state import PageRun
from components.views import RequestInputs, view_for

PAGE_KEY = "compare"
TITLE = COMPARE.label
PAGE_SIZE = 4
TYPED = "typed"  # the picker's choice for a model typed by hand
MODEL_COUNTS = [2, 3, 4]


def compare_page() -> None:
    configure_page(TITLE)
    choice = render_sidebar(None)
    st.title(f"{COMPARE.icon} {TITLE}")
    st.markdown(
        "Two to four models for one task on the same images, side by side: what each found that the others "
        "did not, how much they agree, and what each took."
    )
    task = st.segmented_control(
        "Task", list(Task), format_func=lambda t: t.title, default=Task.DETECTION, key="compare_task", persist_state="session"
    ) or Task.DETECTION
    local = choice.backend == Backend.LOCAL
    plans, problems = _model_slots(task, choice, local)
    images = images_section(choice)
    request = _request_inputs(task, plans, choice, local)
    problem = request.problem or next(iter(problems), "")
    if predict_button(images, choice, [task], RequestInputs(problem=problem)):
        plans = [_with_request(plan, request) for plan in plans]
        run_models_together(plans, images, choice, PAGE_KEY)

    run = ui_state.page_run(PAGE_KEY)
    if run is not None and run.task_runs:
        st.subheader("Results")
        _results(run)


# --- choosing the models ---------------------------------------------------------------------------


def _model_slots(task: Task, choice: SidebarChoice, local: bool) -> tuple[list[RunPlan], list[str]]:
    """A picker per model slot; the plans they make, and what stops Predict."""
    count = st.segmented_control(
        "Models", MODEL_COUNTS, default=2, key="compare_count", persist_state="session"
    ) or 2
    plans, problems = [], []
    for slot, column in enumerate(st.columns(count)):
        with column.container(border=True):
            plan, problem = (_local_slot if local else _clarifai_slot)(task, slot, choice)
        if plan is not None:
            plans.append(plan)
        if problem:
            problems.append(problem)
    return plans, problems


def _local_slot(task: Task, slot: int, choice: SidebarChoice) -> tuple[RunPlan | None, str]:
    models = task.spec.local_models
    if not models:
        st.caption(task.spec.no_local_model)
        return None, task.spec.no_local_model
    names = [model.name for model in models]
    picked = st.selectbox(
        f"Model {slot + 1}", names, index=slot % len(names), key=f"compare_local_{task.value}_{slot}", persist_state="session"
    )
    model = models[names.index(picked)]
    st.caption(model.description)
    return RunPlan(task, Backend.LOCAL, settings=choice.settings, chosen_local_model=model), ""


def _clarifai_slot(task: Task, slot: int, choice: SidebarChoice) -> tuple[RunPlan | None, str]:
    suggested = {model.ref.path: model.label for model in task.spec.models}
    options = [*suggested, TYPED]
    picked = st.selectbox(
        f"Model {slot + 1}",
        options,
        index=min(slot, len(suggested) - 1),
        format_func=lambda path: "Type or paste a model…" if path == TYPED else suggested[path],
        key=f"compare_model_{task.value}_{slot}",
        persist_state="session",
    )
    if picked == TYPED:
        text = st.text_input(
            "Model", key=f"compare_text_{task.value}_{slot}", placeholder="user/app/model", help=MODEL_FORMAT_HELP,
            label_visibility="collapsed",
        )
        try:
            ref = parse_model_ref(text)
        except errors.ModelRefError as error:
            if text:
                st.error(error.message)
            return None, f"Model {slot + 1}: {error.message if text else 'type a model.'}"
    else:
        ref = parse_model_ref(picked)
    model = _checked(task, ref, choice)
    if model.problem:
        st.error(model.problem)
        return None, f"Model {slot + 1}: {model.problem}"
    if model.serving is not None:
        st.caption(f":material/check_circle: {plain(shorten(model.info.name, 40))} · {_serving_words(model.serving)}")
    plan = RunPlan(task, Backend.CLARIFAI, ref, choice.settings, choice.credentials)
    return plan, ""


def _checked(task: Task, ref: ModelRef, choice: SidebarChoice) -> ModelChoice:
    """The model looked up with the key (cached), and whether it can serve the task."""
    if choice.credentials is None:
        return ModelChoice(ref)
    budget = choice.budget
    try:
        info = ui_state.client().get_model(ref, choice.credentials, before_call=budget.spend_lookup if budget else None)
    except (errors.AuthError, errors.ModelNotFoundError, errors.ModelForbiddenError, errors.DeploymentError) as error:
        return ModelChoice(ref, problem=str(error))
    except errors.AppError:
        return ModelChoice(ref)  # may pass: Predict will say
    fit = fit_model(task.spec, info)
    return ModelChoice(ref, problem=fit.problem, info=info, fit=fit)


def _serving_words(serving: Serving) -> str:
    return {Serving.CLASSIC: "classic", Serving.METHOD: "called with the image", Serving.PROMPTED: "asked by a prompt"}[serving]


def _request_inputs(task: Task, plans: Sequence[RunPlan], choice: SidebarChoice, local: bool) -> RequestInputs:
    """The task's prompt or labels, as on its own page (shared with it), when a model is asked by a prompt."""
    view = view_for(task)
    if local or not task.spec.prompted:
        return RequestInputs()
    prompted = [
        _checked(task, plan.model, choice) for plan in plans if plan.model is not None
    ]
    asked = next((model for model in prompted if model.serving == Serving.PROMPTED), None)
    if asked is None:
        return RequestInputs()
    with st.container(border=True):
        st.caption("Asked of the vision-language models (the classic ones take no prompt):")
        return view.request_controls(asked, local=False, key=ui_state.task_page_key(task))


def _with_request(plan: RunPlan, request: RequestInputs) -> RunPlan:
    return RunPlan(
        plan.task, plan.backend, plan.model, plan.settings, plan.credentials,
        prompt=request.prompt, labels=request.labels, chosen_local_model=plan.chosen_local_model,
    )


# --- the results -------------------------------------------------------------------------------------


def _results(run: PageRun) -> None:
    runs = run.task_runs
    task = runs[0].plan.task
    st.dataframe(_summary_table(runs, len(run.images)), hide_index=True, width="stretch")
    for task_run in runs:
        if task_run.error is not None:
            st.markdown(f"**{plain(task_run.plan.model_label)}**")
            show_error(task_run.error)
    done = [r for r in runs if r.outcome is not None]
    if len(done) < 2:
        return
    _grid(task, run.images, done)


def _summary_table(runs: Sequence[TaskRun], image_count: int) -> pd.DataFrame:
    rows = []
    for task_run in runs:
        outcome = task_run.outcome
        rows.append(
            {
                "Model": task_run.plan.model_label,
                "With results": outcome.succeeded if outcome else 0,
                "Failed": image_count - outcome.succeeded if outcome else image_count,
                "Time (s)": round(outcome.seconds, 2) if outcome else None,
                "Clarifai calls": outcome.clarifai_calls if outcome else 0,
                "From cache": outcome.from_cache if outcome else 0,
            }
        )
    return pd.DataFrame(rows)


@st.fragment
def _grid(task: Task, images: Sequence[PreparedImage], runs: Sequence[TaskRun]) -> None:
    view = view_for(task)
    settings = view.controls([r for run in runs for r in run.outcome.results], PAGE_KEY)
    labels = [run.plan.model_label for run in runs]
    per_image = [
        [run.outcome.results[index] for run in runs] for index in range(len(images))
    ]
    differences = [
        view.compare([r.prediction if r.ok else None for r in results], settings) for results in per_image
    ]
    counted = sum(d.counted for d in differences)
    if counted:
        overall = sum(d.agreement * d.counted for d in differences) / counted
        st.markdown(f"**Agreement over all images: {overall:.0%}** " + view.agreement_words)
    else:
        st.markdown("**No model found anything on these images**, so there is nothing to agree on.")
    for index in paginate(range(len(images)), PAGE_KEY, PAGE_SIZE):
        with st.container(border=True):
            _comparison_card(view, images[index], labels, per_image[index], differences[index], settings)


def _comparison_card(view, image: PreparedImage, labels, results: Sequence[ImageResult], difference, settings) -> None:
    agreement = f"agreement {difference.agreement:.0%}" if difference.counted else "no model found anything"
    st.markdown(f"**{plain(shorten(image.name, NAME_LENGTH, keep='end'))}** · {agreement}")
    for column, label, result, only in zip(st.columns(len(results)), labels, results, difference.only):
        with column:
            st.caption(f"**{plain(shorten(label, 50))}**")
            if result.error is not None:
                show_error(result.error)
                continue
            show_picture(image, [(view, result.prediction)], settings)
            view.compact(image, result.prediction, settings)
            if only:
                st.markdown(f":orange-badge[Only this model] {plain(', '.join(sorted(set(only))))}")
    if difference.shared:
        st.caption(f"Every model found: {plain(', '.join(difference.shared))}")
