"""Shared fixtures: the shared test data folder, the local Clarifai server, and Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = PROJECT_ROOT.parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.skip(f"shared test data not found at {TESTDATA} (it lives beside the project root)")
    return TESTDATA


# --- the local Clarifai server ---------------------------------------------------------------

TEST_KEY = "pat-test-5c1e0a9d7b3f4e21a8d6c0b9e7f2a4d1"  # distinctive, so leaks are easy to find
OTHER_KEY = "pat-other-91b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture(scope="session")
def clarifai_server():
    from tests.fake_clarifai import FakeClarifai, LocalClarifaiServer, sample_url_images

    servicer = FakeClarifai(keys=[TEST_KEY, OTHER_KEY], url_images=sample_url_images(), mode="today")
    with LocalClarifaiServer(servicer) as server:
        yield server


@pytest.fixture
def fake_clarifai(clarifai_server):
    """The servicer of the running local server, reset for this test: today's Clarifai, where most
    legacy single-task models are private and new-style models answer through Clarifai's runner code."""
    from tests.fake_clarifai import TODAY_CATALOGUE

    servicer = clarifai_server.servicer
    servicer.reset()
    servicer.mode, servicer.catalogue, servicer.fail_fast = "today", list(TODAY_CATALOGUE), False
    yield servicer
    servicer.reset()
    servicer.mode, servicer.catalogue, servicer.fail_fast = "today", list(TODAY_CATALOGUE), False


@pytest.fixture
def classic_clarifai(fake_clarifai):
    """The local server as the seed page knew Clarifai: every legacy single-task model answers.
    For tests of the classic path (batches of images in, outputs[].data out)."""
    from tests.fake_clarifai import DEFAULT_CATALOGUE

    fake_clarifai.mode, fake_clarifai.catalogue = "classic", list(DEFAULT_CATALOGUE)
    return fake_clarifai


@pytest.fixture
def clarifai_endpoint(clarifai_server):
    from components.settings import Endpoint

    return Endpoint(clarifai_server.address, insecure=True)


@pytest.fixture
def client(clarifai_endpoint, fake_clarifai):
    from components.clarifai.client import ClarifaiClient
    from components.clarifai.transport import CallPolicy

    client = ClarifaiClient(
        clarifai_endpoint,
        CallPolicy(
            predict_timeout_s=10, info_timeout_s=5, retry_budget_s=2.0, first_backoff_s=0.05, max_backoff_s=0.4, cold_start_wait_s=1.0
        ),
    )
    yield client
    client.close()


@pytest.fixture
def credentials():
    from components.settings import Credentials

    return Credentials(TEST_KEY, "sidebar")


# --- the app under test ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_prediction_cache():
    """Every test starts and ends with the process-wide prediction cache empty."""
    from components.run.backend import PREDICTION_CACHE

    PREDICTION_CACHE.clear()
    yield
    PREDICTION_CACHE.clear()


@pytest.fixture(autouse=True)
def fresh_demo_ledger():
    """Every test starts and ends with nothing spent on the process-wide demo budget."""
    from components.clarifai.budget import DEMO_LEDGER, BudgetLimits

    DEMO_LEDGER.clear()
    DEMO_LEDGER.limits = BudgetLimits()
    yield DEMO_LEDGER
    DEMO_LEDGER.clear()
    DEMO_LEDGER.limits = BudgetLimits()


@pytest.fixture(autouse=True)
def fresh_session_store():
    """Every test starts and ends with no browser's images or results kept for a reload."""
    from components.session_store import SESSION_STORE

    SESSION_STORE.clear()
    yield SESSION_STORE
    SESSION_STORE.clear()


@pytest.fixture
def visitors(monkeypatch):
    """AppTest sessions have no cookies and no address: this makes each session's visitor the one
    that `tests.apptest.as_visitor` set in its session state (the unidentified visitor until then)."""
    import streamlit as st

    from components.clarifai.budget import VisitorSignals
    from components.ui import state as ui_state
    from tests.apptest import VISITOR_STATE

    def signals_from_session_state():
        cookie, address = st.session_state.get(VISITOR_STATE, (None, None))
        return VisitorSignals(xsrf_cookie=cookie, address=address)

    monkeypatch.setattr(ui_state, "visitor_signals", signals_from_session_state)


@pytest.fixture
def offline_env(monkeypatch):
    """No key and no endpoint in the environment: a fresh checkout."""
    for name in ("CLARIFAI_PAT", "CLARIFAI_GRPC_BASE", "CLARIFAI_GRPC_INSECURE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app_call_policy():
    """Timeouts and retries of the app's client in app-level tests; a module may override it."""
    from components.clarifai.transport import CallPolicy

    return CallPolicy(
        predict_timeout_s=10, info_timeout_s=5, retry_budget_s=1.0, first_backoff_s=0.05, max_backoff_s=0.3, cold_start_wait_s=1.0
    )


@pytest.fixture
def clarifai_env(monkeypatch, clarifai_server, fake_clarifai, app_call_policy):
    """The app pointed at the local server; its process-wide client uses `app_call_policy`."""
    from components.clarifai import client as clarifai_client
    from components.settings import Endpoint

    monkeypatch.delenv("CLARIFAI_PAT", raising=False)
    monkeypatch.setenv("CLARIFAI_GRPC_BASE", clarifai_server.address)
    monkeypatch.setenv("CLARIFAI_GRPC_INSECURE", "true")
    endpoint = Endpoint(clarifai_server.address, insecure=True)
    client = clarifai_client.ClarifaiClient(endpoint, app_call_policy)
    monkeypatch.setitem(clarifai_client._clients, endpoint, client)
    yield fake_clarifai
    client.close()


@pytest.fixture
def deferred_downloads(monkeypatch):
    """Every download button's deferred file, by file name, as the page registered it (latest run wins)."""
    registered: dict[str, object] = {}
    from streamlit.runtime.media_file_manager import MediaFileManager

    real = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        registered[file_name] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return registered


# --- Chromium, for the browser tests ---------------------------------------------------------

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"  # screenshots and app logs, for a person to look at
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}


def require_chromium() -> None:
    from tests.app_process import CHROMIUM

    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required for browser tests but was not found at {CHROMIUM}")
        pytest.skip("Chromium not installed (apt-get install chromium); .ci/run installs it")


def require_tesseract() -> None:
    """The local Clarifai's OCR models read pictures with Debian's Tesseract (tests/ocr_engine.py)."""
    from tests import ocr_engine

    if not ocr_engine.available():
        if os.environ.get("REQUIRE_TESSERACT") == "1":
            pytest.fail("Tesseract is required for the OCR tests but was not found (apt-get install tesseract-ocr)")
        pytest.skip("Tesseract not installed (apt-get install tesseract-ocr); .ci/run installs it")


def screenshot(page, name: str) -> Path:
    """The whole main area at the page's own width, saved as ARTIFACTS/<name>.png (the viewport is
    stretched to the main area's height for the shot, then put back)."""
    size = page.viewport_size
    path = ARTIFACTS / f"{name}.png"
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 1000")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height) + 40, size["height"]), 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=path)
    page.set_viewport_size(size)
    return path


@pytest.fixture(scope="module")
def running_playwright():
    """Playwright, for its browsers and its table of devices (`.devices["iPhone 13"]`)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(running_playwright):
    from tests.app_process import CHROMIUM, CHROMIUM_ARGS

    chromium = running_playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(params=list(VIEWPORTS))
def page(browser, request):
    """A fresh page at each of the two sizes (test_browser.py has its own, at one size)."""
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()
