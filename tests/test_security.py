"""The key stays secret, private addresses stay unreachable, and upload limits hold.

The key must never appear in logs (whole AppTest sessions, failures included), in anything a
page shows or puts in its URL, in any export, or in any error text — even when Clarifai echoes
it back in its answers. URL fetching refuses every non-public address in every spelling the
resolver accepts, also behind redirects. Uploads are capped at 20 MB per file and 128 per run.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import socket
import threading
import tomllib
import zipfile

import grpc
import pytest

from components import errors
from components.clarifai.client import ClarifaiClient
from components.clarifai.transport import CallPolicy
from components.images.limits import MAX_IMAGES_PER_RUN
from components.images.preparation import prepare_upload
from components.images.url_fetch import MAX_FILE_BYTES, UrlRefusedError, check_address, fetch_image_url
from components.models import ModelRef, PredictSettings
from components.outputs import exports
from components.run import answers
from components.run.backend import PREDICTION_CACHE, Backend, RunPlan
from components.run.model_fit import fit_model
from components.settings import Credentials, Endpoint, key_fingerprint, resolve_credentials
from components.tasks import Task
from components.text import plural
from tests import fake_clarifai as fake_module
from tests.apptest import PAGES, as_read, no_traceback, open_page, page_text, predict, upload
from tests.conftest import OTHER_KEY, PROJECT_ROOT, TEST_KEY
from tests.fake_clarifai import Fault, classic_model_for
from tests.helpers import jpeg_bytes, png_bytes, scene_with_square

FAST_POLICY = CallPolicy(
    predict_timeout_s=5, info_timeout_s=5, retry_budget_s=0.3, first_backoff_s=0.05, max_backoff_s=0.1, cold_start_wait_s=1.0
)
MISSING_URL = "https://images.example/not-there.jpg"
MOVED_URL = "https://images.example/moved.jpg"  # serves a page, not a picture


# --- fixtures and helpers ------------------------------------------------------------------------








@pytest.fixture
def app_call_policy():
    return FAST_POLICY


@pytest.fixture
def fast_client(clarifai_endpoint, fake_clarifai):
    client = ClarifaiClient(clarifai_endpoint, FAST_POLICY)
    yield client
    client.close()


@pytest.fixture
def echoing_server(monkeypatch, fake_clarifai):
    """Every status the local server sends repeats the caller's own key (as sent in its
    authorization metadata) in its description and details."""
    original_status, original_record = fake_module._status, fake_module.FakeClarifai._record
    caller = threading.local()

    def remember_caller(self, method, request, context):
        caller.key = dict(context.invocation_metadata()).get("authorization", "").removeprefix("Key ")
        return original_record(self, method, request, context)

    def echoing_status(code, description=None, details=""):
        said = fake_module.DESCRIPTIONS.get(code, "Failure") if description is None else description
        key = getattr(caller, "key", "")
        return original_status(code, f"{said} (key {key})", f"{details} Key {key}".strip())

    monkeypatch.setattr(fake_module.FakeClarifai, "_record", remember_caller)
    monkeypatch.setattr(fake_module, "_status", echoing_status)
    return fake_clarifai


def with_typed_key(at, key: str = TEST_KEY):
    """The visitor's own key, typed in the sidebar (not the app's secrets)."""
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    return at.text_input(key="pat").input(key).run()


def picture(color=(0, 0, 230), name="red.png") -> tuple[str, bytes]:
    return name, png_bytes(scene_with_square(color_bgr=color))


def shown_anywhere(at) -> str:
    """Everything a page shows or holds in its URL: the element tree, texts, tables."""
    parts = [str(at._tree), page_text(at), repr(at.query_params)]
    for kind in ("exception", "toast", "metric", "json", "table", "text", "latex"):
        parts += [repr(e) for e in at.get(kind)]
    parts += [e.value.to_csv() for e in at.dataframe]
    parts += [repr(e.value) for e in at.sidebar.get("caption")]
    return "\n".join(parts)


def assert_no_key_shown(at, *keys: str) -> None:
    text = shown_anywhere(at)
    for key in keys or (TEST_KEY, OTHER_KEY):
        assert key not in text
        assert key not in repr(at.query_params)


def error_texts(error: errors.AppError) -> list[str]:
    return [str(error), repr(error), repr(error.args), error.message, error.description, f"{error!s:>10}"]


# --- logs ----------------------------------------------------------------------------------------


@pytest.fixture
def every_log(caplog):
    """caplog at DEBUG on the root logger and on every logger that does not propagate (Streamlit's)."""
    caplog.set_level(logging.DEBUG)
    quiet = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = [(logger, logger.level) for logger in quiet]
    for logger in quiet:
        logger.addHandler(caplog.handler)
        logger.setLevel(logging.DEBUG)
    yield caplog
    for logger, level in levels:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)


def test_the_key_never_reaches_the_logs_over_a_whole_session(clarifai_env, echoing_server, every_log, testdata):
    coffee = ("coffee.png", (testdata / "photos" / "coffee.png").read_bytes())
    at = with_typed_key(open_page("classification"))
    at = predict(upload(at, coffee))  # success, with the key echoed in every status
    assert "1 with results" in page_text(at)
    clarifai_env.fail_next(Fault.status(11005, times=None))  # retried, then given up
    at = predict(upload(at, picture()))
    clarifai_env.reset()
    clarifai_env.fail_next(Fault.rpc(grpc.StatusCode.UNAVAILABLE, times=None))
    at = predict(upload(at, picture((230, 40, 40), "blue.png")))
    clarifai_env.reset()
    at = at.text_input(key="pat").input(TEST_KEY + "-wrong").run()  # a refused key that contains the key
    assert any("Clarifai refused the key" in e.value for e in at.sidebar.error)
    at.text_input(key="pat").input(TEST_KEY).run()
    at.radio(key="model_source_classification").set_value("browse").run()
    at = at.button(key="model_search_classification").click().run()  # ListModels
    for page in ("detection", "segmentation", "captioning", "all", "home"):
        at.switch_page(PAGES[page]).run()
        if page != "home":
            at = predict(at)
        no_traceback(at)
    assert len(clarifai_env.calls) > 8

    logged = every_log.text + "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in every_log.records
    )
    assert every_log.records, "the session should have logged something"
    assert TEST_KEY not in logged


# --- what the pages show -------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["sidebar", "secrets"])
def test_no_page_shows_the_key_or_puts_it_in_the_url(clarifai_env, echoing_server, source):
    for page in PAGES:
        at = open_page(page, key=TEST_KEY if source == "secrets" else None)
        if source == "sidebar":
            at = with_typed_key(at)
        assert_no_key_shown(at)
        if page == "home":
            continue
        at = predict(upload(at, picture()))
        no_traceback(at)
        assert "with results" in page_text(at)
        assert_no_key_shown(at)


def test_no_error_path_shows_the_key(clarifai_env, echoing_server):
    at = with_typed_key(open_page("classification"))  # a classic model: the failed input has its own status
    at = upload(at, picture())
    at.toggle(key="clarifai_fetches_urls").set_value(True).run()
    at.text_area(key="url_text").input(MISSING_URL)
    [submit] = [b for b in at.button if b.label == "Add images from URLs"]
    at = predict(submit.click().run())  # MIXED_STATUS, the failed input's status echoing the key
    assert "1 failed" in page_text(at)
    assert any("[key]" in as_read(e.value) for e in at.error), "Clarifai's description is shown, redacted"
    assert_no_key_shown(at)
    for fault in (Fault.status(21355, times=None), Fault.status(11004), Fault.rpc(grpc.StatusCode.INTERNAL)):
        PREDICTION_CACHE.clear()
        clarifai_env.reset()
        clarifai_env.fail_next(fault)
        at = predict(at)
        no_traceback(at)
        assert at.error
        assert_no_key_shown(at)
    clarifai_env.reset()
    PREDICTION_CACHE.clear()
    at = at.text_input(key="pat").input(TEST_KEY + "x").run()
    assert any("Clarifai refused the key" in e.value for e in at.sidebar.error)
    assert_no_key_shown(at)


# --- exports built from real answers -------------------------------------------------------------


def export_everything(items: list[exports.ExportItem]) -> list[str]:
    """Every download the app offers for these items, as text (zip members unpacked)."""
    texts = [
        exports.raw_json(items),
        exports.concepts_csv(items),
        exports.captions_csv(items),
        json.dumps(exports.coco_detections(items, 0.0)),
    ]
    for mask_format in ("rle", "png"):
        with zipfile.ZipFile(io.BytesIO(exports.coco_segmentation_zip(items, mask_format))) as archive:
            for name in archive.namelist():
                texts.append(name)
                texts.append(archive.read(name).decode("latin-1"))
    return texts


@pytest.mark.parametrize("task", list(Task))
def test_no_export_holds_the_key_even_when_clarifai_echoes_it(fast_client, echoing_server, classic_clarifai, task):
    credentials = Credentials(TEST_KEY, "sidebar")
    inputs = [png_bytes(scene_with_square()), jpeg_bytes(64, 48, (30, 160, 40)), MISSING_URL]
    results = fast_client.predict(classic_model_for(task.spec), inputs, PredictSettings(), credentials)
    assert [r.ok for r in results] == [True, True, False]
    assert_exports_hold_no_key(results)


@pytest.mark.parametrize("task", list(Task))
def test_no_export_of_a_new_style_answer_holds_the_key_even_when_clarifai_echoes_it(
    fast_client, echoing_server, monkeypatch, task
):
    credentials = Credentials(TEST_KEY, "sidebar")
    model = task.spec.models[0].ref if task != Task.CLASSIFICATION else task.spec.models[1].ref
    info = fast_client.get_model(model, credentials)
    fit = fit_model(task.spec, info)
    monkeypatch.setitem(echoing_server.url_images, MOVED_URL, b"<html>moved</html>")  # the runner's model cannot open it
    images = [png_bytes(scene_with_square()), jpeg_bytes(64, 48, (30, 160, 40)), MOVED_URL]
    arguments = [answers.call_arguments(fit.method, image, "Describe it.", {}) for image in images]
    results = fast_client.call_method(model, fit.method, arguments, credentials)
    assert [r.ok for r in results] == [True, True, False]
    assert_exports_hold_no_key(results, echoed=not fit.method.streaming)  # a stream's chunks carry the runner's status


def assert_exports_hold_no_key(results, echoed: bool = True) -> None:
    items = [
        exports.ExportItem(f"image-{i}.png", 64, 48, r.prediction, str(r.error) if r.error else "")
        for i, r in enumerate(results)
    ]
    texts = export_everything(items)
    if echoed:
        assert json.loads(texts[0])["images"][0]["output"]["status"]["description"].endswith("(key [key])")
    for text in texts:
        assert TEST_KEY not in text
        assert "authorization" not in text.lower()
    for result in results:
        assert TEST_KEY not in repr(result.prediction) + repr(result.error)
        if result.prediction is not None:
            assert TEST_KEY not in repr(result.prediction.status) + json.dumps(result.prediction.raw)


# --- every error text ------------------------------------------------------------------------------

# CLARIFAI.md's status table: code -> the error class the client must raise and words it must say.
STATUS_TABLE = {
    10010: (errors.ClarifaiError, "Clarifai"),
    10020: (errors.ClarifaiError, "Clarifai"),
    11001: (errors.AuthError, "Clarifai refused the key"),
    11002: (errors.AuthError, "Clarifai refused the key"),
    11008: (errors.AuthError, "Clarifai refused the key"),
    11009: (errors.AuthError, "Clarifai refused the key"),
    11007: (errors.AuthError, "not allowed to run predictions"),
    11102: (errors.AuthError, "missing or malformed"),
    11005: (errors.ThrottledError, "Wait a few seconds"),
    11003: (errors.ThrottledError, "Wait a few seconds"),
    11004: (errors.QuotaError, "usage limit"),
    21200: (errors.ModelNotFoundError, "Pick another model"),
    21201: (errors.ModelForbiddenError, "may not use"),
    21202: (errors.RequestError, "rejected the prediction settings"),
    21313: (errors.ModelFailedError, "failed while predicting"),
    21351: (errors.ModelWarmingUpError, "starting up"),
    21354: (errors.ModelWarmingUpError, "starting up"),
    21355: (errors.ModelWarmingUpError, "starting up"),
    30002: (errors.InputFailedError, "could not download or read"),
    30101: (errors.InputFailedError, "format"),
    30104: (errors.InputFailedError, "invalid"),
    30105: (errors.InputFailedError, "limits"),
    30106: (errors.InputFailedError, "address"),
    47101: (errors.InputFailedError, "could not download"),
    47103: (errors.InputFailedError, "20 MB"),
    47104: (errors.InputFailedError, "could not decode"),
    40001: (errors.RequestError, "refused the request"),
    40032: (errors.CallTimeoutError, "too long"),
    40033: (errors.RequestError, "too large for Clarifai"),
}


def test_the_status_table_matches_clarifai_md():
    notes = PROJECT_ROOT.parent / "shared" / "CLARIFAI.md"
    if not notes.exists():
        pytest.skip("CLARIFAI.md not found beside the project")
    table = notes.read_text().split("## Status codes", 1)[1].split("Observed batch behaviour", 1)[0]
    listed = {int(n) for n in re.findall(r"\b(\d{5})\b", table)} - {10000}
    assert listed == set(STATUS_TABLE)


@pytest.mark.parametrize("code", sorted(STATUS_TABLE))
def test_every_clarifai_status_becomes_a_clear_error_without_the_echoed_key(fast_client, echoing_server, code):
    kind, words = STATUS_TABLE[code]
    echoing_server.fail_next(Fault.status(code, times=None))
    with pytest.raises(errors.ClarifaiError) as caught:
        fast_client.predict(Task.DETECTION.spec.default_model, [jpeg_bytes(20, 20)], PredictSettings(), Credentials(TEST_KEY, "sidebar"))
    error = caught.value
    assert type(error) is kind or (kind is errors.ClarifaiError and isinstance(error, kind))
    assert words in error.message
    assert error.code == code and f"Clarifai code {code}" in str(error)
    assert "[key]" in error.description, "Clarifai's own words are kept, with the key cut out"
    for text in error_texts(error):
        assert TEST_KEY not in text


@pytest.mark.parametrize("code", sorted(c for c in STATUS_TABLE if c >= 30000 and c < 40000 or c >= 47000))
def test_per_image_errors_never_carry_the_echoed_key(fast_client, echoing_server, monkeypatch, code):
    """An input's own failing status (inside MIXED_STATUS), echoing the key in description and details."""
    original_decode = fake_module.FakeClarifai._decode_input

    def fail_urls(self, image):
        if image.url:
            raise fake_module._InputProblem(code, f"upstream said {TEST_KEY}")
        return original_decode(self, image)

    monkeypatch.setattr(fake_module.FakeClarifai, "_decode_input", fail_urls)
    results = fast_client.predict(
        Task.CLASSIFICATION.spec.default_model, [jpeg_bytes(20, 20), MISSING_URL], PredictSettings(), Credentials(TEST_KEY, "sidebar")
    )
    assert results[0].ok and isinstance(results[1].error, errors.InputFailedError)
    assert results[1].error.code == code
    for text in error_texts(results[1].error):
        assert TEST_KEY not in text


@pytest.fixture(scope="module")
def aborting_server():
    """A bare V2 server whose PostModelOutputs fails in transport, echoing the caller's key in
    the gRPC details; `codes[0]` says with which gRPC code."""
    from concurrent import futures

    from clarifai_grpc.grpc.api import service_pb2_grpc

    codes = [grpc.StatusCode.INTERNAL]

    class Aborting(service_pb2_grpc.V2Servicer):
        def PostModelOutputs(self, request, context):
            key = dict(context.invocation_metadata()).get("authorization", "")
            context.abort(codes[0], f"upstream refused authorization: {key} ({key.removeprefix('Key ')})")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    service_pb2_grpc.add_V2Servicer_to_server(Aborting(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield Endpoint(f"127.0.0.1:{port}", insecure=True), codes
    server.stop(grace=None)


@pytest.mark.parametrize(
    "rpc_code",
    [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNKNOWN,
     grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNIMPLEMENTED,
     grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INVALID_ARGUMENT],
)
def test_transport_errors_never_carry_a_key_echoed_in_grpc_details(aborting_server, rpc_code):
    endpoint, codes = aborting_server
    codes[0] = rpc_code
    client = ClarifaiClient(endpoint, FAST_POLICY)
    try:
        with pytest.raises(errors.ClarifaiError) as caught:
            client.predict(
                Task.CLASSIFICATION.spec.default_model, [jpeg_bytes(20, 20)], PredictSettings(), Credentials(TEST_KEY, "sidebar")
            )
    finally:
        client.close()
    assert caught.value.message and caught.value.title
    for text in error_texts(caught.value):
        assert TEST_KEY not in text


def test_model_information_errors_never_carry_the_echoed_key(fast_client, echoing_server):
    credentials = Credentials(TEST_KEY, "sidebar")
    with pytest.raises(errors.ModelNotFoundError) as missing:
        fast_client.get_model(ModelRef("clarifai", "main", "gone"), credentials)
    echoing_server.fail_next(Fault.status(11008, method="ListModels"))
    with pytest.raises(errors.AuthError) as refused:
        fast_client.list_models("clarifai", "main", "visual-detector", credentials)
    for error in (missing.value, refused.value):
        for text in error_texts(error):
            assert TEST_KEY not in text


# --- the key's own representations ---------------------------------------------------------------


def test_credentials_and_their_fingerprint_never_show_the_key():
    credentials = Credentials(TEST_KEY, "sidebar")
    for text in (repr(credentials), str(credentials), f"{credentials}", f"{credentials!r}", "%s" % (credentials,)):  # noqa: UP031 (the %-form is checked too)
        assert TEST_KEY not in text and "fingerprint=" in text
    fingerprint = credentials.fingerprint
    assert len(fingerprint) == 16 and all(c in "0123456789abcdef" for c in fingerprint)
    assert fingerprint not in TEST_KEY and fingerprint == key_fingerprint(TEST_KEY)
    assert Credentials(TEST_KEY, "secrets").fingerprint == fingerprint  # the key, not its source
    assert Credentials(OTHER_KEY, "sidebar").fingerprint != fingerprint
    assert fingerprint not in hashlib.sha256(TEST_KEY.encode()).hexdigest(), "keyed, not a plain hash"
    plan = RunPlan(Task.DETECTION, Backend.CLARIFAI, Task.DETECTION.spec.default_model, PredictSettings(), credentials)
    assert TEST_KEY not in repr(plan)
    assert TEST_KEY not in repr(resolve_credentials(f"  {TEST_KEY}  ", None, {}))


# --- private addresses -----------------------------------------------------------------------------

# Not in tests/images/test_url_fetch.py's table: more spellings and embeddings of non-public addresses.
REFUSED = [
    "::ffff:10.0.0.1", "::ffff:a00:1", "::ffff:7f00:1", "::ffff:0:a00:1", "::ffff:192.168.0.1", "::ffff:0.0.0.0",
    "::ffff:100.64.0.1", "::ffff:255.255.255.255", "::10.0.0.1", "::2",
    "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:1", "64:ff9b:1::a00:1",
    "2002:0a00:0001::", "2002:7f00:1::1", "2002:c0a8:101::", "2002:a9fe:a9fe::",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "fe80::1%eth0", "fe80::1%25eth0", "fe80::", "febf:ffff::1", "fc00::", "fdff:ffff::1", "fec0::1",
    "ff0e::1", "ff05::2", "::", "::1", "0:0:0:0:0:0:0:1", "::0.0.0.1",
    "0.0.0.0", "0.255.255.255", "10.255.255.255", "127.255.255.254", "169.254.0.1", "172.16.0.0", "192.168.255.255",
    "100.64.0.0", "192.0.0.9", "192.0.2.255", "198.19.255.255", "224.0.0.1", "233.252.0.1", "240.0.0.0",
    "[::]", "[::1]", "127.1", "127.0.1", "0x7f000001", "2130706433", "017700000001", "0177.0.0.1", "0x7f.0.0.1",
    "127.0.0.1.", " 127.0.0.1", "localhost", "", "1.2.3.4.5",
]
ALLOWED = ["8.8.4.4", "9.9.9.9", "::ffff:1.1.1.1", "2002:808:808::", "2620:fe::fe", "100.128.0.0"]


@pytest.mark.parametrize("address", REFUSED)
def test_every_spelling_of_a_non_public_address_is_refused(address):
    assert check_address(address) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_in_any_spelling_are_allowed(address):
    assert check_address(address) is None


@pytest.fixture
def no_connections(monkeypatch):
    """Fails the test if the fetcher ever opens a connection."""
    from components.images import url_fetch
    def refuse(*args, **kwargs):
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(url_fetch, "connection_pool", refuse)


# Host spellings that the system resolver (inet_aton and friends) turns into private addresses.
NUMERIC_HOSTS = [
    "127.1", "127.0.1", "0x7f000001", "0x7f.1", "2130706433", "017700000001", "0177.0.0.1", "0", "0.0.0.0",
    "10.1", "167772161", "0xa9fea9fe", "2852039166", "[::]", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
    "[::ffff:a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::]", "[fe80::1%25eth0]", "localhost",
    "localhost.", "LOCALHOST", "127.0.0.1.",
]


@pytest.mark.parametrize("host", NUMERIC_HOSTS)
def test_numeric_and_local_host_spellings_are_refused_before_any_connection(no_connections, host):
    with pytest.raises(UrlRefusedError) as caught:
        fetch_image_url(f"http://{host}/image.png")
    assert caught.value.reason in ("address", "dns", "syntax")
    if caught.value.reason == "address":
        assert "only public addresses can be fetched" in caught.value.message


def test_a_name_with_any_private_address_among_public_ones_is_refused(no_connections):
    answers = {
        "mixed-v4.example": ["93.184.216.34", "10.0.0.9"],
        "mixed-v6.example": ["2606:4700:4700::1111", "fd00::5"],
        "mapped.example": ["::ffff:169.254.169.254"],
        "nat64.example": ["64:ff9b::a00:1"],
        "zone.example": ["fe80::1%eth0"],
        "rebind.example": ["1.1.1.1", "127.0.0.1"],
    }

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    for host in answers:
        with pytest.raises(UrlRefusedError) as caught:
            fetch_image_url(f"https://{host}/a.png", resolve=resolve)
        assert caught.value.reason == "address", host


@pytest.fixture(scope="module")
def redirecting_web():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    class Redirect(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            target = parse_qs(urlsplit(self.path).query)["target"][0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "target",
    ["http://127.1/", "http://0x7f000001/", "http://017700000001/", "http://0/", "http://[::ffff:7f00:1]/",
     "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "http://[2002:a9fe:a9fe::]/", "http://localhost./",
     "http://169.254.169.254./", "//127.0.0.1/", "http://0xa9fea9fe/"],
)
def test_redirects_to_any_spelling_of_a_private_address_are_refused(redirecting_web, target):
    from urllib.parse import quote

    def resolve(host, port, *args, **kwargs):
        if host == "public.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return socket.getaddrinfo(host, port, *args, **kwargs)

    hops = []

    def allow_only_the_first_hop(host, ip):
        hops.append(host)
        return host == "public.example" and ip == "127.0.0.1"

    with pytest.raises(UrlRefusedError) as caught:
        fetch_image_url(
            f"http://public.example:{redirecting_web}/to?target={quote(target, safe='')}",
            resolve=resolve,
            allow_address=allow_only_the_first_hop,
            connect_timeout=2,
            read_timeout=2,
        )
    assert caught.value.reason in ("address", "dns", "syntax")
    assert "redirect" in caught.value.message
    assert hops[0] == "public.example" and "public.example" not in hops[1:]


# --- upload limits -------------------------------------------------------------------------------


def test_streamlit_caps_uploads_at_twenty_megabytes_like_the_app():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 20
    assert MAX_FILE_BYTES == 20 * 1024 * 1024  # Streamlit's megabytes are MiB


@pytest.mark.parametrize("size", [MAX_FILE_BYTES, MAX_FILE_BYTES + 1, 25 * 1024 * 1024])
def test_a_file_of_twenty_megabytes_or_more_is_refused_with_its_size(size):
    data = b"\xff\xd8\xff\xe0" + bytes(size - 4)
    with pytest.raises(errors.ImageError) as caught:
        prepare_upload("big.jpg", data)
    assert "images must be under 20 MB" in caught.value.message
    assert f"{size / 1024 / 1024:.1f} MB" in caught.value.message


def test_a_file_just_under_twenty_megabytes_is_not_refused_for_its_size():
    data = b"\xff\xd8\xff\xe0" + bytes(MAX_FILE_BYTES - 5)
    with pytest.raises(errors.ImageError) as caught:  # it is no picture, but its size is fine
        prepare_upload("almost.jpg", data)
    assert "must be under 20 MB" not in caught.value.message


def tiny_png(index: int) -> tuple[str, bytes]:
    pixels = scene_with_square(width=8, height=8, box=(0, 0, 0.5, 0.5), color_bgr=(index % 256, index // 256, 77))
    return f"tiny-{index:03d}.png", png_bytes(pixels)





def test_more_than_128_images_in_one_run_are_refused_with_a_message(offline_env):
    files = [tiny_png(i) for i in range(MAX_IMAGES_PER_RUN + 1)]
    assert len({data for _, data in files}) == len(files)
    at = upload(open_page("classification"), *files)
    no_traceback(at)
    assert f"{plural(MAX_IMAGES_PER_RUN, 'image')} chosen" in page_text(at)
    messages = [as_read(e.value) for e in at.error]
    assert any(
        f"Up to {MAX_IMAGES_PER_RUN} images go in one run" in m and "so 1 were not added" in m for m in messages
    ), messages
    assert at.button(key="predict").label == f"Predict {MAX_IMAGES_PER_RUN} images"

    at = upload(at, tiny_png(500))  # the run is full: nothing more goes in
    assert f"{plural(MAX_IMAGES_PER_RUN, 'image')} chosen" in page_text(at)
    assert any(f"{MAX_IMAGES_PER_RUN} are chosen already, so 1 were not added" in as_read(e.value) for e in at.error)


@pytest.mark.parametrize("name", ["classification", "detection", "segmentation", "captioning", "all"])
def test_no_download_code_or_link_a_page_offers_holds_the_key(clarifai_env, echoing_server, deferred_downloads, name):
    at = with_typed_key(open_page(name))
    at = predict(upload(at, picture()))
    no_traceback(at)
    assert deferred_downloads, "the page offered downloads"
    for file_name, build in deferred_downloads.items():
        data = build()
        text = data if isinstance(data, str) else bytes(data).decode("latin-1")
        if file_name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                text += "".join(archive.read(member).decode("latin-1") for member in archive.namelist())
        assert TEST_KEY not in text, file_name
    shown = [c.value for c in at.code]  # on task pages: the code beside each result and the share link
    assert not any(TEST_KEY in value for value in shown)
    if name == "all":
        return
    # Every form of the code is scanned: the SDK and clarifai-grpc always, the OpenAI client for a VLM.
    markers = {"clarifai SDK": "from clarifai.client.model import Model", "OpenAI client": "from openai import OpenAI",
               "clarifai-grpc": "stub = service_pb2_grpc.V2Stub"}
    [expander] = [e for e in at.expander if e.label == "Get the code"]
    forms = [tab.label for tab in expander.tabs]
    assert forms == (list(markers) if name in ("detection", "captioning") else ["clarifai SDK", "clarifai-grpc"])
    assert all(any(markers[form] in value for value in shown) for form in forms)
