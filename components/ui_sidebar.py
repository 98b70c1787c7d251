"""The sidebar every page shows: backend, key, model, prediction settings, image handling."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import streamlit as st

from components import errors, ui_state
from components.backend import CLARIFAI, OFFLINE, RunPlan
from components.budget import CallBudget
from components.images import DEFAULT_MAX_SIDE, PrepareOptions
from components.models import MODEL_FORMAT_HELP, ModelRef, PredictSettings, parse_model_ref
from components.navigation import PAGES
from components.settings import Credentials, DemoPolicy, resolve_credentials
from components.tasks import Task

APP_TITLE = "Clarifai Vision Playground"
BACKEND_LABELS = {CLARIFAI: "Clarifai API", OFFLINE: "Offline · local OpenCV models"}
MODEL_SOURCES = {"default": "Default model", "typed": "Type or paste a model", "browse": "Browse Clarifai's models"}
DEFAULT_MAX_CONCEPTS = 20
NO_OWNER_CALLS = "This demo makes no Clarifai calls on its own key."


@dataclass(frozen=True)
class SidebarChoice:
    backend: str
    credentials: Credentials | None
    settings: PredictSettings
    prepare_options: PrepareOptions
    policy: DemoPolicy
    budget: CallBudget | None
    models: dict[Task, ModelRef | None] = field(default_factory=dict)
    model_problems: dict[Task, str] = field(default_factory=dict)

    def plan(self, task: Task) -> RunPlan:
        return RunPlan(task, self.backend, self.models.get(task), self.settings, self.credentials)

    @property
    def demo_note(self) -> str | None:
        """What the demo allows on the owner's key, for the home page; None when it sets nothing."""
        if self.policy.require_visitor_key:
            return "This demo needs your own Clarifai key: enter it in the sidebar, or use the offline models."
        if not self.policy.owner_key_offered:
            return f"{NO_OWNER_CALLS} Enter your own key in the sidebar, or use the offline models."
        if self.budget is not None:
            return self.budget.allowance.note
        return None


def render_sidebar(task: Task | None) -> SidebarChoice:
    """Draws the sidebar for a page (`task` None on pages without a model of their own)."""
    try:
        policy = ui_state.demo_policy()
    except errors.ConfigError as error:  # the owner's settings are wrong: say so on every page
        st.error(f"**{error.title}.** {error}", icon=":material/settings:")
        st.stop()
    secrets = ui_state.app_secrets()
    owner_key_present = resolve_credentials(None, secrets, os.environ) is not None
    with st.sidebar:
        st.markdown(f"### :material/visibility: {APP_TITLE}")
        for page in PAGES:
            st.page_link(page.path, label=page.label, icon=page.icon)
        st.divider()
        backend = st.radio(
            "Backend",
            options=[CLARIFAI, OFFLINE],
            index=0 if owner_key_present and policy.owner_key_offered else 1,
            format_func=BACKEND_LABELS.get,
            key="backend",
            persist_state="session",
            help="Offline runs small OpenCV models on this server: no key, no network, and not Clarifai's models.",
        )
        credentials = None
        budget = None
        if backend == CLARIFAI:
            credentials, budget = _key_section(policy, secrets)
        if task is not None:
            if backend == CLARIFAI:
                _model_section(task, credentials, budget)
            elif task.spec.offline is not None:
                model = task.spec.offline
                st.info(f"**{model.name}**  \n{model.description}", icon=":material/memory:")
            else:
                st.warning("There is no local model for this task: choose the Clarifai API and add a key.", icon=":material/cloud_off:")
        models, problems = _chosen_models()  # after the model widgets, so this run's choice counts
        if task is not None and backend == CLARIFAI and task in problems:
            st.error(problems[task], icon=":material/error:")
        settings = _settings_section()
        options = _image_options_section()
        st.caption(f"Endpoint: {ui_state.endpoint().label}")
    return SidebarChoice(backend, credentials, settings, options, policy, budget, models, problems)


def _key_section(policy: DemoPolicy, secrets) -> tuple[Credentials | None, CallBudget | None]:
    typed = st.text_input(
        "Clarifai key (personal access token)",
        type="password",
        key="pat",
        persist_state="session",
        placeholder="Paste your PAT",
        help="Create one on clarifai.com under Settings → Secrets. It stays in this browser session "
        "and is sent only to Clarifai, with each call.",
    )
    try:
        credentials = resolve_credentials(typed, secrets, os.environ, allow_owner_key=policy.owner_key_offered)
    except errors.KeyFormatError as error:
        st.error(error.message, icon=":material/key_off:")
        return None, None
    budget = None
    if credentials is None:
        if policy.require_visitor_key:
            st.warning("This demo needs your own Clarifai key. Paste it above, or switch to Offline.", icon=":material/key:")
        elif not policy.owner_key_offered:
            st.warning(f"{NO_OWNER_CALLS} Paste your own key above, or switch to Offline.", icon=":material/key:")
        else:
            st.warning("No Clarifai key yet. Paste your PAT above, or switch to Offline.", icon=":material/key:")
    elif credentials.from_app_owner:
        budget = ui_state.call_budget(policy)
        note = "Using this app's Clarifai key."
        if budget is not None:
            note += " " + budget.allowance.note
        st.caption(":material/key: " + note)
    else:
        st.caption(":material/check_circle: Using your key for this session's calls.")
    return credentials, budget


def _chosen_models() -> tuple[dict[Task, ModelRef | None], dict[Task, str]]:
    """Each task's model as chosen in the sidebar (on any page), from session state."""
    models: dict[Task, ModelRef | None] = {}
    problems: dict[Task, str] = {}
    for task in Task:
        source = st.session_state.get(f"model_source_{task.value}", "default")
        if source == "typed":
            try:
                models[task] = parse_model_ref(st.session_state.get(f"model_text_{task.value}", ""))
            except errors.ModelRefError as error:
                models[task] = None
                if st.session_state.get(f"model_text_{task.value}"):
                    problems[task] = error.message
        elif source == "browse" and st.session_state.get(f"model_pick_{task.value}"):
            models[task] = parse_model_ref(st.session_state[f"model_pick_{task.value}"])
        else:
            models[task] = task.spec.default_model
    return models, problems


def _model_section(task: Task, credentials: Credentials | None, budget: CallBudget | None) -> None:
    source = st.radio(
        f"{task.title} model",
        options=list(MODEL_SOURCES),
        format_func=MODEL_SOURCES.get,
        key=f"model_source_{task.value}",
        persist_state="session",
    )
    if source == "default":
        st.caption(task.spec.default_model.link_markdown)
    elif source == "typed":
        st.text_input(
            "Model",
            key=f"model_text_{task.value}",
            persist_state="session",
            placeholder="user/app/model or a clarifai.com model link",
            help=MODEL_FORMAT_HELP,
        )
    else:
        _browse_models(task, credentials, budget)


def _browse_models(task: Task, credentials: Credentials | None, budget: CallBudget | None) -> None:
    listed_key = f"model_list_{task.value}"
    default = task.spec.default_model
    if st.button(f"Load {task.title.lower()} models from {default.user_id}/{default.app_id}", key=f"load_models_{task.value}"):
        if credentials is None:
            st.error("Loading Clarifai's models needs a key.", icon=":material/key:")
        else:
            left_before = budget.remaining if budget else None
            try:
                found = []
                for type_id in task.spec.model_types:
                    found += ui_state.client().list_models(
                        default.user_id, default.app_id, type_id, credentials,
                        before_call=budget.spend_lookup if budget else None,
                    )
                st.session_state[listed_key] = {info.ref.path: info.name for info in found}
            except errors.AppError as error:
                st.error(str(error), icon=":material/error:")
            else:
                if budget is not None and budget.remaining != left_before:
                    st.rerun()  # the note above the model shows what is left
    listed = st.session_state.get(listed_key) or {}
    if listed:
        paths = list(listed)
        default_index = next((i for i, path in enumerate(paths) if path.startswith(default.short_path)), 0)
        st.selectbox(
            "Model",
            options=paths,
            index=default_index,
            format_func=lambda path: f"{listed[path]} · {path.split('/')[2]}",
            key=f"model_pick_{task.value}",
            persist_state="session",
        )
    else:
        st.caption("Press the button to list the models Clarifai offers for this task.")


def _settings_section() -> PredictSettings:
    with st.expander("Prediction settings", icon=":material/tune:"):
        min_value = st.slider(
            "Minimum score",
            0.0,
            1.0,
            0.0,
            0.01,
            key="min_value",
            persist_state="session",
            help="The model leaves out concepts scoring below this (Clarifai's min_value).",
        )
        max_concepts = st.number_input(
            "Most concepts per image",
            1,
            200,
            DEFAULT_MAX_CONCEPTS,
            key="max_concepts",
            persist_state="session",
            help="Clarifai's max_concepts.",
        )
        selected = st.text_input(
            "Only these concepts",
            key="select_concepts",
            persist_state="session",
            placeholder="e.g. dog, cat, person",
            help="Comma-separated concept names (Clarifai's select_concepts). Empty means all.",
        )
    names = tuple(dict.fromkeys(name.strip() for name in selected.split(",") if name.strip()))
    return PredictSettings(min_value=min_value or None, max_concepts=int(max_concepts), select_concepts=names)


def _image_options_section() -> PrepareOptions:
    with st.expander("Image handling", icon=":material/photo_size_select_large:"):
        downscale = st.toggle(
            f"Shrink large images to {DEFAULT_MAX_SIDE} px",
            value=True,
            key="downscale",
            persist_state="session",
            help="Sends far fewer bytes; boxes still land right. Applies to images added from now on.",
        )
        clarifai_fetches = st.toggle(
            "Let Clarifai fetch image URLs",
            value=False,
            key="clarifai_fetches_urls",
            persist_state="session",
            help="The app then does not download URLs: it cannot fix their orientation or draw on them.",
        )
    return PrepareOptions(max_side=DEFAULT_MAX_SIDE if downscale else None, clarifai_fetches_urls=clarifai_fetches)
