"""Home: a ready example first, then the tasks, the setup in use, and each task's default model."""

from __future__ import annotations

import streamlit as st

from components import errors
from components.images.preparation import PrepareOptions
from components.images.samples import SAMPLES, SAMPLES_BY_KEY, prepare_sample
from components.navigation import ALL_TASKS, HOME, TASK_PAGES, WORK_PAGES
from components.results import Prediction
from components.run import backend
from components.run.backend import Backend
from components.settings import Endpoint
from components.tasks import TASKS, Task
from components.text import last_path_part, plain, shorten
from components.ui import state as ui_state
from components.ui.inputs import add_sample, chosen_images_panel
from components.ui.models import SuggestionCheck, check_suggestions, none_answers_line
from components.ui.page import configure_page
from components.ui.results import show_picture
from components.ui.sidebar import APP_TITLE, SidebarChoice, render_sidebar
from components.ui.state import PageRun
from components.views import DisplaySettings, view_for

EXAMPLE_SAMPLE = "fruit"
EXAMPLE_DRAWN = Task.DETECTION  # drawn on the example picture
EXAMPLE_PAGE = TASK_PAGES[EXAMPLE_DRAWN]  # where "Use this picture" goes
EXAMPLE_LISTED = Task.CLASSIFICATION  # shown beside it
EXAMPLE_SETTINGS = DisplaySettings(min_score=0.3)
EXAMPLE_OBJECTS_NAMED = 8
TASK_CARDS_PER_ROW = 3


def home_page() -> None:
    configure_page(HOME.label)
    choice = render_sidebar(None)
    st.title(f":material/visibility: {APP_TITLE}")
    st.markdown(
        "Clarifai's image models on your own pictures: concepts, boxes, masks and captions drawn right on "
        "the picture. With no Clarifai key, small local OpenCV models stand in."
    )
    with st.container(border=True):
        last = ui_state.last_run()
        if last is None or not _last_result(*last):
            _sample_example(choice)
    _tasks()
    if ui_state.images() or ui_state.problems():
        st.subheader("Your images")
        if chosen_images_panel():
            st.caption("These images are kept while you move between pages: open a task above and press Predict.")
    st.subheader("Setup")
    checks, note = _check_defaults(choice)  # first: a check that succeeds tells the setup line the key works
    _setup_line(choice)
    _default_models(checks, note)


# --- the example -----------------------------------------------------------------------------------


@st.cache_data(max_entries=2 * len(SAMPLES), show_spinner=False)
def example_predictions(sample_key: str) -> dict[str, Prediction]:
    """What the local models say about a sample picture, by task (computed once per sample)."""
    image = prepare_sample(sample_key, PrepareOptions())
    found = {}
    for task in (EXAMPLE_DRAWN, EXAMPLE_LISTED):
        [result] = backend.run_predictions(backend.RunPlan(task, Backend.LOCAL), [image]).results
        if result.ok:
            found[task.value] = result.prediction
    return found


def _sample_example(choice: SidebarChoice) -> None:
    # The choice of sample and the way to use it first, so both are on a phone's first screen too;
    # the page the button opens shows the picture chosen at once.
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.markdown("**Example** · the local models on a sample picture, no key needed", width="content")
        sample_key = st.pills(
            "Sample picture",
            [sample.key for sample in SAMPLES],
            format_func=lambda key: SAMPLES_BY_KEY[key].title,
            default=EXAMPLE_SAMPLE,
            key="home_example",
            label_visibility="collapsed",
            width="content",
            wrap=True,  # else they would scroll, hiding samples on a phone
        ) or EXAMPLE_SAMPLE
        if st.button(
            f"Use this picture in {EXAMPLE_PAGE.label}",
            icon=":material/add_photo_alternate:",
            key="use_example",
            type="primary",
            help=f"Adds the picture to your images and opens {EXAMPLE_PAGE.label}, where Predict runs a model on it.",
        ):
            _use_example(sample_key, choice)
    predictions = example_predictions(sample_key)
    drawn = predictions.get(EXAMPLE_DRAWN.value)
    picture_side, text_side = st.columns([3, 2], gap="medium")
    with picture_side:
        image = prepare_sample(sample_key, PrepareOptions())
        show_picture(image, [(view_for(EXAMPLE_DRAWN), drawn)], EXAMPLE_SETTINGS)
    with text_side:
        if drawn is not None:
            st.markdown(f"**{EXAMPLE_DRAWN.title}:** {_objects_in_words(drawn)}")
        listed = predictions.get(EXAMPLE_LISTED.value)
        if listed is not None:
            st.markdown(f"**{EXAMPLE_LISTED.title}** (main colours):")
            view_for(EXAMPLE_LISTED).compact(image, listed, EXAMPLE_SETTINGS)
        st.caption("Or bring your own: open a task below and upload photos or paste image URLs.")


def _use_example(sample_key: str, choice: SidebarChoice) -> None:
    """Adds the sample to the chosen images and opens the task drawn on it; a problem adding it
    (the images are full) stays on this page, where it was met."""
    add_sample(sample_key, choice.prepare_options)
    if ui_state.problems():
        st.rerun()
    ui_state.leave_note_for_next_page(f"{SAMPLES_BY_KEY[sample_key].title} is chosen: press Predict to run {EXAMPLE_PAGE.label}.")
    st.switch_page(EXAMPLE_PAGE.path)


def _objects_in_words(prediction: Prediction) -> str:
    named = [
        (region.top_concept.name, region.top_concept.value)
        for region in prediction.regions
        if region.top_concept is not None and region.top_concept.value >= EXAMPLE_SETTINGS.min_score
    ]
    if not named:
        return "nothing found."
    named.sort(key=lambda pair: -pair[1])
    words = ", ".join(f"{plain(name)} {score:.2f}" for name, score in named[:EXAMPLE_OBJECTS_NAMED])
    more = len(named) - EXAMPLE_OBJECTS_NAMED
    return words + (f" and {more} more" if more > 0 else "") + "."


def _last_result(page_key: str, run: PageRun) -> bool:
    """The first image with a result from the visitor's latest run, drawn; False when there is none."""
    runs = [(run.outcome.plan.task, run.outcome)] if run.outcome is not None else [
        (task_run.plan.task, task_run.outcome) for task_run in run.task_runs if task_run.outcome is not None
    ]
    index = next(
        (i for i in range(len(run.images)) if any(i < len(o.results) and o.results[i].ok for _, o in runs)), None
    )
    if index is None:
        return False
    image = run.images[index]
    results = [(task, outcome.results[index]) for task, outcome in runs if outcome.results[index].ok]
    page = ALL_TASKS if page_key == ui_state.task_page_key(None) else TASK_PAGES.get(_task(page_key))
    picture_side, text_side = st.columns([3, 2], gap="medium")
    with text_side:
        st.markdown(f"**Your latest result** · {page.label if page else ''}")
        st.caption(plain(shorten(last_path_part(image.name), 60)))
        for task, result in results:
            if any(region.box is not None for region in result.prediction.regions):
                st.markdown(f"**{task.title}:** {_objects_in_words(result.prediction)}")
            else:
                view_for(task).compact(image, result.prediction, EXAMPLE_SETTINGS)
        if page is not None:
            st.page_link(page.path, label=f"Open {page.label}", icon=page.icon)
    with picture_side:
        show_picture(image, [(view_for(task), result.prediction) for task, result in results], EXAMPLE_SETTINGS)
    return True


def _task(page_key: str) -> Task | None:
    return next((task for task in Task if ui_state.task_page_key(task) == page_key), None)


# --- the way to each task --------------------------------------------------------------------------


def _tasks() -> None:
    st.subheader("Tasks")
    for row_start in range(0, len(WORK_PAGES), TASK_CARDS_PER_ROW):
        row = WORK_PAGES[row_start : row_start + TASK_CARDS_PER_ROW]
        for column, page in zip(st.columns(TASK_CARDS_PER_ROW), row):
            with column.container(border=True, height="stretch"):
                st.page_link(page.path, label=page.label, icon=page.icon)
                st.caption(page.blurb)


# --- the setup in use ------------------------------------------------------------------------------


def _setup_line(choice: SidebarChoice) -> None:
    """One line: the backend, whose key, and the endpoint only when it is not Clarifai's own."""
    if choice.backend == Backend.LOCAL:
        parts = [":material/memory: **Offline**: local OpenCV models on this server", "no key needed"]
    else:
        parts = [":material/cloud: **Clarifai API**"]
        if choice.credentials is None:
            parts.append(":orange[no key yet]: paste yours in the sidebar")
        elif choice.credentials.from_app_owner:
            parts.append(f"the app's key (from the {choice.credentials.source})")
        elif ui_state.key_works(choice.credentials):
            parts.append(":green[your key works]")
        else:
            parts.append("your key (entered in the sidebar)")
        endpoint = ui_state.endpoint()
        if endpoint != Endpoint():
            parts.append(f"endpoint {endpoint.label}")
    st.markdown(" · ".join(parts))
    if choice.demo_note:
        st.caption(f":material/savings: {choice.demo_note}")


def _default_models(checks: dict[Task, SuggestionCheck] | None, note: str) -> None:
    """Each task's default model and local stand-in; with a key, whether each default answers,
    which suggestion stands in for one that does not, and one calm line when none does."""
    lines = []
    for task, spec in TASKS.items():
        stand_in = spec.local_model.name if spec.local_model else "none: needs a Clarifai model"
        line = f"- {spec.icon} **{spec.title}**: {spec.default_model.link_markdown} · offline: {stand_in}"
        check = (checks or {}).get(task)
        if check is not None and check.default_answers:
            line += " · :green[:material/check: answers]"
        elif check is not None and check.model is not None:
            line += f" · :material/swap_horiz: {plain(check.note)}"
        elif check is not None:
            line += f" · no suggested model answers: {plain(check.default_reason)}"
        lines.append(line)
    st.markdown("**Default models**\n" + "\n".join(lines))
    if note:
        st.caption(note)
    unanswered = [task for task, check in (checks or {}).items() if check.model is None]
    if unanswered:
        st.info(none_answers_line(unanswered), icon=":material/info:")
        with st.container(horizontal=True):
            for task in unanswered:
                page = TASK_PAGES[task]
                st.page_link(page.path, label=f"Choose a model for {page.label}", icon=page.icon, width="content")


def _check_defaults(choice: SidebarChoice) -> tuple[dict[Task, SuggestionCheck] | None, str]:
    """Looks each task's suggestions up with the key, in order until one answers, once per key
    (the sidebar may have done it already): what was found per task, and a note. Nothing is
    checked without a key, or when it would spend the demo's allowance; a refused key or a
    passing failure stops the checks and the note says so."""
    if choice.backend != Backend.CLARIFAI or choice.credentials is None:
        return None, ""
    if choice.budget is not None:
        return None, "The defaults are checked when you open a task, so as not to spend this demo's allowance here."
    note = ""
    found: dict[Task, SuggestionCheck] = {}
    for task in TASKS:
        try:
            found[task] = check_suggestions(task, choice.credentials, None)
        except errors.AuthError as error:
            note = f":material/key_off: The defaults were not checked: {error.message}"
            break
        except errors.AppError as error:
            note = f":material/warning: The defaults could not be checked just now: {error.message}"
            break
    if any(check.model is not None for check in found.values()):
        choice.key_worked()
    return found, note
