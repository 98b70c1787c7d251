"""Shared fixtures: the shared test data folder."""

from __future__ import annotations

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

    servicer = FakeClarifai(keys=[TEST_KEY, OTHER_KEY], url_images=sample_url_images())
    with LocalClarifaiServer(servicer) as server:
        yield server


@pytest.fixture
def fake_clarifai(clarifai_server):
    """The servicer of the running local server, reset for this test."""
    from tests.fake_clarifai import DEFAULT_CATALOGUE

    clarifai_server.servicer.reset()
    clarifai_server.servicer.catalogue = list(DEFAULT_CATALOGUE)
    yield clarifai_server.servicer
    clarifai_server.servicer.reset()


@pytest.fixture
def clarifai_endpoint(clarifai_server):
    from components.settings import Endpoint

    return Endpoint(clarifai_server.address, insecure=True)


@pytest.fixture
def client(clarifai_endpoint, fake_clarifai):
    from components.clarifai_client import CallPolicy, ClarifaiClient

    client = ClarifaiClient(
        clarifai_endpoint,
        CallPolicy(predict_timeout_s=10, info_timeout_s=5, retry_budget_s=2.0, first_backoff_s=0.05, max_backoff_s=0.4),
    )
    yield client
    client.close()


@pytest.fixture
def credentials():
    from components.settings import Credentials

    return Credentials(TEST_KEY, "sidebar")
