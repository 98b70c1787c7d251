"""What a session remembers, and configuration read from the running app.

Everything a page needs to survive a page switch lives in `st.session_state` under the keys
below, never only in a widget. The chosen images and each page's last run are also kept on the
server for the browser (`session_store`), so a reload or a new tab of that browser finds them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import streamlit as st

from components.clarifai.budget import DEMO_LEDGER, BudgetLimits, CallBudget, Visitor, VisitorSignals, identify_visitor
from components.clarifai.client import ClarifaiClient, get_client
from components.images.preparation import PreparedImage
from components.images.slots import PreparationSlots
from components.memory import return_large_blocks_to_the_system
from components.run.backend import RunOutcome, TaskRun
from components.session_store import SESSION_STORE, kept_session
from components.settings import Credentials, DemoPolicy, Endpoint
from components.tasks import Task
from components.text import plural

return_large_blocks_to_the_system()

IMAGES = "images"  # dict[str, PreparedImage], keyed by digest, in the order added
PROBLEMS = "image_problems"  # ImageProblems: the last attempt to add images, on the page where it was made
RUNS = "runs"  # dict[str, PageRun], keyed by page
RUNS_CHANGED = "runs_changed"  # a count, raised whenever a page's run is saved
LAST_RUN = "last_run_page"  # the page whose run was saved last
CURRENT_PAGE = "current_page"  # the label of the page this run draws
RELOAD_CHECKED = "reload_checked"  # True once this session looked for what its browser kept
KEPT_SIGNATURE = "kept_signature"  # what was last kept for the browser, to keep only changes
KEY_WORKS = "key_works"  # fingerprints of typed keys a call has succeeded with
ARRIVAL_NOTE = "arrival_note"  # said once on the page a button opened (st.switch_page ends the run that sets it)
XSRF_COOKIE = "_streamlit_xsrf"  # set by Streamlit for each browser while XSRF protection is on (the default)

# Preparing uploads and URLs is the heavy part of adding images: one process serves every
# visitor, so each may prepare two at a time and the process three (2 cores; a hostile file
# peaks near 110 MB while prepared).
PREPARATION_SLOTS = PreparationSlots(per_visitor=2, total=3)


@dataclass(frozen=True)
class ImageProblem:
    name: str
    message: str


@dataclass(frozen=True)
class ImageProblems:
    """What went wrong the last time images were added, and on which page."""

    page: str
    items: tuple[ImageProblem, ...] = ()


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


def browser_id() -> str | None:
    """This browser's id (a keyed hash of its XSRF token: stable across reloads and tabs, never
    shared with another browser), or None when the browser cannot be told apart."""
    ids = identify_visitor(VisitorSignals(xsrf_cookie=visitor_signals().xsrf_cookie)).ids
    return next((i for i in ids if i.startswith("browser:")), None)


def images() -> dict[str, PreparedImage]:
    return st.session_state.setdefault(IMAGES, {})


def set_current_page(label: str) -> None:
    st.session_state[CURRENT_PAGE] = label


def current_page() -> str:
    return st.session_state.get(CURRENT_PAGE, "")


def leave_note_for_next_page(text: str) -> None:
    st.session_state[ARRIVAL_NOTE] = text


def take_arrival_note() -> str:
    """The note left for the page now drawn ("" when none): said once, then forgotten."""
    return st.session_state.pop(ARRIVAL_NOTE, "")


def problems() -> tuple[ImageProblem, ...]:
    """The problems met the last time images were added, if that was on this page."""
    found: ImageProblems | None = st.session_state.get(PROBLEMS)
    return found.items if found is not None and found.page == current_page() else ()


def set_problems(items: list[ImageProblem] | tuple[ImageProblem, ...]) -> None:
    """Replaces the problems shown: they belong to the attempt just made, on this page."""
    st.session_state[PROBLEMS] = ImageProblems(current_page(), tuple(dict.fromkeys(items)))


def clear_problems() -> None:
    st.session_state.pop(PROBLEMS, None)


def page_run(page: str) -> PageRun | None:
    return st.session_state.setdefault(RUNS, {}).get(page)


def save_page_run(page: str, run: PageRun) -> None:
    st.session_state.setdefault(RUNS, {})[page] = run
    st.session_state[RUNS_CHANGED] = st.session_state.get(RUNS_CHANGED, 0) + 1
    st.session_state[LAST_RUN] = page
    outcomes = [run.outcome] if run.outcome is not None else [r.outcome for r in run.task_runs if r.outcome]
    for outcome in outcomes:
        if outcome.plan.credentials is not None and outcome.clarifai_calls and outcome.succeeded:
            mark_key_works(outcome.plan.credentials)


def last_run() -> tuple[str, PageRun] | None:
    """The page whose run was saved last, and that run."""
    page = st.session_state.get(LAST_RUN)
    run = page_run(page) if page else None
    return (page, run) if run is not None else None


# --- whether a typed key works ----------------------------------------------------------------


def mark_key_works(credentials: Credentials) -> None:
    """Remembers that a call made with this key succeeded (by its fingerprint, never the key)."""
    st.session_state.setdefault(KEY_WORKS, set()).add(credentials.fingerprint)


def key_works(credentials: Credentials) -> bool:
    return credentials.fingerprint in st.session_state.get(KEY_WORKS, set())


# --- across a reload ------------------------------------------------------------------------------


def restore_after_reload() -> None:
    """In a new session, takes back the images and results its browser had (once per session)."""
    if st.session_state.get(RELOAD_CHECKED):
        return
    st.session_state[RELOAD_CHECKED] = True
    browser = browser_id()
    kept = SESSION_STORE.get(browser) if browser else None
    if kept is None or images() or st.session_state.get(RUNS):
        return
    st.session_state[IMAGES] = dict(kept.images)
    st.session_state[RUNS] = dict(kept.runs)
    if kept.last_run_page:
        st.session_state[LAST_RUN] = kept.last_run_page
    found = plural(len(kept.images), "image") + (" and their results" if kept.runs else "")
    verb = "is" if len(kept.images) == 1 and not kept.runs else "are"
    st.toast(f"{found} from this browser's earlier visit {verb} back.", icon=":material/history:")
    st.session_state[KEPT_SIGNATURE] = _signature()


def keep_for_reload() -> None:
    """Keeps this session's images and results for its browser, when they changed since last kept."""
    browser = browser_id()
    if browser is None:
        return
    signature = _signature()
    if st.session_state.get(KEPT_SIGNATURE) == signature:
        return
    st.session_state[KEPT_SIGNATURE] = signature
    kept = kept_session(images(), st.session_state.get(RUNS, {}), st.session_state.get(LAST_RUN, ""))
    SESSION_STORE.keep(browser, kept)


def reload_keeps_images() -> bool:
    """Whether this browser's images can be found again after a reload."""
    return browser_id() is not None


def _signature() -> tuple:
    return tuple(images()), st.session_state.get(RUNS_CHANGED, 0), tuple(st.session_state.get(RUNS, {}))


def task_page_key(task: Task | None) -> str:
    return task.value if task else "all"
