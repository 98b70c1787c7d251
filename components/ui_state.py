"""What a session remembers, and configuration read from the running app.

Everything a page needs to survive a page switch lives in `st.session_state` under the keys
below, never only in a widget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import streamlit as st

from components.backend import RunOutcome, TaskRun
from components.budget import DEMO_LEDGER, BudgetLimits, CallBudget, Visitor, VisitorSignals, identify_visitor
from components.clarifai_client import ClarifaiClient, get_client
from components.images import PreparedImage
from components.memory import return_large_blocks_to_the_system
from components.settings import DemoPolicy, Endpoint
from components.tasks import Task

return_large_blocks_to_the_system()

IMAGES = "images"  # dict[str, PreparedImage], keyed by digest, in the order added
PROBLEMS = "image_problems"  # list[ImageProblem]
RUNS = "runs"  # dict[str, PageRun], keyed by page
XSRF_COOKIE = "_streamlit_xsrf"  # set by Streamlit for each browser while XSRF protection is on (the default)


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
    """This visitor's share of the process-wide demo ledger, or None when the policy sets no limit.

    Kept on the server, per visitor rather than per session: a reload or a new tab finds what was spent.
    """
    limits = BudgetLimits(per_visitor=policy.call_budget, hourly_ceiling=policy.hourly_ceiling)
    if not limits.limited:
        return None
    if DEMO_LEDGER.limits != limits:
        DEMO_LEDGER.limits = limits
    return CallBudget(DEMO_LEDGER, visitor())


def visitor() -> Visitor:
    """Who is visiting, as opaque ids (see `budget.identify_visitor`); nothing raw is kept."""
    return identify_visitor(visitor_signals())


def visitor_signals() -> VisitorSignals:
    """Streamlit's XSRF cookie and the client's address, from the connection that opened this session.

    Either may be missing: no cookie when XSRF protection is off, no address on localhost or
    behind some proxies (and neither under AppTest, where tests replace this function).
    """
    try:
        cookie = st.context.cookies.get(XSRF_COOKIE)
        address = st.context.ip_address
    except Exception:  # no session client (a bare script run)
        return VisitorSignals()
    return VisitorSignals(
        xsrf_cookie=cookie if isinstance(cookie, str) else None,
        address=address if isinstance(address, str) else None,
    )


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
