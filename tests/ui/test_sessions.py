"""Several people at once: no image, result or key crosses from one session to another.

Sessions are AppTest instances driven in turns (interleaved), because AppTest swaps
process-wide globals (Streamlit's Runtime singleton and st.secrets) around each run and so
cannot run scripts in two threads at once. The process-wide parts the sessions really share
(the prediction cache and the gRPC client) are also driven from many threads at once, below
the pages, against the local server.
"""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from components.clarifai import client as clarifai_client
from components.images.preparation import prepare_upload
from components.models import PredictSettings
from components.run.backend import PREDICTION_CACHE, Backend, RunPlan, run_predictions
from components.settings import Credentials, Endpoint, key_fingerprint
from components.tasks import Task
from tests.apptest import VISITOR_STATE, no_traceback, open_page, page_text, predict, upload, visitor_state
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.helpers import png_bytes, scene_with_square

KEYS = (TEST_KEY, OTHER_KEY)


# --- fixtures and helpers ------------------------------------------------------------------------








def session(page: str, key: str | None = None, backend: Backend = Backend.CLARIFAI, visitor: bytes | None = None, **secrets):
    """A new browser session on `page`; `key` is typed into the sidebar as a visitor would, who
    comes from the browser `visitor` (see tests.apptest.as_visitor) when given."""
    state = {VISITOR_STATE: visitor_state(visitor)} if visitor else None
    at = open_page(page, state=state, **secrets)
    if at.radio(key="backend").value != backend:
        at.radio(key="backend").set_value(backend).run()
    if key:
        at.text_input(key="pat").input(key).run()
    no_traceback(at)
    return at


def picture(name: str, color, box=(0.1, 0.2, 0.5, 0.6), width: int = 400) -> tuple[str, bytes]:
    return name, png_bytes(scene_with_square(width=width, box=box, color_bgr=color))


RED = picture("red-one.png", (0, 0, 230))
BLUE = picture("blue-one.png", (230, 60, 20), box=(0.4, 0.4, 0.9, 0.9))
GREEN = picture("green-one.png", (40, 200, 40), box=(0.5, 0.1, 0.9, 0.4))


def strings_in(value, seen: set[int] | None = None, depth: int = 0) -> Iterator[str]:
    """Every string reachable from a value: containers, dataclass fields (repr=False ones too),
    object attributes and exception arguments."""
    seen = set() if seen is None else seen
    if depth > 12 or id(value) in seen or value is None or isinstance(value, (int, float, bool, np.ndarray)):
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, (bytes, bytearray)):
        yield bytes(value).decode("latin-1")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key, seen, depth + 1)
            yield from strings_in(item, seen, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from strings_in(item, seen, depth + 1)
    else:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                yield from strings_in(getattr(value, field.name, None), seen, depth + 1)
        if isinstance(value, BaseException):
            yield from strings_in(value.args, seen, depth + 1)
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict):
            yield from strings_in(attributes, seen, depth + 1)


def session_text(at) -> str:
    return "\n".join(strings_in(dict(at.session_state.items())))


def chosen_names(at) -> list[str]:
    return [image.name for image in at.session_state["images"].values()]


def key_of(call) -> str:
    return call.metadata["authorization"].removeprefix("Key ")


def calls_by_key(fake, method: str = "PostModelOutputs") -> dict[str, int]:
    counts = dict.fromkeys(KEYS, 0)
    for call in fake.calls_to(method):
        counts[key_of(call)] = counts.get(key_of(call), 0) + 1
    return counts


# --- sessions side by side -------------------------------------------------------------------------


def test_two_sessions_with_different_keys_keep_their_images_results_and_keys_apart(clarifai_env):
    alice = session("classification", TEST_KEY)
    bob = session("classification", OTHER_KEY)
    alice = upload(alice, RED)
    bob = upload(bob, BLUE, GREEN)
    alice = predict(alice)
    bob = predict(bob)
    alice.switch_page("app_pages/2_Detection.py").run()
    bob.switch_page("app_pages/2_Detection.py").run()
    bob = predict(bob)
    alice = predict(alice)
    for at in (alice, bob):
        no_traceback(at)

    # each call carries the key of the session whose images it sent
    sent_by = {TEST_KEY: {i.data for i in alice.session_state["images"].values()},
               OTHER_KEY: {i.data for i in bob.session_state["images"].values()}}
    calls = clarifai_env.prediction_calls()
    # classification: one batch per session; detection asks a vision-language model once per image
    assert len(calls) == 1 + 1 + 2 + 1
    for call in calls:
        assert set(call.images) <= sent_by[key_of(call)]
    for call in clarifai_env.calls_to("GetModel"):
        assert key_of(call) in KEYS
    assert {key_of(c) for c in clarifai_env.calls_to("GetModel")} == set(KEYS), "each key checks the model itself"

    # each page shows only its own images and results
    assert chosen_names(alice) == ["red-one.png"] and chosen_names(bob) == ["blue-one.png", "green-one.png"]
    alice_text, bob_text = page_text(alice), page_text(bob)
    assert "1 image chosen" in alice_text and "1 with results" in alice_text
    assert "2 images chosen" in bob_text and "2 with results" in bob_text
    assert "blue-one" not in alice_text and "green-one" not in alice_text and "red-one" in alice_text
    assert "red-one" not in bob_text and "blue-one" in bob_text
    assert list(alice.dataframe[-1].value["concept"]) == ["red"]
    assert set(bob.dataframe[-1].value["concept"]) <= {"blue", "green"}

    # and remembers only its own key
    assert TEST_KEY in session_text(alice) and OTHER_KEY not in session_text(alice)
    assert OTHER_KEY in session_text(bob) and TEST_KEY not in session_text(bob)
    for at, other in ((alice, OTHER_KEY), (bob, TEST_KEY)):
        assert other not in str(at._tree) and other not in page_text(at)


def test_the_same_image_with_another_key_is_predicted_again_not_taken_from_the_cache(clarifai_env):
    alice = predict(upload(session("classification", TEST_KEY), RED))
    assert calls_by_key(clarifai_env) == {TEST_KEY: 1, OTHER_KEY: 0}

    bob = predict(upload(session("classification", OTHER_KEY), RED))
    no_traceback(bob)
    assert calls_by_key(clarifai_env) == {TEST_KEY: 1, OTHER_KEY: 1}, "Bob's own call, with Bob's key"
    assert "1 with results" in page_text(bob) and "from cache" not in page_text(bob)

    alice = predict(alice)
    bob = predict(bob)
    assert "1 from cache" in page_text(alice) and "1 from cache" in page_text(bob)
    assert calls_by_key(clarifai_env) == {TEST_KEY: 1, OTHER_KEY: 1}

    # the same key in a third session (here the app owner's, from secrets) may share the cache
    carol = predict(upload(session("classification", None, CLARIFAI_PAT=TEST_KEY), RED))
    assert "1 from cache" in page_text(carol)
    assert calls_by_key(clarifai_env) == {TEST_KEY: 1, OTHER_KEY: 1}


def test_a_session_without_a_key_never_gets_results_made_with_anothers_key(clarifai_env):
    alice = predict(upload(session("classification", TEST_KEY), RED))
    assert "1 with results" in page_text(alice)
    before = len(clarifai_env.calls)

    bob = upload(session("classification", None), RED)  # Clarifai chosen, no key typed
    assert any("No Clarifai key yet" in w.value for w in bob.sidebar.warning)
    bob = predict(bob)
    no_traceback(bob)
    assert any("Clarifai needs a key" in e.value for e in bob.error)
    assert "Results" not in [s.value for s in bob.subheader]
    assert not [d for d in bob.dataframe if "concept" in d.value.columns], "no result table"
    assert len(clarifai_env.calls) == before, "no call at all, and no result from Alice's"
    assert TEST_KEY not in session_text(bob)

    bob.radio(key="backend").set_value(Backend.LOCAL).run()
    bob = predict(bob)
    no_traceback(bob)
    assert "Local OpenCV model" in page_text(bob) and "1 with results" in page_text(bob)
    assert "Clarifai call" not in page_text(bob).split("Results")[-1]
    assert len(clarifai_env.calls) == before
    assert "landscape" in set(alice.dataframe[-1].value["concept"])  # the local server's concept...
    assert "landscape" not in set(bob.dataframe[-1].value["concept"])  # ...never reaches Bob
    assert TEST_KEY not in session_text(bob)


def test_a_visitor_key_is_required_even_when_another_session_typed_one(clarifai_env):
    owner_key = {"CLARIFAI_PAT": TEST_KEY, "CLARIFAI_DEMO_REQUIRE_VISITOR_KEY": True}
    alice = predict(upload(session("detection", OTHER_KEY, **owner_key), RED))
    assert "1 with results" in page_text(alice)
    bob = predict(upload(session("detection", None, **owner_key), RED))
    no_traceback(bob)
    assert any("needs your own Clarifai key" in w.value for w in bob.sidebar.warning)
    assert any("Clarifai needs a key" in e.value for e in bob.error)
    assert calls_by_key(clarifai_env) == {TEST_KEY: 0, OTHER_KEY: 1}
    assert OTHER_KEY not in session_text(bob) and TEST_KEY not in session_text(bob)


def test_each_visitor_has_their_own_budget_and_a_new_tab_shares_it(clarifai_env, visitors):
    owner = {"CLARIFAI_PAT": TEST_KEY, "CLARIFAI_DEMO_CALL_BUDGET": 2}
    alice = predict(upload(session("classification", None, visitor=b"alice's browser!", **owner), RED))
    assert "0 of 2 Clarifai operations left" in " ".join(c.value for c in alice.sidebar.caption)
    bob = session("classification", None, visitor=b"bob's browser..!", **owner)
    assert "2 of 2 Clarifai operations left" in " ".join(c.value for c in bob.sidebar.caption)
    bob = predict(upload(bob, BLUE))
    assert "1 with results" in page_text(bob)
    alice_again = session("classification", None, visitor=b"alice's browser!", **owner)  # a new tab
    alice_again = predict(upload(alice_again, GREEN))
    assert any("each visitor spend 2 Clarifai operations a day" in e.value for e in alice_again.error)
    assert calls_by_key(clarifai_env) == {TEST_KEY: 2, OTHER_KEY: 0}


def test_a_model_search_made_in_one_session_is_made_again_with_the_others_key(clarifai_env):
    alice = session("detection", TEST_KEY)
    alice.radio(key="model_source_detection").set_value("browse").run()
    alice = alice.button(key="model_search_detection").click().run()
    assert alice.radio(key="model_pick_detection").options
    bob = session("detection", OTHER_KEY)
    bob.radio(key="model_source_detection").set_value("browse").run()
    assert not [r for r in bob.radio if r.key == "model_pick_detection"], "Bob sees no list until he asks for one"
    bob = bob.button(key="model_search_detection").click().run()
    assert bob.radio(key="model_pick_detection").options
    assert [key_of(c) for c in clarifai_env.calls_to("ListModels")] == [TEST_KEY, OTHER_KEY]


# --- the shared parts, from many threads at once ---------------------------------------------------


def sized_image(width: int, name: str):
    """A picture whose width says whose it is: the captioner reports the size it received."""
    return prepare_upload(name, png_bytes(scene_with_square(width=width, height=40)))


def test_concurrent_runs_with_different_keys_keep_their_results_and_keys(clarifai_env, clarifai_server):
    client = clarifai_client.get_client(Endpoint(clarifai_server.address, insecure=True))
    model = Task.CAPTIONING.spec.default_model
    workers = 8
    owners = {}  # width -> worker
    shared = sized_image(300, "shared.png")
    own = []
    for worker in range(workers):
        pictures = [sized_image(40 + worker * 10 + i, f"w{worker}-{i}.png") for i in range(3)]
        own.append(pictures)
        owners.update({p.width: worker for p in pictures})
    key_for = [KEYS[worker % 2] for worker in range(workers)]
    outcomes = {}

    def run(worker: int):
        plan = RunPlan(Task.CAPTIONING, Backend.CLARIFAI, model, PredictSettings(), Credentials(key_for[worker], "sidebar"))
        outcomes[worker] = run_predictions(plan, own[worker] + [shared], client=client)

    # the first key's sessions finish first, then the second key's run together: if the cache
    # ignored the key, the second key would get the shared picture's result from the first
    first = [w for w in range(workers) if key_for[w] == TEST_KEY]
    second = [w for w in range(workers) if key_for[w] == OTHER_KEY]
    for group in (first, second):
        barrier = threading.Barrier(len(group))

        def start(worker, barrier=barrier):
            barrier.wait()
            run(worker)

        with ThreadPoolExecutor(max_workers=len(group)) as pool:
            list(pool.map(start, group))

    for worker, outcome in outcomes.items():
        captions = [r.prediction.caption for r in outcome.results]
        widths = [p.width for p in own[worker]] + [shared.width]
        assert all(f"({w}x40)" in c for w, c in zip(widths, captions)), (worker, captions)

    for call in clarifai_env.prediction_calls():
        sent_widths = [Image.open(io.BytesIO(data)).width for data in call.images]
        for width in sent_widths:
            if width != shared.width:
                assert key_for[owners[width]] == key_of(call), "an image went out with another session's key"
    for key in KEYS:
        assert any(
            shared.data in call.images for call in clarifai_env.prediction_calls() if key_of(call) == key
        ), f"the shared picture was predicted with {key[:8]}… itself"


# --- the process-wide cache's keys -------------------------------------------------------------------


def test_cache_keys_carry_a_fingerprint_of_the_key_never_the_key():
    image = prepare_upload("a.png", png_bytes(scene_with_square()))
    model = Task.DETECTION.spec.default_model

    def plan(credentials):
        return RunPlan(Task.DETECTION, Backend.CLARIFAI, model, PredictSettings(), credentials)

    with_test = plan(Credentials(TEST_KEY, "sidebar")).cache_key(image)
    with_other = plan(Credentials(OTHER_KEY, "sidebar")).cache_key(image)
    without = plan(None).cache_key(image)
    assert len({with_test, with_other, without}) == 3
    assert with_test == plan(Credentials(TEST_KEY, "secrets")).cache_key(image), "the same key, whatever its source"
    assert key_fingerprint(TEST_KEY) in with_test and key_fingerprint(OTHER_KEY) in with_other
    for cache_key in (with_test, with_other, without):
        text = repr(cache_key) + "".join(strings_in(cache_key))
        assert TEST_KEY not in text and OTHER_KEY not in text
        assert not any(isinstance(part, Credentials) for part in cache_key)
    offline = RunPlan(Task.DETECTION, Backend.LOCAL, credentials=Credentials(TEST_KEY, "sidebar")).cache_key(image)
    assert offline == RunPlan(Task.DETECTION, Backend.LOCAL).cache_key(image) and offline not in (with_test, without)


def test_the_shared_cache_after_real_runs_holds_fingerprints_only(clarifai_env):
    alice = predict(upload(session("detection", TEST_KEY), RED))
    bob = predict(upload(session("detection", OTHER_KEY), RED, BLUE))
    for at in (alice, bob):
        assert "with results" in page_text(at)
    stored = list(PREDICTION_CACHE._cache.keys())
    assert len(stored) == 3
    assert {k[-1] for k in stored} == {key_fingerprint(TEST_KEY), key_fingerprint(OTHER_KEY)}
    everything = repr(stored) + "".join(strings_in(stored)) + "".join(
        strings_in([PREDICTION_CACHE.get(k) for k in stored])
    )
    assert TEST_KEY not in everything and OTHER_KEY not in everything
