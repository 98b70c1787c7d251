"""Hardening against a misbehaving Clarifai: the local server's scripted faults, seen from a page.

Each fault ends in results or in a specific message, never a traceback, and nothing else on
the page is lost: the chosen images stay chosen and the sidebar keeps its settings. A run that
failed as a whole shows its error in place of the earlier run's results, which it made stale.

The app's process-wide client (components.clarifai.client.get_client) is swapped, for the
local server's endpoint only, for one with short timeouts and a short retry budget, so the
persistent faults give up in about a second instead of Clarifai-sized waits.
"""

from __future__ import annotations

import re
import time

import grpc
import pytest

from components import errors
from components.clarifai import client as clarifai_client
from components.clarifai.client import ClarifaiClient
from components.clarifai.transport import CallPolicy
from components.models import PredictSettings
from components.run.backend import PREDICTION_CACHE, Backend
from components.settings import Credentials
from components.tasks import BLIP_CAPTIONS, Task
from components.text import plural
from tests.apptest import answer_blocks, as_read, no_traceback, open_page, page_text, predict, upload, use_classic_models
from tests.conftest import TEST_KEY
from tests.fake_clarifai import Fault
from tests.helpers import png_bytes, scene_with_square

# What the fast client allows: a persistent fault must end well inside the AppTest timeout.
FAST_POLICY = CallPolicy(
    predict_timeout_s=1.5, info_timeout_s=3.0, retry_budget_s=1.0, first_backoff_s=0.05, max_backoff_s=0.3, cold_start_wait_s=1.0
)
SLOW_SECONDS = 3.0  # longer than FAST_POLICY.predict_timeout_s
GIVE_UP_BOUND_S = 20.0  # generous: gRPC's own UNAVAILABLE retries come on top of the client's

MIN_SCORE = 0.05
MAX_CONCEPTS = 7


# --- fixtures and helpers ------------------------------------------------------------------------

# The faults below are scripted on batches of images sent to the seed page's models: the classic path.
pytestmark = pytest.mark.usefixtures("classic_clarifai")








@pytest.fixture
def app_call_policy():
    return FAST_POLICY


@pytest.fixture
def fast_client(clarifai_env):
    """The app's process-wide client for the local server, with short timeouts and retries."""
    client = clarifai_client.get_client()
    assert client.policy == FAST_POLICY
    return client


def square(color=(0, 0, 230), box=(0.1, 0.2, 0.5, 0.6), name="square.png") -> tuple[str, bytes]:
    return name, png_bytes(scene_with_square(box=box, color_bgr=color))


RED = square((0, 0, 230), name="red.png")
BLUE = square((230, 60, 20), box=(0.3, 0.3, 0.8, 0.9), name="blue.png")
GREEN = square((40, 200, 40), box=(0.5, 0.1, 0.9, 0.4), name="green.png")


def open_with_settings(page: str, *files: tuple[str, bytes]):
    """A page on the local server's key, with sidebar settings changed from their defaults."""
    at = use_classic_models(open_page(page, key=TEST_KEY)).run()
    at.sidebar.slider(key="min_value").set_value(MIN_SCORE).run()
    at.sidebar.number_input(key="max_concepts").set_value(MAX_CONCEPTS).run()
    if files:
        at = upload(at, *files)
    no_traceback(at)
    return at


def errors_shown(at) -> list[str]:
    return [as_read(e.value) for e in at.error]


def assert_nothing_lost(at, image_count: int) -> None:
    """No traceback, the images still chosen, the sidebar settings as they were."""
    no_traceback(at)
    assert f"{plural(image_count, 'image')} chosen" in page_text(at)
    assert at.radio(key="backend").value == Backend.CLARIFAI
    assert at.sidebar.slider(key="min_value").value == pytest.approx(MIN_SCORE)
    assert at.sidebar.number_input(key="max_concepts").value == MAX_CONCEPTS
    assert not at.button(key="predict").disabled


def summary_lines(at) -> list[str]:
    return [m.value for m in at.markdown if "with results" in str(m.value)]


def predict_calls(fake) -> int:
    return len(fake.calls_to("PostModelOutputs"))


# --- transport faults ----------------------------------------------------------------------------


def test_unavailable_once_is_retried_and_the_page_shows_results(fast_client, clarifai_env):
    at = open_with_settings("classification", RED, BLUE)
    clarifai_env.fail_next(Fault.rpc(grpc.StatusCode.UNAVAILABLE))
    at = predict(at)
    assert_nothing_lost(at, 2)
    assert not errors_shown(at)
    assert "2 with results" in page_text(at)
    assert predict_calls(clarifai_env) == 2  # the failed attempt, then the one that answered
    concepts = at.dataframe[-1].value
    assert len(concepts) <= MAX_CONCEPTS  # the sidebar's settings reached Clarifai
    [config] = {
        c.request.model.model_version.output_info.output_config.max_concepts
        for c in clarifai_env.calls_to("PostModelOutputs")
    }
    assert config == MAX_CONCEPTS


def test_persistent_unavailable_says_so_and_replaces_the_stale_results(fast_client, clarifai_env):
    at = predict(open_with_settings("detection", RED))
    assert "1 with results" in page_text(at)
    assert list(at.dataframe[-1].value["concept"]) == ["red"]

    at = upload(at, BLUE)
    clarifai_env.fail_next(Fault.rpc(grpc.StatusCode.UNAVAILABLE, times=None))
    started = time.perf_counter()
    at = predict(at)
    elapsed = time.perf_counter() - started

    assert_nothing_lost(at, 2)
    assert any("Could not reach Clarifai" in m and "Check the network connection" in m for m in errors_shown(at))
    assert elapsed < GIVE_UP_BOUND_S, "gives up within the retry budget"
    assert predict_calls(clarifai_env) >= 3, "retried before giving up"
    # the error replaces the earlier run's results: nothing stale is left under it
    assert "Results" not in [s.value for s in at.subheader]
    assert not summary_lines(at)


def test_deadline_exceeded_says_clarifai_was_too_slow_and_replaces_the_stale_results(fast_client, clarifai_env):
    at = predict(open_with_settings("captioning", RED))
    [caption] = answer_blocks(at)
    PREDICTION_CACHE.clear()  # the same images again: make the run reach the server
    clarifai_env.fail_next(Fault.slow(SLOW_SECONDS))
    started = time.perf_counter()
    at = predict(at)
    elapsed = time.perf_counter() - started

    assert_nothing_lost(at, 1)
    assert any("did not answer in time" in m for m in errors_shown(at)), errors_shown(at)
    assert elapsed < SLOW_SECONDS + 5, "the call's own timeout ended it, not the slow answer"
    assert caption.value and not answer_blocks(at), "the error replaces the caption it made stale"


def test_a_request_over_a_message_size_limit_is_not_retried_and_says_to_send_fewer_or_smaller(fast_client, clarifai_env):
    at = open_with_settings("classification", RED, BLUE)
    too_large = "Received message larger than max (31457600 vs. 4194304)"
    clarifai_env.fail_next(Fault.rpc(grpc.StatusCode.RESOURCE_EXHAUSTED, details=too_large, times=None))
    at = predict(at)
    assert_nothing_lost(at, 2)
    [message] = errors_shown(at)
    assert "too large for Clarifai" in message and "Send fewer images at once, or smaller ones" in message
    assert predict_calls(clarifai_env) == 1, "the same request would fail the same way"


def test_the_model_check_failing_in_transport_is_a_clear_message(fast_client, clarifai_env):
    at = predict(open_with_settings("classification", RED))
    at = upload(at, GREEN)
    clarifai_env.fail_next(Fault.rpc(grpc.StatusCode.UNAVAILABLE, method="GetModel", times=None))
    fast_client._catalogue._info_cache.clear()  # so the model's type is asked again
    at = predict(at)
    assert_nothing_lost(at, 2)
    assert any("Could not reach Clarifai" in m for m in errors_shown(at))
    assert predict_calls(clarifai_env) == 1, "no prediction is sent when the model check failed"
    assert not summary_lines(at), "the error replaces the results it made stale"


# --- Clarifai statuses ---------------------------------------------------------------------------


def test_throttled_then_success_shows_results(fast_client, clarifai_env):
    at = open_with_settings("classification", RED, GREEN)
    clarifai_env.fail_next(Fault.status(11005), Fault.status(11005))
    at = predict(at)
    assert_nothing_lost(at, 2)
    assert not errors_shown(at)
    assert "2 with results" in page_text(at)
    assert predict_calls(clarifai_env) == 3


def test_persistent_throttling_asks_to_wait_and_replaces_the_stale_results(fast_client, clarifai_env):
    at = predict(open_with_settings("classification", RED))
    at = upload(at, GREEN)
    clarifai_env.fail_next(Fault.status(11005, times=None))
    started = time.perf_counter()
    at = predict(at)
    assert time.perf_counter() - started < GIVE_UP_BOUND_S
    assert_nothing_lost(at, 2)
    [message] = errors_shown(at)
    assert "Too many requests" in message and "Wait a few seconds and press Predict again" in message
    assert "11005" in message
    assert not summary_lines(at), "the error replaces the results it made stale"


@pytest.mark.parametrize("codes", [(21351,), (21355, 21355), (21354, 21351)])
def test_a_model_warming_up_is_waited_for_then_shows_results(fast_client, clarifai_env, codes):
    at = open_with_settings("detection", RED)
    clarifai_env.fail_next(*(Fault.status(code) for code in codes))
    at = predict(at)
    assert_nothing_lost(at, 1)
    assert not errors_shown(at)
    assert "1 with results" in page_text(at)
    assert predict_calls(clarifai_env) == len(codes) + 1


@pytest.mark.parametrize("code", [21351, 21355])
def test_a_model_that_stays_warming_up_says_so_and_replaces_the_stale_results(fast_client, clarifai_env, code):
    at = predict(open_with_settings("segmentation", RED))
    assert "1 with results" in page_text(at)
    at = upload(at, BLUE)
    clarifai_env.fail_next(Fault.status(code, times=None))
    started = time.perf_counter()
    at = predict(at)
    assert time.perf_counter() - started < GIVE_UP_BOUND_S
    assert_nothing_lost(at, 2)
    [message] = errors_shown(at)
    assert "Model warming up" in message and "is starting up on Clarifai" in message
    assert "Wait a moment and press Predict again" in message and str(code) in message
    assert not summary_lines(at), "the error replaces the results it made stale"


# --- partial and odd answers ---------------------------------------------------------------------


def test_one_bad_image_among_good_ones_fails_alone(fast_client, clarifai_env):
    """MIXED_STATUS: an address Clarifai cannot download, beside two uploads."""
    at = open_with_settings("classification", RED, GREEN)
    at.toggle(key="clarifai_fetches_urls").set_value(True).run()
    at.text_area(key="url_text").input("https://images.example/gone.jpg")
    [submit] = [b for b in at.button if b.label == "Add images from URLs"]
    at = submit.click().run()
    assert_nothing_lost(at, 3)
    assert at.toggle(key="clarifai_fetches_urls").value is True

    at = predict(at)
    assert_nothing_lost(at, 3)
    [call] = clarifai_env.calls_to("PostModelOutputs")
    assert [i.data.image.url for i in call.request.inputs] == ["", "", "https://images.example/gone.jpg"]
    text = page_text(at)
    assert "2 with results" in text and "1 failed" in text
    [message] = errors_shown(at)
    assert "Image refused by Clarifai" in message
    assert "Clarifai could not download or read this image" in message
    assert "30002" in message  # its enum name prints as INPUT_FAILED: the number says which
    assert len(at.dataframe) >= 2  # the two good images still got their tables


def test_a_malformed_mask_keeps_the_segments_and_says_it_is_not_drawn(fast_client, clarifai_env):
    at = open_with_settings("segmentation", RED)
    clarifai_env.fail_next(Fault.malformed_mask())
    at = predict(at)
    assert_nothing_lost(at, 1)
    assert not errors_shown(at)
    assert "1 with results" in page_text(at)
    notes = [c.value for c in at.caption if "could not be decoded" in c.value]
    assert notes and "in Clarifai's answer could not be decoded and" in notes[0]
    shares = at.dataframe[-1].value
    percents = shares["share_text"].str.rstrip(" %").astype(float)
    assert len(shares) >= 1 and percents.between(0, 100).all()
    assert len(at.image) >= 1  # the picture is still shown


@pytest.mark.parametrize(
    ("page", "says"),
    [
        ("classification", "No concepts at this score."),
        ("detection", "No objects found."),
        ("segmentation", "No segments."),
        ("captioning", "The model returned no caption."),
    ],
)
def test_an_output_missing_its_fields_is_an_empty_result_not_a_crash(fast_client, clarifai_env, page, says):
    at = open_with_settings(page, RED)
    clarifai_env.fail_next(Fault.missing_fields())
    at = predict(at)
    assert_nothing_lost(at, 1)
    assert not errors_shown(at)
    assert "1 with results" in page_text(at)
    assert says in page_text(at)


def test_fewer_outputs_than_inputs_fails_only_the_missing_ones(fast_client, clarifai_env):
    at = open_with_settings("detection", RED, BLUE, GREEN)
    clarifai_env.fail_next(Fault.fewer_outputs(1))
    at = predict(at)
    assert_nothing_lost(at, 3)
    text = page_text(at)
    assert "2 with results" in text and "1 failed" in text
    [message] = errors_shown(at)
    assert "Clarifai returned no result for this image. Press Predict again to retry it." in message


def test_no_outputs_at_all_fails_every_image_with_a_message(fast_client, clarifai_env):
    at = predict(open_with_settings("classification", RED))
    at = upload(at, BLUE)
    PREDICTION_CACHE.clear()
    clarifai_env.fail_next(Fault.fewer_outputs(2))
    at = predict(at)
    assert_nothing_lost(at, 2)
    assert "0 with results" in page_text(at) and "2 failed" in page_text(at)
    messages = errors_shown(at)
    assert len(messages) == 2 and all("no result for this image" in m for m in messages)
    # a retry is a fresh call: failures are never cached
    at = predict(at)
    assert "2 with results" in page_text(at)
    assert predict_calls(clarifai_env) == 3


def test_failed_images_are_not_cached_and_retry_on_the_next_press(fast_client, clarifai_env):
    at = open_with_settings("classification", RED, BLUE, GREEN)
    clarifai_env.fail_next(Fault.fewer_outputs(1))
    at = predict(at)
    assert "1 failed" in page_text(at)
    at = predict(at)
    assert "3 with results" in page_text(at) and "2 from cache" in page_text(at)
    calls = clarifai_env.calls_to("PostModelOutputs")
    assert len(calls) == 2 and len(calls[1].request.inputs) == 1


def test_all_tasks_page_keeps_the_other_tasks_when_one_fails(fast_client, clarifai_env):
    clarifai_env.retire(BLIP_CAPTIONS.model_id)
    at = predict(open_with_settings("all", RED))
    assert_nothing_lost(at, 1)
    [summary] = [m.value for m in at.markdown if m.value.startswith("**1 image ·")]
    for title in ("Classification", "Detection", "Segmentation"):
        assert re.search(rf"\*\*{title}\*\* \([^)]*\): 1/1 with results", summary), summary
    assert "**Captioning** (" in summary and ":red[failed]" in summary
    assert any("Model not found" in m and "Pick another model" in m for m in errors_shown(at))
    links = [link.label for link in at.main.get("page_link")]
    assert "Choose a model for Captioning" in links, "All tasks' sidebar has no picker: its page does"


def test_all_tasks_page_survives_a_transport_fault_on_every_call(fast_client, clarifai_env):
    at = open_with_settings("all", RED)
    clarifai_env.fail_next(Fault.rpc(grpc.StatusCode.UNAVAILABLE, times=None))
    at = predict(at)
    assert_nothing_lost(at, 1)
    messages = errors_shown(at)
    assert len(messages) == len(Task) and all("Could not reach Clarifai" in m for m in messages)


# --- the client itself -----------------------------------------------------------------------------


def test_client_gives_up_on_a_slow_model_check_within_its_timeout(clarifai_endpoint, fake_clarifai):
    client = ClarifaiClient(clarifai_endpoint, CallPolicy(info_timeout_s=0.5, retry_budget_s=0.2, first_backoff_s=0.05))
    try:
        fake_clarifai.fail_next(Fault.slow(2.0, method="GetModel"))
        started = time.perf_counter()
        with pytest.raises(errors.CallTimeoutError, match="did not answer in time"):
            client.get_model(Task.DETECTION.spec.default_model, Credentials(TEST_KEY, "sidebar"))
        assert time.perf_counter() - started < 2.0
    finally:
        client.close()


def test_client_missing_fields_on_several_inputs_gives_empty_predictions_in_order(client, fake_clarifai, credentials):
    inputs = [png_bytes(scene_with_square(width=40 + i, height=30)) for i in range(3)]
    fake_clarifai.fail_next(Fault.missing_fields())
    results = client.predict(BLIP_CAPTIONS, inputs, PredictSettings(), credentials)
    assert [r.ok for r in results] == [True, True, True]
    assert [r.prediction.caption for r in results] == ["", "", ""]
    again = client.predict(BLIP_CAPTIONS, inputs, PredictSettings(), credentials)
    assert [f"({40 + i}x30)" in r.prediction.caption for i, r in enumerate(again)] == [True] * 3
