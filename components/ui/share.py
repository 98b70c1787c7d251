"""Share a page: a link with its task, model, settings and image addresses, and opening such a link.

The link never holds the key (it is not part of what is shared) nor uploaded pictures (only images
the app fetched by their address travel, as their addresses).
"""

from __future__ import annotations

import streamlit as st

from components.images.preparation import DEFAULT_MAX_SIDE, PrepareOptions, prepare_url
from components.outputs import share
from components.tasks import Task
from components.text import plural
from components.ui import state as ui_state
from components.ui.inputs import add_prepared
from components.ui.models import key as model_key
from components.ui.state import ImageProblem
from components.views import view_for


def open_shared_link(task: Task) -> None:
    """Restores what a shared link names (before the page draws its widgets), then clears the link's
    query so a reload does not add its images again."""
    params = {name: st.query_params.get_all(name) for name in share.KEYS if name in st.query_params}
    if not params:
        return
    shared = share.read_share(params)
    st.query_params.clear()
    state = st.session_state
    if shared.model is not None:
        suggested = {model.ref.path for model in task.spec.models}
        if shared.model.path in suggested:
            state[model_key("model_source", task)] = "default"
            state[model_key("model_suggested", task)] = shared.model.path
        else:
            state[model_key("model_source", task)] = "typed"
            state[model_key("model_text", task)] = shared.model.path
    state.update(view_for(task).request_state(ui_state.task_page_key(task), shared.prompt, shared.labels))
    if shared.select:
        state[model_key("select_concepts", task)] = shared.select
    if shared.min_value is not None:
        state["min_value"] = shared.min_value
    if shared.max_concepts is not None:
        state["max_concepts"] = shared.max_concepts
    problems = [ImageProblem("Shared link", problem) for problem in shared.problems]
    if shared.urls:
        if shared.clarifai_fetches_urls:
            state["clarifai_fetches_urls"] = True
        options = PrepareOptions(
            max_side=DEFAULT_MAX_SIDE if state.get("downscale", True) else None,
            clarifai_fetches_urls=bool(state.get("clarifai_fetches_urls", False)),
        )
        with st.spinner(f"Fetching the link's {plural(len(shared.urls), 'image')}…"):
            problems += add_prepared(list(shared.urls), [lambda url=url: prepare_url(url, options) for url in shared.urls])
    ui_state.set_problems(problems)
    st.toast("Opened a shared link: its model, settings and images are set.", icon=":material/share:")


def share_section(task: Task, model_path: str, prompt: str, labels: tuple[str, ...]) -> None:
    """A link that reopens this page as it is: task, model, settings and the images added by address."""
    state = st.session_state
    images = list(ui_state.images().values())
    used = task.spec.output_settings_used  # a captioning link carries no concept settings
    shared = share.SharedPage(
        model=share.read_share({"model": model_path}).model if model_path else None,
        prompt=prompt,
        labels=", ".join(labels),
        min_value=(state.get("min_value") or None) if "min_value" in used else None,
        max_concepts=state.get("max_concepts") if "max_concepts" in used else None,
        select=(state.get(model_key("select_concepts", task)) or "") if "select_concepts" in used else "",
        urls=tuple(image.url for image in images if image.source == "url" and image.url),
        clarifai_fetches_urls=any(image.fetched_by_clarifai for image in images),
    )
    query = share.share_query(shared)
    base = st.context.url or ""
    with st.popover("Share", icon=":material/share:"):
        st.caption("A link that opens this page with the same model, settings and image addresses:")
        st.code(base + query, language=None, wrap_lines=True)
        uploaded = sum(1 for image in images if image.source != "url")
        notes = ["The key is never in it."]
        if uploaded:
            verb = "is" if uploaded == 1 else "are"
            notes.insert(0, f"{plural(uploaded, 'uploaded picture')} {verb} not in it: only images added by their address travel.")
        if len(shared.urls) > share.MAX_URLS:
            notes.insert(0, f"Only the first {share.MAX_URLS} image addresses are in it.")
        st.caption(" ".join(notes))
