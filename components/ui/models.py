"""Choosing a page's model in the sidebar: suggested, typed, or found in Clarifai's community; what it
is and whether it can serve the page; its parameters; where it runs.

Choices live in session state under keys per task, so they hold on every page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from components import errors, signatures
from components.clarifai import status
from components.clarifai.budget import CallBudget
from components.models import MODEL_FORMAT_HELP, ModelRef, Routing, parse_model_ref
from components.run.model_fit import ModelChoice, ModelFit, Serving, fit_model
from components.settings import Credentials
from components.signatures import Argument
from components.tasks import SuggestedModel, Task
from components.text import plain, shorten
from components.ui import state as ui_state

SOURCES = {"default": "Suggested", "typed": "Type or paste", "browse": "Search the community"}
SEARCH_PAGE_SIZE = 20
SUGGESTION_CHECKS = "suggestion_checks"  # session state: (key fingerprint, task) -> SuggestionCheck
MODEL_LIST_URL = "https://clarifai.com/explore/models"
ROUTING_KINDS = {"default": "Clarifai's default", "deployment": "A deployment", "nodepool": "A nodepool"}
SERVING_WORDS = {
    Serving.CLASSIC: "a classic model: image in, results out",
    Serving.METHOD: "called with the image",
    Serving.PROMPTED: "a vision-language model, asked by a prompt",
}


_DEFINITE = (errors.AuthError, errors.ModelNotFoundError, errors.ModelForbiddenError, errors.DeploymentError)


def key(name: str, task: Task) -> str:
    return f"{name}_{task.value}"


# --- the choice, from session state -------------------------------------------------------------


def chosen_ref(task: Task) -> tuple[ModelRef | None, str]:
    """The model chosen for `task` (on any page), and a problem when the choice is not a model."""
    source = st.session_state.get(key("model_source", task), "default")
    if source == "typed":
        text = st.session_state.get(key("model_text", task), "")
        try:
            return parse_model_ref(text), ""
        except errors.ModelRefError as error:
            return None, error.message if text else "Type a model, or choose a suggested one."
    if source == "browse":
        picked = st.session_state.get(key("model_pick", task))
        return (parse_model_ref(picked), "") if picked else (None, "Search the community and pick a model.")
    picked = st.session_state.get(key("model_suggested", task))
    return (parse_model_ref(picked) if picked else task.spec.default_model), ""


def chosen_routing(task: Task) -> Routing:
    kind = st.session_state.get(key("routing_kind", task), "default")
    owner = (st.session_state.get(key("routing_user", task)) or "").strip()
    if kind == "deployment":
        return Routing(deployment_id=(st.session_state.get(key("deployment_id", task)) or "").strip(), user_id=owner)
    if kind == "nodepool":
        return Routing(
            nodepool_id=(st.session_state.get(key("nodepool_id", task)) or "").strip(),
            compute_cluster_id=(st.session_state.get(key("cluster_id", task)) or "").strip(),
            user_id=owner,
        )
    return Routing()


# --- the sidebar section ---------------------------------------------------------------------------


def model_section(task: Task, credentials: Credentials | None, budget: CallBudget | None) -> ModelChoice:
    """The model picker for the page's task; with a key, what the model is and whether it fits."""
    source = st.radio(
        f"{task.title} model",
        options=list(SOURCES),
        format_func=SOURCES.get,
        key=key("model_source", task),
        persist_state="session",
        horizontal=True,
    )
    note = ""
    if source == "default":
        note = _suggested_picker(task, credentials, budget)
    elif source == "typed":
        st.text_input(
            "Model",
            key=key("model_text", task),
            persist_state="session",
            placeholder="user/app/model or a clarifai.com model link",
            help=MODEL_FORMAT_HELP,
        )
    else:
        _community_search(task, credentials, budget)
    ref, problem = chosen_ref(task)
    routing = _routing_section(task)
    if ref is None:
        return ModelChoice(None, problem=problem, routing=routing)
    if credentials is None:
        return ModelChoice(ref, note=note, routing=routing)
    try:
        info = ui_state.client().get_model(ref, credentials, routing=routing, before_call=_lookup_charge(budget))
    except _DEFINITE as error:  # the model cannot be used as chosen: say so before Predict
        return ModelChoice(ref, problem=_problem_of(task, ref, error), note=note, routing=routing)
    except errors.AppError as error:  # may pass (network, throttling, budget): Predict will try again
        st.caption(f":material/warning: Could not look the model up yet: {plain(error.message)}")
        return ModelChoice(ref, note=note, routing=routing)
    fit = fit_model(task.spec, info)
    if not fit.fits:
        return ModelChoice(ref, problem=fit.problem, note=note, info=info, fit=fit, routing=routing)
    st.caption(f":material/check_circle: **{plain(shorten(info.name, 60))}** · {plain(info.model_type_id)} · {SERVING_WORDS[fit.serving]}")
    params = _parameters_section(task, ref, fit)
    return ModelChoice(ref, note=note, info=info, fit=fit, params=params, routing=routing)


def _suggested_picker(task: Task, credentials: Credentials | None, budget: CallBudget | None) -> str:
    """A picker of the task's suggested models; with a key, a default that does not answer is
    replaced by the first suggestion that does, and the note says so. When none answers, one calm
    line says what to do instead."""
    suggested = {model.ref.path: model for model in task.spec.models}
    check = _check_or_none(task, credentials, budget)
    first = check.model if check is not None and check.model is not None else task.spec.models[0]
    if check is not None and check.note and st.session_state.get(key("model_replaced", task)) != credentials.fingerprint:
        # once per key: a picker left on the default (e.g. before the key was typed) moves to the replacement
        if follows_suggestion(task):
            st.session_state[key("model_suggested", task)] = first.ref.path
        st.session_state[key("model_replaced", task)] = credentials.fingerprint
    st.selectbox(
        "Suggested model",
        options=list(suggested),
        index=list(suggested).index(first.ref.path),
        format_func=lambda path: suggested[path].label + (" · classic" if suggested[path].classic else ""),
        key=key("model_suggested", task),
        persist_state="session",
        label_visibility="collapsed",
    )
    picked = suggested[st.session_state.get(key("model_suggested", task)) or first.ref.path]
    st.caption(f"{picked.why} {picked.ref.link_markdown}")
    if check is None:
        return ""
    if check.model is None:
        st.info(none_answers_line([task], on_task_page=True), icon=":material/info:")
        return ""
    if check.note:
        st.caption(f":material/swap_horiz: {plain(check.note)}")
    return check.note


@dataclass(frozen=True)
class SuggestionCheck:
    """The first of a task's suggestions that answers with a key, and why those before it do not."""

    task: Task
    model: SuggestedModel | None  # None when no suggestion answers
    failed: tuple[tuple[SuggestedModel, str], ...] = ()  # each suggestion tried before it, and why it failed

    @property
    def default_answers(self) -> bool:
        return self.model is not None and not self.failed

    @property
    def default_reason(self) -> str:
        return self.failed[0][1] if self.failed else ""

    @property
    def note(self) -> str:
        """"Using X: Y does not answer with this key" when the default was replaced ("" otherwise)."""
        if self.model is None or not self.failed:
            return ""
        return f"Using {self.model.label}: {self.failed[0][0].label} does not answer with this key."


def check_suggestions(task: Task, credentials: Credentials, budget: CallBudget | None) -> SuggestionCheck:
    """Looks the task's suggestions up in order until one answers, once per key (kept in session
    state by the key's fingerprint); raises the AppError of a failure that says nothing about the
    models (a refused key, the network, the budget), and keeps nothing then."""
    checked: dict[tuple[str, str], SuggestionCheck] = st.session_state.setdefault(SUGGESTION_CHECKS, {})
    cache_key = (credentials.fingerprint, task.value)
    if cache_key not in checked:
        failed: list[tuple[SuggestedModel, str]] = []
        found = None
        for model in task.spec.models:
            problem = model_problem(task, model.ref, credentials, budget)
            if not problem:
                found = model
                break
            failed.append((model, problem))
        checked[cache_key] = SuggestionCheck(task, found, tuple(failed))
    return checked[cache_key]


def known_check(task: Task, credentials: Credentials | None) -> SuggestionCheck | None:
    """The task's suggestions as already checked with this key, or None when they were not."""
    if credentials is None:
        return None
    return st.session_state.get(SUGGESTION_CHECKS, {}).get((credentials.fingerprint, task.value))


def _check_or_none(task: Task, credentials: Credentials | None, budget: CallBudget | None) -> SuggestionCheck | None:
    if credentials is None:
        return None
    try:
        return check_suggestions(task, credentials, budget)
    except errors.AppError:  # may pass, or is about the key: the model's own look-up says so
        return None


def follows_suggestion(task: Task) -> bool:
    """The task's model is the suggested default: nobody typed, searched or picked another one."""
    if st.session_state.get(key("model_source", task), "default") != "default":
        return False
    picked = st.session_state.get(key("model_suggested", task))
    return not picked or picked == task.spec.default_model.path


def resolved_choices(credentials: Credentials | None, budget: CallBudget | None) -> dict[Task, ModelChoice]:
    """Each task's model for a page without its picker (Home, All tasks): the choice made on the
    task's page; when that is the default, the first suggestion that answers with the key. Nothing
    is looked up on a demo's allowance, nor after a failure that says nothing about the models
    (a refused key, the network); a task none of whose suggestions answers gets a problem."""
    choices = {}
    looking_up = credentials is not None and budget is None
    for task in Task:
        ref, problem = chosen_ref(task)
        choice = ModelChoice(ref, problem=problem, routing=chosen_routing(task))
        if credentials is not None and follows_suggestion(task):
            check = known_check(task, credentials)
            if check is None and looking_up:
                try:
                    check = check_suggestions(task, credentials, budget)
                except errors.AppError:
                    looking_up = False
            if check is not None and check.model is None:
                choice = replace(choice, problem=f"{check.default_reason} No suggested model answers with this key.")
            elif check is not None:
                choice = replace(choice, ref=check.model.ref, note=check.note)
        choices[task] = choice
    return choices


def none_answers_line(tasks: list[Task], on_task_page: bool = False) -> str:
    """One calm line for tasks none of whose suggestions answers with the key: the ways out."""
    titles = " and ".join(task.title for task in tasks)
    where = "in the sidebar above" if on_task_page else "in the sidebar of its page"
    return (
        f"No suggested model for {titles} answers with this key. Choose “{SOURCES['typed']}” {where} to enter a "
        f"model (user/app/model), or “{SOURCES['browse']}”, or open [Clarifai's model list]({MODEL_LIST_URL})."
    )


def model_problem(task: Task, ref: ModelRef, credentials: Credentials, budget: CallBudget | None) -> str:
    """Why the model cannot serve `task` with this key ("" when it answers and fits), naming it;
    raises the AppError of a failure that says nothing about the model (a refused key, the
    network, the budget)."""
    try:
        info = ui_state.client().get_model(ref, credentials, before_call=_lookup_charge(budget))
    except errors.ModelNotFoundError:
        suggestion = task.spec.suggestion(ref)
        return status.unavailable_reason(ref, classic=suggestion is not None and suggestion.classic)
    except (errors.ModelForbiddenError, errors.DeploymentError) as error:
        return error.message.split(". ")[0] + "."
    fit = fit_model(task.spec, info)
    return "" if fit.fits else fit.problem


def _problem_of(task: Task, ref: ModelRef, error: errors.AppError) -> str:
    """The error's message; for a classic suggestion Clarifai no longer has, that it is being retired."""
    suggestion = task.spec.suggestion(ref)
    if isinstance(error, errors.ModelNotFoundError) and suggestion is not None and suggestion.classic:
        return f"{status.unavailable_reason(ref, classic=True)} Pick another model above."
    return str(error)


def _community_search(task: Task, credentials: Credentials | None, budget: CallBudget | None) -> None:
    """Searches Clarifai's community and offers only the models this page can use."""
    query = st.text_input("Search models", key=key("model_query", task), placeholder="e.g. qwen, segment, caption")
    featured = st.toggle("Featured only", key=key("model_featured", task), value=True)
    page_key = key("model_search_page", task)
    left, right = st.columns(2)
    searched = left.button("Search", icon=":material/search:", key=key("model_search", task), width="stretch")
    more = right.button("Next page", key=key("model_next", task), width="stretch", disabled=not st.session_state.get(page_key))
    if searched or more:
        page = st.session_state.get(page_key, 0) + 1 if more else 1
        if credentials is None:
            st.error("Searching Clarifai's models needs a key.", icon=":material/key:")
        else:
            try:
                found = ui_state.client().search_models(
                    query, credentials, featured_only=featured, page=page, per_page=SEARCH_PAGE_SIZE,
                    before_call=_lookup_charge(budget),
                )
            except errors.AppError as error:
                st.error(str(error), icon=":material/error:")
            else:
                usable = [info for info in found if fit_model(task.spec, info).fits]
                st.session_state[key("model_found", task)] = {
                    info.ref.short_path: (info.name, info.ref.user_id, info.model_type_id, info.description) for info in usable
                }
                st.session_state[page_key] = page
                st.session_state[key("model_found_note", task)] = (
                    f"Page {page}: {len(usable)} of {len(found)} models found can serve this page."
                )
    found = st.session_state.get(key("model_found", task)) or {}
    if note := st.session_state.get(key("model_found_note", task)):
        st.caption(plain(note))
    if found:
        st.radio(
            "Models found",
            options=list(found),
            format_func=lambda path: plain(f"{shorten(found[path][0], 40)} · {found[path][1]} · {found[path][2]}"),
            key=key("model_pick", task),
            captions=[plain(shorten(found[path][3], 90)) for path in found],
            persist_state="session",
        )


def _routing_section(task: Task) -> Routing:
    with st.expander("Where it runs", icon=":material/dns:"):
        kind = st.radio(
            "Route calls to",
            options=list(ROUTING_KINDS),
            format_func=ROUTING_KINDS.get,
            key=key("routing_kind", task),
            persist_state="session",
            help="Models uploaded by users run only on a deployment or nodepool their owner set up; "
            "Clarifai's own models run on its shared compute by default.",
        )
        if kind == "deployment":
            st.text_input("Deployment id", key=key("deployment_id", task), persist_state="session")
        elif kind == "nodepool":
            st.text_input("Nodepool id", key=key("nodepool_id", task), persist_state="session")
            st.text_input("Compute cluster id", key=key("cluster_id", task), persist_state="session")
        if kind != "default":
            st.text_input("Owner (user id)", key=key("routing_user", task), persist_state="session")
    return chosen_routing(task)


def _parameters_section(task: Task, ref: ModelRef, fit: ModelFit) -> tuple[tuple[str, object], ...]:
    """Controls generated from the method's tunable parameters (type, default, range, description)."""
    params = fit.method.params if fit.method is not None else ()
    if not params:
        return ()
    values = []
    with st.expander("Model parameters", icon=":material/tune:"):
        for argument in params:
            widget_key = f"param_{task.value}_{ref.short_path}_{argument.name}"
            value = _parameter_control(argument, widget_key)
            if value is not None:
                values.append((argument.name, signatures.clamp_param(argument, value)))
    return tuple(values)


def _parameter_control(argument: Argument, widget_key: str):
    label = plain(argument.name.replace("_", " ").capitalize())
    help_text = plain(argument.description) if argument.description else None
    default = argument.default
    if argument.type == signatures.BOOL:
        return st.toggle(label, value=bool(default), key=widget_key, help=help_text, persist_state="session")
    if argument.type == signatures.INT:
        low = int(argument.minimum) if argument.minimum is not None else None
        high = int(argument.maximum) if argument.maximum is not None else None
        start = int(default) if isinstance(default, (int, float)) else (low or 0)
        return st.number_input(label, low, high, start, step=1, key=widget_key, help=help_text, persist_state="session")
    if argument.type == signatures.FLOAT:
        start = float(default) if isinstance(default, (int, float)) else float(argument.minimum or 0.0)
        if argument.minimum is not None and argument.maximum is not None:
            step = argument.step or round((argument.maximum - argument.minimum) / 100, 4) or 0.01
            return st.slider(
                label, float(argument.minimum), float(argument.maximum), start, step, key=widget_key, help=help_text,
                persist_state="session",
            )
        return st.number_input(label, value=start, key=widget_key, help=help_text, persist_state="session")
    if argument.type in signatures.TEXT_TYPES:
        return st.text_input(label, value=str(default or ""), key=widget_key, help=help_text, persist_state="session")
    return None  # a parameter the app has no control for is left to its default


def _lookup_charge(budget: CallBudget | None):
    return budget.spend_lookup if budget is not None else None
