"""The sidebar every page shows: backend, key, model, prediction settings, image handling."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import streamlit as st

from components import errors
from components.clarifai.budget import CallBudget
from components.images.preparation import DEFAULT_MAX_SIDE, PrepareOptions
from components.models import PredictSettings
from components.run.backend import Backend, RunPlan
from components.run.model_fit import ModelChoice, Serving
from components.settings import Credentials, DemoPolicy, resolve_credentials
from components.tasks import Task
from components.text import plain
from components.ui import image_picker
from components.ui import state as ui_state
from components.ui.models import (
    chosen_ref,
    chosen_routing,
    follows_suggestion,
    key,
    known_check,
    model_section,
    resolved_choices,
)

APP_TITLE = "Clarifai Vision Playground"
BACKEND_LABELS = {Backend.CLARIFAI: "Clarifai API", Backend.LOCAL: "Offline · local OpenCV models"}
DEFAULT_MAX_CONCEPTS = 20
NO_OWNER_CALLS = "This demo makes no Clarifai calls on its own key."


@dataclass(frozen=True)
class SidebarChoice:
    backend: Backend
    credentials: Credentials | None
    settings: PredictSettings
    prepare_options: PrepareOptions
    policy: DemoPolicy
    budget: CallBudget | None
    models: dict[Task, ModelChoice] = field(default_factory=dict)
    selected_concepts: dict[Task, tuple[str, ...]] = field(default_factory=dict)
    key_slot: object = field(default=None, compare=False, repr=False)  # where the sidebar says how the typed key fares

    def key_worked(self) -> None:
        """A call with the typed key succeeded after the sidebar was drawn: say so there now."""
        if self.credentials is not None and not self.credentials.from_app_owner:
            ui_state.mark_key_works(self.credentials)
            _show_key_status(self.key_slot, self.credentials)

    def model(self, task: Task) -> ModelChoice:
        return self.models.get(task) or ModelChoice(None, problem="Choose a model in the sidebar.")

    def plan(self, task: Task, prompt: str = "", labels: tuple[str, ...] = ()) -> RunPlan:
        """What a run of `task` asks: the model chosen, its settings and parameters, the page's prompt or labels."""
        choice = self.model(task)
        settings = replace(self.settings, select_concepts=self.selected_concepts.get(task, ()))
        return RunPlan(
            task, self.backend, choice.ref, settings, self.credentials,
            prompt=prompt, labels=labels, params=choice.params, routing=choice.routing,
        )

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
        st.error(f"**{error.title}.** {plain(error)}", icon=":material/settings:")
        st.stop()
    secrets = ui_state.app_secrets()
    owner_key_present = resolve_credentials(None, secrets, os.environ) is not None
    with st.sidebar:
        chosen = st.radio(
            "Backend",
            options=[Backend.CLARIFAI, Backend.LOCAL],
            index=0 if owner_key_present and policy.owner_key_offered else 1,
            format_func=lambda value: BACKEND_LABELS[Backend(value)],  # "offline" too
            key="backend",
            persist_state="session",
            help="Offline runs small OpenCV models on this server: no key, no network, and not Clarifai's models.",
        )
        backend = Backend(chosen)  # a session may still hold the old value, "offline"
        credentials = budget = note_slot = None
        if backend == Backend.CLARIFAI:
            credentials, budget, note_slot = _key_section(policy, secrets)
        models = {t: ModelChoice(*chosen_ref(t), routing=chosen_routing(t)) for t in Task}
        if task is None and backend == Backend.CLARIFAI:  # no picker here: the models the task pages would use
            models = resolved_choices(credentials, budget)
        if task is not None:
            if backend == Backend.CLARIFAI:
                models[task] = model_section(task, credentials, budget)
                if models[task].problem and not _none_answers(task, credentials):  # that one is said calmly above
                    st.error(models[task].problem, icon=":material/error:")
                if credentials is not None and models[task].info is not None:
                    ui_state.mark_key_works(credentials)  # the model was looked up with it
            elif task.spec.local_model is not None:
                model = task.spec.local_model
                st.info(f"**{plain(model.name)}**  \n{plain(model.description)}", icon=":material/memory:")
            else:
                st.warning("There is no local model for this task: choose the Clarifai API and add a key.", icon=":material/cloud_off:")
        classic = backend == Backend.LOCAL or task is None or models[task].serving in (None, Serving.CLASSIC)
        settings, selected = _settings_section(task, show=classic)
        options = _image_options_section()
        if backend == Backend.CLARIFAI:
            st.caption(f"Endpoint: {ui_state.endpoint().label}")
        if note_slot is not None and credentials is not None and credentials.from_app_owner:
            note = "Using this app's Clarifai key." + (f" {budget.allowance.note}" if budget is not None else "")
            note_slot.caption(":material/key: " + note)
        elif note_slot is not None:
            _show_key_status(note_slot, credentials)
    return SidebarChoice(backend, credentials, settings, options, policy, budget, models, selected, note_slot)


def _none_answers(task: Task, credentials: Credentials | None) -> bool:
    check = known_check(task, credentials)
    return check is not None and check.model is None and follows_suggestion(task)


def _show_key_status(slot, credentials: Credentials | None) -> None:
    """Green only once a call made with the key succeeded; until then, neutral."""
    if slot is None or credentials is None:
        return
    if ui_state.key_works(credentials):
        slot.caption(":material/check_circle: :green[Your key works]: Clarifai accepted it for this session's calls.")
    else:
        slot.caption(":material/key: Key entered: it is checked with the first call to Clarifai.")


def _key_section(policy: DemoPolicy, secrets) -> tuple[Credentials | None, CallBudget | None, object | None]:
    """The key field and what it resolves to; for the owner's key, the budget and a slot for its note."""
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
        return None, None, None
    budget = note_slot = None
    if credentials is None:
        if policy.require_visitor_key:
            st.warning("This demo needs your own Clarifai key. Paste it above, or switch to Offline.", icon=":material/key:")
        elif not policy.owner_key_offered:
            st.warning(f"{NO_OWNER_CALLS} Paste your own key above, or switch to Offline.", icon=":material/key:")
        else:
            st.warning("No Clarifai key yet. Paste your PAT above, or switch to Offline.", icon=":material/key:")
    elif credentials.from_app_owner:
        budget = ui_state.call_budget(policy)
        note_slot = st.empty()  # filled once the sidebar's look-ups are charged, so the count is current
    else:
        note_slot = st.empty()  # filled once the sidebar has looked the model up with the key
    return credentials, budget, note_slot


def _settings_section(task: Task | None, show: bool) -> tuple[PredictSettings, dict[Task, tuple[str, ...]]]:
    """Clarifai's output settings for classic models: a minimum score and a count for every page,
    and the concepts to select for this page's task."""
    if show:
        with st.expander("Prediction settings", icon=":material/tune:"):
            st.slider(
                "Minimum score", 0.0, 1.0, 0.0, 0.01, key="min_value", persist_state="session",
                help="The model leaves out concepts scoring below this (Clarifai's min_value).",
            )
            st.number_input(
                "Most concepts per image", 1, 200, DEFAULT_MAX_CONCEPTS, key="max_concepts", persist_state="session",
                help="Clarifai's max_concepts.",
            )
            if task is not None:
                st.text_input(
                    "Only these concepts",
                    key=key("select_concepts", task),
                    persist_state="session",
                    placeholder="e.g. dog, cat, person",
                    help="Comma-separated concept names (Clarifai's select_concepts), for this page's model only. "
                    "Clarifai matches them exactly, capitals included: detectors say “Person”, not “person”. "
                    "Empty means all.",
                )
    min_value = st.session_state.get("min_value", 0.0)
    max_concepts = st.session_state.get("max_concepts", DEFAULT_MAX_CONCEPTS)
    selected = {t: _concept_names(st.session_state.get(key("select_concepts", t)) or "") for t in Task}
    return PredictSettings(min_value=min_value or None, max_concepts=int(max_concepts)), selected


def _concept_names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))


def _image_options_section() -> PrepareOptions:
    with st.expander("Image handling", icon=":material/photo_size_select_large:"):
        downscale = st.toggle(
            f"Shrink large images to {DEFAULT_MAX_SIDE} px",
            value=True,
            key="downscale",
            persist_state="session",
            help="Sends far fewer bytes; boxes still land right. Applies to images added from now on.",
        )
        st.toggle(
            "Shrink photos in the browser",
            value=image_picker.ON_BY_DEFAULT,
            key=image_picker.SWITCH,
            persist_state="session",
            help="Uploads are scaled to the size sent on your device, so far less crosses the network. "
            "Off: the original files are sent and shrunk by the app.",
        )
        clarifai_fetches = st.toggle(
            "Let Clarifai fetch image URLs",
            value=False,
            key="clarifai_fetches_urls",
            persist_state="session",
            help="The app then does not download URLs: it cannot fix their orientation or draw on them.",
        )
    return PrepareOptions(max_side=DEFAULT_MAX_SIDE if downscale else None, clarifai_fetches_urls=clarifai_fetches)
