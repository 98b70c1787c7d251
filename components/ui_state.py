"""What a session remembers, and configuration read from the running app.

Everything a page needs to survive a page switch lives in `st.session_state` under the keys
below, never only in a widget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import streamlit as st

from components.backend import CallBudget, RunOutcome, TaskRun
from components.clarifai_client import ClarifaiClient, get_client
from components.images import PreparedImage
from components.memory import return_large_blocks_to_the_system
from components.settings import DemoPolicy, Endpoint
from components.tasks import Task

return_large_blocks_to_the_system()

IMAGES = "images"  # dict[str, PreparedImage], keyed by digest, in the order added
PROBLEMS = "image_problems"  # list[ImageProblem]
RUNS = "runs"  # dict[str, PageRun], keyed by page
BUDGET = "call_budget"  # CallBudget when the owner's key has a per-session budget


@dataclass(frozen=True)
class ImageProblem:
    name: str
    message: str


@dataclass
class PageRun:
    """The last prediction run on a page: the images it ran on and what came back."""

    images: list[PreparedImage]
    outcome: RunOutcome | None = None
    task_runs: list[TaskRun] = field(default_factory=list)  # the All tasks page


def app_secrets() -> Mapping[str, object]:
    """The app's secrets, or nothing: `st.secrets` raises when no secrets file exists."""
    try:
        return {key: st.secrets[key] for key in st.secrets}
    except Exception:
        return {}


def endpoint() -> Endpoint:
    return Endpoint.from_env()


def client() -> ClarifaiClient:
    return get_client(endpoint())


def demo_policy() -> DemoPolicy:
    return DemoPolicy.from_sources(app_secrets(), os.environ)


def call_budget(policy: DemoPolicy) -> CallBudget | None:
    if policy.call_budget is None:
        return None
    budget = st.session_state.get(BUDGET)
    if budget is None or budget.limit != policy.call_budget:
        budget = st.session_state[BUDGET] = CallBudget(policy.call_budget)
    return budget


def images() -> dict[str, PreparedImage]:
    return st.session_state.setdefault(IMAGES, {})


def problems() -> list[ImageProblem]:
    return st.session_state.setdefault(PROBLEMS, [])


def page_run(page: str) -> PageRun | None:
    return st.session_state.setdefault(RUNS, {}).get(page)


def save_page_run(page: str, run: PageRun) -> None:
    st.session_state.setdefault(RUNS, {})[page] = run


def task_page_key(task: Task | None) -> str:
    return task.value if task else "all"
