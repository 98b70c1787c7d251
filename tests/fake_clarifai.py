"""A local gRPC server that answers as Clarifai does.

It checks keys, knows a catalogue of models, enforces Clarifai's limits, and computes its
answers from the image bytes it received, ignoring EXIF orientation as Clarifai does — so a
test can tell whether what was sent was upright. It can be told to fail or be slow, and it
records every call.

Two kinds of model (../shared/CLARIFAI.md is the reference for both):
- classic ones (image in, `outputs[].data` out), answered here;
- new-style ones, which declare method signatures and take named arguments in `data.parts`:
  they are `ModelClass` subclasses (tests/runner_models.py) served by Clarifai's own runner
  code (`predict_wrapper` / `generate_wrapper`), behind this server's key check, catalogue,
  routing, warm-up, scripted faults and recording.

Modes: "classic" (the default, the Clarifai of the seed page) and "today" (2026: most legacy
models private, new-style models, "Resource does not exist" for unknown users and apps).
`fail_fast=True` rejects a whole request when one input is invalid (Clarifai's "V3" predict).

Run it alone for manual use:  python tests/fake_clarifai.py --port 50051 --key my-test-key --mode today
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: make `tests.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import fsspec  # noqa: E402
import grpc  # noqa: E402
import numpy as np  # noqa: E402
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc  # noqa: E402
from clarifai_grpc.grpc.api.status import status_pb2  # noqa: E402
from PIL import Image  # noqa: E402

from components.models import ModelRef  # noqa: E402
from tests import ocr_engine  # noqa: E402
from tests.color_analysis import (  # noqa: E402
    ANALYSIS_SIDE,
    BLOB_NAMES,
    COLOR_NAMES,
    ORIENTATIONS,
    color_blobs,
    color_labels,
    color_shares,
    describe,
    orientation,
)

MAX_INPUTS = 128
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 85_000_000
MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # more than Clarifai's 128 MB request limit
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "TIFF", "BMP", "WEBP", "GIF"}
SERVER_THREADS = 64  # calls served at once: a vLLM-backed runner answers many requests concurrently
MODES = ("classic", "today")

# Clarifai's own descriptions (status-codes page, Clarifai/docs docs/resources/api-overview/status-codes.md,
# and recorded responses). Codes that page does not list are described in the same style.
DESCRIPTIONS = {
    10000: "Ok",
    10010: "Mixed Success",
    10020: "Failure",
    11005: "Making too many requests",
    11008: "Invalid API key or Invalid API key/application pair",
    11101: "Resource does not exist",
    11102: "Empty or malformed authorization header",
    21200: "Model does not exist",
    21201: "Model permission denied",
    21202: "Invalid model argument",
    21351: "Model is deploying",
    21353: "Model is not deployed",
    21354: "Model is busy, please retry",
    21355: "Model is loading",
    25700: "Nodepool does not exist",
    25800: "Compute cluster does not exist",
    25900: "Deployment does not exist",
    30002: "Download failed; check URL",
    30101: "Input has unsupported format",
    30104: "Input invalid argument",
    30105: "Input exceeds limits",
    40001: "Invalid request",
    47104: "Failed to decode image",
}

# What a model made private answers to everyone else. Clarifai's notice says only that the legacy
# models "will be set to Private and will no longer accept public inference requests"
# (Clarifai/docs docs/product-updates/upcoming-api-changes/decommission-legacy-models.md); no
# public source shows the code. Clarifai hides what a caller may not see rather than refusing it
# (clarifai-python-grpc tests/client/test_concept_crud.py: patching another's concept gives
# CONN_DOES_NOT_EXIST), and its docs' example of a failed predict is MODEL_DOES_NOT_EXIST
# (Clarifai/docs docs/resources/api-overview/api-outputs.md): so 21200, not 21201. Settable per
# server (FakeClarifai.private_model_code) to try the other.
PRIVATE_MODEL_CODE = 21200
# Asked for a user-uploaded model with no runner_selector, Clarifai says "Shared compute is not
# available for user-uploaded models" (shared compute serves only Clarifai-owned models: Clarifai/docs
# docs/compute/inference/routing.md, "Shared compute fallback"). No public source gives the code
# that comes with it: MODEL_NOT_DEPLOYED is the closest ("this model has no deployment you can use").
NO_SHARED_COMPUTE_CODE = 21353
NO_SHARED_COMPUTE_DETAILS = (
    "Shared compute is not available for user-uploaded models. Deploy the model to a nodepool "
    "and name the deployment (or nodepool and compute cluster) in runner_selector."
)


@dataclass(frozen=True)
class Compute:
    """Where a user-uploaded model runs; requests must name one of these in runner_selector."""

    deployments: frozenset[tuple[str, str]] = frozenset()  # (user_id, deployment_id)
    nodepools: frozenset[tuple[str, str, str]] = frozenset()  # (user_id, compute_cluster_id, nodepool_id)


OCR_MODEL_TYPE = "optical-character-recognizer"  # Clarifai's type for text readers (PaddleOCR's)


@dataclass(frozen=True)
class FakeModel:
    user_id: str
    app_id: str
    model_id: str
    version_id: str
    name: str
    model_type_id: str
    allowed_keys: frozenset[str] | None = None  # None = public
    runner: str | None = None  # new-style: a kind in tests/runner_models.RUNNERS, served by Clarifai's runner
    compute: Compute | None = None  # None = Clarifai's shared compute serves it
    description: str = ""  # the model's description, as its page on Clarifai shows it

    @property
    def path(self) -> str:
        return f"{self.user_id}/{self.app_id}/{self.model_id}"


DEFAULT_CATALOGUE = (
    FakeModel(
        "clarifai", "main", "general-image-recognition", "aa7f35c01e0642fda5cf400f543e7c40",
        "Image Recognition", "visual-classifier",
    ),
    FakeModel(
        "clarifai", "main", "general-image-detection", "1580bb1932594c93b7e2e04456af7c6f",
        "Image Detection", "visual-detector",
    ),
    FakeModel(
        "clarifai", "main", "image-general-segmentation", "1581820110264581908ce024b12b4bfb",
        "Image Segmentation", "visual-segmenter",
    ),
    FakeModel(
        "salesforce", "blip", "general-english-image-caption-blip", "cdb690f13e62470ea6723642044f95e4",
        "Image Captioner", "image-to-text",
    ),
    FakeModel(
        "salesforce", "blip", "general-english-image-caption-blip-2", "71cb98f572694e28a99fa8fa86aaa825",
        "BLIP-2 Captioner", "image-to-text",
    ),
    FakeModel(
        "clarifai", "main", "color-recognition", "dd9458324b4b45c2be1a7ba84d27cd04",
        "Color Recognition", "visual-classifier",
    ),
    FakeModel(
        "clarifai", "main", "face-detection", "6dc7e46bc9124c5c8824be4822abe105",
        "Face Detection", "visual-detector",
    ),
    FakeModel(
        "test-user", "documents", "printed-text-ocr", "f1b1005c8feaa8d3f34d35f224092915",
        "Printed Text OCR", OCR_MODEL_TYPE,
    ),
    FakeModel(
        "clarifai", "main", "private-detector", "0000000000000000000000000000000a",
        "Private Detector", "visual-detector", frozenset({"owner-only-key"}),
    ),
)

# Still public in 2026 ("logo v2" in clarifai-python-grpc tests/public_models/public_test_helper.py, Dec 2025).
LOGO_DETECTOR = FakeModel(
    "clarifai", "main", "logo-detection-v2", "b0d5d59ae5cd4f7ab4e8a8c4f2c9d6e1", "Logo Detection", "visual-detector"
)
ACME_COMPUTE = Compute(
    deployments=frozenset({("acme", "acme-deploy")}),
    nodepools=frozenset({("acme", "acme-cluster", "acme-pool")}),
)
NEW_STYLE_CATALOGUE = (
    FakeModel(
        "qwen", "qwen-VL", "Qwen2_5-VL-7B-Instruct", "6c5d0a9e1f2b4c3d8e7f6a5b4c3d2e1f",
        "Qwen2.5-VL-7B-Instruct", "multimodal-to-text", runner="vlm",
    ),
    FakeModel(
        "clarifai", "main", "mm-poly-8b", "7a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "MM-Poly-8B", "multimodal-to-text", runner="vlm",
    ),
    FakeModel(
        "gcp", "generate", "gemma-3-4b-it", "8b2c3d4e5f60718293a4b5c6d7e8f90a",
        "Gemma 3 4B IT", "any-to-any", runner="vlm",
    ),
    FakeModel(
        "test-user", "vision", "optional-prompt-captioner", "9c3d4e5f60718293a4b5c6d7e8f90a1b",
        "Captioner (prompt optional)", "any-to-any", runner="optional-prompt-captioner",
    ),
    FakeModel(
        "deepseek-ai", "deepseek-ocr", "DeepSeek-OCR", "f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0",
        "DeepSeek-OCR", "multimodal-to-text", runner="deepseek-ocr",
    ),
    FakeModel(
        "meta", "segment-anything", "sam2_1-hiera-base-plus", "a0d4e5f60718293a4b5c6d7e8f90a1b2",
        "SAM 2.1 Hiera Base+", "visual-segmenter", runner="segment-anything",
    ),
    FakeModel(
        "test-user", "vision", "broken-vlm", "b1e5f60718293a4b5c6d7e8f90a1b2c3",
        "Broken VLM", "multimodal-to-text", runner="broken-vlm",
    ),
    FakeModel(
        "openai", "whisper", "whisper-large-v3", "c2f60718293a4b5c6d7e8f90a1b2c3d4",
        "Whisper Large v3", "audio-to-text", runner="speech-to-text",
    ),
    FakeModel(
        "acme", "vision", "acme-vlm", "d30718293a4b5c6d7e8f90a1b2c3d4e5",
        "ACME VLM", "multimodal-to-text", runner="vlm", compute=ACME_COMPUTE,
    ),
    FakeModel(
        "test-user", "bench", "slow-vlm", "e418293a4b5c6d7e8f90a1b2c3d4e5f6",
        "Slow VLM", "multimodal-to-text", runner="slow-vlm",
    ),
)
TODAY_CATALOGUE = DEFAULT_CATALOGUE + (LOGO_DETECTOR,) + NEW_STYLE_CATALOGUE
# Models published to exhaust the app, added by the tests that face them (`with_hostile_models`).
HOSTILE_CATALOGUE = (
    FakeModel(
        "test-user", "hostile", "many-masks", "f6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1",
        "Many Masks", "visual-segmenter", runner="hostile-segmenter",
    ),
    FakeModel(
        "test-user", "hostile", "endless-writer", "a7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2",
        "Endless Writer", "multimodal-to-text", runner="endless-writer",
    ),
)
# Captioners that report their tokens (cached ones too) or none, added by the tests that read them.
TOKEN_CATALOGUE = (
    FakeModel(
        "test-user", "tokens", "counting-captioner", "b8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3",
        "Counting Captioner", "image-to-text", runner="counting-captioner",
    ),
    FakeModel(
        "test-user", "tokens", "uncounted-captioner", "c9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4",
        "Uncounted Captioner", "image-to-text", runner="uncounted-captioner",
    ),
)
# Private since December 31st, 2025 (Clarifai/docs decommission-legacy-models.md). Clarifai's own client
# tests keep only the general, color, moderation, embedding and logo v2 models and no caption, segmentation
# or other detection model (clarifai-python-grpc tests/public_models/public_test_helper.py, Dec 2025):
# general-image-recognition, color-recognition and logo-detection-v2 still answer here.
DECOMMISSIONED = frozenset(
    {
        "clarifai/main/general-image-detection",
        "clarifai/main/image-general-segmentation",
        "clarifai/main/face-detection",
        "salesforce/blip/general-english-image-caption-blip",
        "salesforce/blip/general-english-image-caption-blip-2",
    }
)


# What Clarifai's community page features (the models this catalogue offers as today's defaults).
FEATURED = frozenset(
    {
        "clarifai/main/general-image-recognition",
        "clarifai/main/mm-poly-8b",
        "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct",
        "gcp/generate/gemma-3-4b-it",
        "meta/segment-anything/sam2_1-hiera-base-plus",
    }
)


def classic_model_for(spec) -> ModelRef:
    """An old-style model of this catalogue serving a task: its suggested classic model, else the
    first model of one of its types (for OCR, a user's `optical-character-recognizer`)."""
    suggested = [m.ref for m in spec.models if m.classic]
    if suggested:
        return suggested[0]
    model = next(m for m in DEFAULT_CATALOGUE if m.model_type_id in spec.model_types and m.allowed_keys is None)
    return ModelRef(model.user_id, model.app_id, model.model_id)


def _asks_signatures(request) -> bool:
    return any(
        "_method_name" in item.data.metadata and item.data.metadata["_method_name"] == "_GET_SIGNATURES"
        for item in request.inputs
    )


def catalogue_for(mode: str) -> tuple[FakeModel, ...]:
    return TODAY_CATALOGUE if mode == "today" else DEFAULT_CATALOGUE


@dataclass
class Fault:
    """One scripted misbehaviour, used up by one call (or by every call when `times` is None)."""

    kind: str  # rpc | status | slow | malformed_mask | missing_fields | fewer_outputs
    rpc_code: grpc.StatusCode | None = None
    status_code: int = 0
    seconds: float = 0.0
    count: int = 0
    times: int | None = 1
    method: str = "PostModelOutputs"  # also GenerateModelOutputs, GetModel, GetModelVersion, ListModels
    details: str = ""  # an rpc fault's details (gRPC's own words, e.g. a message over a size limit)

    @classmethod
    def rpc(cls, code: grpc.StatusCode, **kw) -> Fault:
        return cls("rpc", rpc_code=code, **kw)

    @classmethod
    def status(cls, code: int, **kw) -> Fault:
        return cls("status", status_code=code, **kw)

    @classmethod
    def slow(cls, seconds: float, **kw) -> Fault:
        return cls("slow", seconds=seconds, **kw)

    @classmethod
    def malformed_mask(cls, **kw) -> Fault:
        return cls("malformed_mask", **kw)

    @classmethod
    def missing_fields(cls, **kw) -> Fault:
        return cls("missing_fields", **kw)

    @classmethod
    def fewer_outputs(cls, count: int = 1, **kw) -> Fault:
        """Drop the last `count` outputs from the answer."""
        return cls("fewer_outputs", count=count, **kw)


@dataclass
class RecordedCall:
    method: str
    request: object
    metadata: dict[str, str]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def images(self) -> list[bytes]:
        """The image bytes of each input: `data.image`, or an image argument's part (new-style calls)."""
        found = []
        for item in getattr(self.request, "inputs", []):
            parts = [p.data.image.base64 for p in item.data.parts if p.data.image.base64]
            found.append(item.data.image.base64 or (parts[0] if parts else b""))
        return found

    @property
    def model_path(self) -> str:
        app = getattr(self.request, "user_app_id", None)
        return f"{app.user_id}/{app.app_id}/{self.request.model_id}" if app is not None else ""

    @property
    def runner_selector(self) -> resources_pb2.RunnerSelector | None:
        """The request's runner_selector as sent, or None when it named none."""
        if self.request is None or not self.request.DESCRIPTOR.fields_by_name.get("runner_selector"):
            return None
        return self.request.runner_selector if self.request.HasField("runner_selector") else None


class _InputProblem(Exception):
    def __init__(self, code: int, details: str = ""):
        super().__init__(code, details)
        self.code = code
        self.details = details


class _ModelArgumentProblem(Exception):
    """A request-level problem with the prediction settings (MODEL_INVALID_ARGUMENT)."""


class FakeClarifai(service_pb2_grpc.V2Servicer):
    """The servicer: Clarifai's PostModelOutputs, GenerateModelOutputs, GetModel, GetModelVersion, ListModels."""

    def __init__(
        self,
        keys: Iterable[str] = ("test-key",),
        catalogue: Iterable[FakeModel] | None = None,
        url_images: dict[str, bytes] | None = None,
        mode: str = "classic",
        fail_fast: bool = False,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.keys = set(keys)
        self.mode = mode
        self.fail_fast = fail_fast  # "V3" predict: one invalid input fails the whole request
        self.catalogue = list(catalogue_for(mode) if catalogue is None else catalogue)
        self.url_images = dict(url_images or {})
        self.private_model_code = PRIVATE_MODEL_CODE
        self.mask_style = "gray255"  # gray255 | ones | rgb | rgba: how segmentation masks are encoded
        self.mask_scale = 0.5  # masks come back at this fraction of the analysed size
        self.clock = time.monotonic  # what cold starts are timed with (a test may replace it)
        self.calls: list[RecordedCall] = []
        self._known_apps = {(m.user_id, m.app_id) for m in self.catalogue}  # retiring a model keeps its app
        self._faults: deque[Fault] = deque()
        self._runners: dict[str, object] = {}  # model path → its runner model instance
        self._warm_at: dict[str, tuple[float, float]] = {}  # model path → (loading from, ready at)
        self._hidden_signatures: set[str] = set()
        self._lock = threading.Lock()

    # --- control -----------------------------------------------------------------------

    def fail_next(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def reset(self) -> None:
        """Forgets calls, faults, cold starts, hidden signatures and the runner models' state
        (scripted replies, timings); keeps the mode, fail_fast and the catalogue."""
        with self._lock:
            self._faults.clear()
            self.calls.clear()
            self._warm_at.clear()
            self._hidden_signatures.clear()
            self._runners.clear()  # made afresh when next needed
        self.mask_style = "gray255"
        self.mask_scale = 0.5
        self.private_model_code = PRIVATE_MODEL_CODE
        self.clock = time.monotonic

    def retire(self, model_id: str) -> None:
        self.catalogue = [m for m in self.catalogue if m.model_id != model_id]

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def prediction_calls(self) -> list[RecordedCall]:
        """Every call that asked a model for an answer (unary or streamed), not look-ups."""
        with self._lock:
            return [
                c for c in self.calls if c.method in ("PostModelOutputs", "GenerateModelOutputs") and not _asks_signatures(c.request)
            ]

    def cold_start(self, model_path: str, seconds: float, loading_share: float = 0.25) -> None:
        """The model answers MODEL_DEPLOYING, then MODEL_LOADING for the last `loading_share` of
        the time, until `seconds` have passed (as a model scaling up from zero does)."""
        now = self.clock()
        with self._lock:
            self._warm_at[model_path] = (now + seconds * (1 - loading_share), now + seconds)

    def script_replies(self, model_path: str, *texts: str) -> None:
        """The VLM's next answers are these texts, one per answer (to feed malformed answers)."""
        self.runner(model_path).script_replies(*texts)

    def hide_signatures(self, model_path: str, hidden: bool = True) -> None:
        """GetModel, GetModelVersion and ListModels leave this model's method signatures out, so a
        client has to ask the model itself (the `_GET_SIGNATURES` call)."""
        with self._lock:
            (self._hidden_signatures.add if hidden else self._hidden_signatures.discard)(model_path)

    def runner(self, model_path: str):
        """The runner model instance serving a new-style model (e.g. to set `seconds_per_call`)."""
        with self._lock:
            if model_path not in self._runners:
                kinds = [m.runner for m in self.catalogue if m.path == model_path and m.runner]
                if not kinds:
                    raise KeyError(f"{model_path} is not a new-style model of this server's catalogue")
                from tests.runner_models import new_runner  # imports clarifai, which takes a while

                self._runners[model_path] = new_runner(kinds[0])
            return self._runners[model_path]

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _record(self, method: str, request, context) -> None:
        copy = type(request)()
        copy.CopyFrom(request)
        with self._lock:
            self.calls.append(RecordedCall(method, copy, dict(context.invocation_metadata())))

    # --- shared checks -----------------------------------------------------------------

    def _auth_problem(self, context) -> int | None:
        header = dict(context.invocation_metadata()).get("authorization", "")
        if not header.startswith("Key ") or not header[4:].strip():
            return 11102
        if header[4:] not in self.keys:
            return 11008
        return None

    def _find_model(self, user_app_id, model_id: str, version_id: str, context) -> FakeModel | int:
        key = dict(context.invocation_metadata()).get("authorization", "")[4:]
        app = (user_app_id.user_id, user_app_id.app_id)
        for model in self.catalogue:
            if (model.user_id, model.app_id, model.model_id) == (*app, model_id):
                if version_id and version_id != model.version_id:
                    return 21200
                if self.mode == "today" and model.path in DECOMMISSIONED:
                    return self.private_model_code
                if model.allowed_keys is not None and key not in model.allowed_keys:
                    return 21201
                return model
        if self.mode == "today" and app not in self._known_apps | {(m.user_id, m.app_id) for m in self.catalogue}:
            return 11101  # a wrong user or app: "Resource does not exist" (CLARIFAI.md, "Clarifai today")
        return 21200

    def _visible(self, model: FakeModel, key: str) -> bool:
        if self.mode == "today" and model.path in DECOMMISSIONED:
            return False
        return model.allowed_keys is None or key in model.allowed_keys

    def _begin(self, method: str, request, context, response_type):
        """Records the call, applies a scripted fault, checks the key.

        Returns (fault, response): a response to send at once, or None to carry on.
        """
        self._record(method, request, context)
        fault = self._take_fault(method)
        if fault is not None and fault.kind == "rpc":
            context.abort(fault.rpc_code, fault.details or f"fake {fault.rpc_code.name}")
        if fault is not None and fault.seconds:  # "slow", or any fault that also takes its time
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            return fault, response_type(status=_status(fault.status_code))
        auth = self._auth_problem(context)
        if auth:
            return fault, response_type(status=_status(auth))
        return fault, None

    def _predict_refusal(self, request, context) -> tuple[FakeModel | None, status_pb2.Status | None]:
        """The model asked for, or the status refusing the request before any input is looked at."""
        model = self._find_model(request.user_app_id, request.model_id, request.version_id, context)
        if isinstance(model, int):
            return None, _status(model)
        if not request.inputs:
            return None, _status(40001, details="No inputs in request")
        if len(request.inputs) > MAX_INPUTS:
            too_many = f"Too many inputs in request: {len(request.inputs)}, the maximum is {MAX_INPUTS}"
            return None, _status(40001, details=too_many)
        refusal = self._routing_problem(model, request.runner_selector if request.HasField("runner_selector") else None)
        return model, refusal or self._warming_up(model.path)

    def _routing_problem(self, model: FakeModel, selector) -> status_pb2.Status | None:
        """Clarifai's routing (Clarifai/docs docs/compute/inference/routing.md): a named deployment or
        nodepool must exist and serve the model; with none named, only shared compute is left."""
        known = [m.compute for m in self.catalogue if m.compute is not None]
        serving = model.compute or Compute()
        if selector is not None and selector.HasField("deployment"):
            deployment = selector.deployment
            where = (deployment.user_id, deployment.id)
            if not any(where in c.deployments for c in known):
                missing = f"Deployment '{deployment.id}' of user '{deployment.user_id}' does not exist"
                return _status(25900, details=missing)
            if where not in serving.deployments:
                return _status(25900, details=f"Deployment '{deployment.id}' does not serve model '{model.path}'")
            return None
        if selector is not None and selector.HasField("nodepool"):
            nodepool, cluster = selector.nodepool, selector.nodepool.compute_cluster
            if not any((cluster.user_id, cluster.id) == pool[:2] for c in known for pool in c.nodepools):
                missing = f"Compute cluster '{cluster.id}' of user '{cluster.user_id}' does not exist"
                return _status(25800, details=missing)
            where = (cluster.user_id, cluster.id, nodepool.id)
            if not any(where in c.nodepools for c in known):
                missing = f"Nodepool '{nodepool.id}' does not exist in compute cluster '{cluster.id}'"
                return _status(25700, details=missing)
            if where not in serving.nodepools:
                # A nodepool without this model: there is no deployment of it there.
                return _status(25900, details=f"No deployment of model '{model.path}' in nodepool '{nodepool.id}'")
            return None
        if model.compute is not None:
            return _status(NO_SHARED_COMPUTE_CODE, details=NO_SHARED_COMPUTE_DETAILS)
        return None

    def _warming_up(self, model_path: str) -> status_pb2.Status | None:
        with self._lock:
            if model_path not in self._warm_at:
                return None
            loading_from, ready_at = self._warm_at[model_path]
            now = self.clock()
            if now >= ready_at:
                del self._warm_at[model_path]
                return None
        if now < loading_from:
            return _status(21351, details="The model is scaling up from zero replicas")
        return _status(21355, details="The model is loading on a new replica")

    # --- V2 methods --------------------------------------------------------------------

    def PostModelOutputs(self, request, context):
        fault, early = self._begin("PostModelOutputs", request, context, service_pb2.MultiOutputResponse)
        if early is not None:
            return early
        model, refusal = self._predict_refusal(request, context)
        if refusal is not None:
            return service_pb2.MultiOutputResponse(status=refusal)
        if model.runner:
            return self._predict_with_runner(model, request, fault)
        config = _output_config(request.model)
        try:
            _check_selected_concepts(model, config)
        except _ModelArgumentProblem as problem:
            return service_pb2.MultiOutputResponse(status=_status(21202, details=str(problem)))
        outputs = [self._predict_one(model, item, config, fault) for item in request.inputs]
        if fault and fault.kind == "fewer_outputs":
            outputs = outputs[: max(0, len(outputs) - fault.count)]
        return service_pb2.MultiOutputResponse(status=self._overall_status(outputs), outputs=outputs)

    def GenerateModelOutputs(self, request, context):
        fault, early = self._begin("GenerateModelOutputs", request, context, service_pb2.MultiOutputResponse)
        if early is not None:
            yield early
            return
        model, refusal = self._predict_refusal(request, context)
        if refusal is None and not model.runner:
            refusal = _status(10020, details=f"Model '{model.path}' has no streaming method")
        if refusal is not None:
            yield service_pb2.MultiOutputResponse(status=refusal)
            return
        to_send, problems = self._runner_inputs(request)
        if problems[0] is not None:
            output = self._output_shell(model, request.inputs[0])
            output.status.CopyFrom(_status(problems[0].code, details=problems[0].details))
            yield service_pb2.MultiOutputResponse(status=output.status, outputs=[output])
            return
        self._runner_downloads(to_send)
        for response in self.runner(model.path).generate_wrapper(to_send):
            _complete_status(response.status)
            for output in response.outputs:
                _complete_status(output.status)
            yield response

    def GetModel(self, request, context):
        _, early = self._begin("GetModel", request, context, service_pb2.SingleModelResponse)
        if early is not None:
            return early
        model = self._find_model(request.user_app_id, request.model_id, request.version_id, context)
        if isinstance(model, int):
            return service_pb2.SingleModelResponse(status=_status(model))
        proto = _model_proto(model, self._signatures(model))
        return service_pb2.SingleModelResponse(status=_status(10000), model=proto)

    def GetModelVersion(self, request, context):
        _, early = self._begin("GetModelVersion", request, context, service_pb2.SingleModelVersionResponse)
        if early is not None:
            return early
        model = self._find_model(request.user_app_id, request.model_id, request.version_id, context)
        if isinstance(model, int):
            return service_pb2.SingleModelVersionResponse(status=_status(model))
        version = _model_proto(model, self._signatures(model)).model_version
        return service_pb2.SingleModelVersionResponse(status=_status(10000), model_version=version)

    def ListModels(self, request, context):
        _, early = self._begin("ListModels", request, context, service_pb2.MultiModelResponse)
        if early is not None:
            return early
        key = dict(context.invocation_metadata()).get("authorization", "")[4:]
        # With no user, ListModels lists the community's public models (search, featured_only, paginated).
        across_users = not request.user_app_id.user_id
        words = (request.search or request.query or request.name).casefold().split()
        found = [
            m
            for m in self.catalogue
            if (across_users or (m.user_id, m.app_id) == (request.user_app_id.user_id, request.user_app_id.app_id))
            and (not across_users or self._in_community(m))
            and (not request.model_type_id or m.model_type_id == request.model_type_id)
            and (not request.featured_only or m.path in FEATURED)
            and all(word in f"{m.path} {m.name} {m.model_type_id}".casefold() for word in words)
            and self._visible(m, key)
        ]
        per_page = request.per_page or 128
        page = max(request.page, 1)
        found = found[(page - 1) * per_page : page * per_page]
        models = [_model_proto(m, self._signatures(m)) for m in found]
        return service_pb2.MultiModelResponse(status=_status(10000), models=models)

    def GetDeployment(self, request, context):
        """A deployment of the catalogue's compute (the clarifai SDK checks one exists before routing to it)."""
        _, early = self._begin("GetDeployment", request, context, service_pb2.SingleDeploymentResponse)
        if early is not None:
            return early
        where = (request.user_app_id.user_id, request.deployment_id)
        if not any(where in m.compute.deployments for m in self.catalogue if m.compute is not None):
            return service_pb2.SingleDeploymentResponse(status=_status(25900))
        deployment = resources_pb2.Deployment(id=request.deployment_id, user_id=request.user_app_id.user_id)
        return service_pb2.SingleDeploymentResponse(status=_status(10000), deployment=deployment)

    def GetNodepool(self, request, context):
        """A nodepool of the catalogue's compute (the clarifai SDK checks one exists before routing to it)."""
        _, early = self._begin("GetNodepool", request, context, service_pb2.SingleNodepoolResponse)
        if early is not None:
            return early
        where = (request.user_app_id.user_id, request.compute_cluster_id, request.nodepool_id)
        if not any(where in m.compute.nodepools for m in self.catalogue if m.compute is not None):
            return service_pb2.SingleNodepoolResponse(status=_status(25700))
        return service_pb2.SingleNodepoolResponse(status=_status(10000), nodepool=resources_pb2.Nodepool(id=request.nodepool_id))

    def _in_community(self, model: FakeModel) -> bool:
        """Listed on the community's pages: public, and not made private (today mode)."""
        return model.allowed_keys is None and not (self.mode == "today" and model.path in DECOMMISSIONED)

    # --- new-style models: Clarifai's runner code ---------------------------------------

    def _signatures(self, model: FakeModel) -> list[resources_pb2.MethodSignature]:
        """The method signatures as the runner builds them (what Clarifai stores in model_version)."""
        if not model.runner or model.path in self._hidden_signatures:
            return []
        infos = type(self.runner(model.path))._get_method_infos()
        return [info.signature for info in infos.values() if info.signature is not None]

    def _predict_with_runner(self, model: FakeModel, request, fault: Fault | None) -> service_pb2.MultiOutputResponse:
        to_send, problems = self._runner_inputs(request)
        healthy = [i for i, problem in enumerate(problems) if problem is None]
        outputs = [self._output_shell(model, item) for item in request.inputs]
        for output, problem in zip(outputs, problems):
            if problem is not None:
                output.status.CopyFrom(_status(problem.code, details=problem.details))
        if healthy and (len(healthy) == len(problems) or not self.fail_fast):
            answer = self._ask_runner(model, to_send, healthy)
            if answer.status.code != 10000:  # the runner failed as a whole: its status as it set it, no outputs
                _complete_status(answer.status)
                return answer
            for index, answered in zip(healthy, answer.outputs):
                outputs[index].MergeFrom(answered)
                _complete_status(outputs[index].status)
            if len(answer.outputs) < len(healthy):  # e.g. _GET_SIGNATURES answers one input only
                outputs = [outputs[i] for i in healthy[: len(answer.outputs)]]
        if fault is not None:
            outputs = _spoil(outputs, fault)
        return service_pb2.MultiOutputResponse(status=self._overall_status(outputs), outputs=outputs)

    def _ask_runner(self, model: FakeModel, request, healthy: list[int]) -> service_pb2.MultiOutputResponse:
        if len(healthy) < len(request.inputs):
            kept = [request.inputs[i] for i in healthy]
            del request.inputs[:]
            request.inputs.extend(kept)
        # Each input is answered in turn: predict_wrapper works through a batch one input after another.
        self._runner_downloads(request)
        return self.runner(model.path).predict_wrapper(request)

    def _runner_inputs(self, request) -> tuple[service_pb2.PostModelOutputsRequest, list[_InputProblem | None]]:
        """A copy of the request to hand to the runner, and each input's problem, if any. Images are
        neither downloaded nor checked here: the runner downloads their URLs itself and does not
        validate them (CLARIFAI.md, "Audit of December 2026")."""
        to_send = service_pb2.PostModelOutputsRequest()
        to_send.CopyFrom(request)
        no_data = [self.mode == "today" and item.data.ByteSize() == 0 for item in to_send.inputs]
        return to_send, [_InputProblem(30104, "Input has no data") if empty else None for empty in no_data]

    def _runner_downloads(self, request) -> None:
        """The runner's own download of image URLs (`clarifai.runners.utils.url_fetcher.
        ensure_urls_downloaded`, which ModelServicer calls before predict_wrapper): top-level and
        first-level parts only; a failed download is logged and leaves the image without bytes.
        Addresses of `url_images` are served from memory and the loopback ones from this machine;
        the rest of the web is out of reach, as a missing file."""
        from clarifai.runners.utils.url_fetcher import ensure_urls_downloaded

        sent = []
        for item in request.inputs:
            for data in (item.data, *(part.data for part in item.data.parts)):
                if data.image.url and not data.image.base64:
                    sent.append((data.image, data.image.url))
                    data.image.url = self._reachable_address(data.image.url)
        if not sent:
            return  # nothing to fetch (the downloader would only start and stop its threads)
        ensure_urls_downloaded(request)
        for image, url in sent:
            image.url = url

    def _reachable_address(self, url: str) -> str:
        host = (urlsplit(url).hostname or "").lower()
        if host in ("127.0.0.1", "localhost", "::1"):
            return url
        path = f"/fake-clarifai-web-{id(self)}/{hashlib.sha256(url.encode()).hexdigest()}"
        if url in self.url_images:
            fsspec.filesystem("memory").pipe_file(path, self.url_images[url])
        return "memory://" + path

    def _output_shell(self, model: FakeModel, item) -> resources_pb2.Output:
        """An output as Clarifai's API wraps what the model answered: ids, model, echoed input."""
        output = resources_pb2.Output(id=uuid.uuid4().hex, model=_model_proto(model), status=_status(10000))
        output.created_at.GetCurrentTime()
        output.input.id = item.id or uuid.uuid4().hex
        return output

    # --- classic predictions -------------------------------------------------------------

    def _overall_status(self, outputs: list[resources_pb2.Output]) -> status_pb2.Status:
        failed = sum(o.status.code != 10000 for o in outputs)
        if failed and self.fail_fast and len(outputs) > 1:
            # V3: the request is rejected as a whole; healthy inputs are not predicted
            # (clarifai-python-grpc tests/client/test_image_predict.py, test_mixed_success_predict).
            for output in outputs:
                if output.status.code == 10000:
                    output.ClearField("data")
                    not_processed = "Not processed: another input in the request is invalid"
                    output.status.CopyFrom(_status(30002, details=not_processed))
            return _status(10020)
        if failed == 0:
            return _status(10000)
        if len(outputs) == 1:
            return _status(outputs[0].status.code, details=outputs[0].status.details)  # as Clarifai does
        return _status(10020) if failed == len(outputs) else _status(10010)

    def _predict_one(self, model: FakeModel, item, config, fault: Fault | None) -> resources_pb2.Output:
        output = resources_pb2.Output(id=uuid.uuid4().hex, model=_model_proto(model))
        output.created_at.GetCurrentTime()
        output.input.id = item.id or uuid.uuid4().hex
        if item.data.image.url:
            output.input.data.image.url = item.data.image.url
        output.input.data.image.base64 = b"true"  # Clarifai echoes this marker, not the bytes
        try:
            if self.mode == "today" and item.data.ByteSize() == 0:
                raise _InputProblem(30104, "Input has no data")
            rgb_and_size = self._decode_input(item.data.image)
        except _InputProblem as problem:
            output.status.CopyFrom(_status(problem.code, details=problem.details))
            return output
        output.status.CopyFrom(_status(10000))
        if fault and fault.kind == "missing_fields":
            output.ClearField("data")
            output.ClearField("input")
            return output
        if model.model_type_id == OCR_MODEL_TYPE:  # reads the picture at full size, as received
            _read_text(self._input_bytes(item.data.image), config, output.data)
            return output
        answer = {
            "visual-classifier": _classify,
            "visual-detector": _detect,
            "visual-segmenter": self._segment,
            "image-to-text": _caption,
            "multimodal-to-text": _caption,
        }[model.model_type_id]
        answer(*rgb_and_size, config, output.data)
        if fault and fault.kind == "malformed_mask":
            for region in output.data.regions:
                region.region_info.mask.image.base64 = b"\x89PNG not really"
        return output

    def _input_bytes(self, image: resources_pb2.Image) -> bytes:
        return image.base64 or self.url_images.get(image.url, b"")

    def _decode_input(self, image: resources_pb2.Image) -> tuple[np.ndarray, tuple[int, int]]:
        """The picture as stored (EXIF orientation ignored, as Clarifai does) and its full size."""
        data = image.base64
        if image.url and not data:
            data = self.url_images.get(image.url)
            if data is None:
                raise _InputProblem(30002, f"404 Client Error: Not Found for url: {image.url}")
        if len(data) >= MAX_IMAGE_BYTES:
            raise _InputProblem(30105, f"Image is {len(data)} bytes, the limit is {MAX_IMAGE_BYTES}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                opened = Image.open(io.BytesIO(data))
            with opened:
                if opened.format not in ACCEPTED_FORMATS:
                    raise _InputProblem(30101, f"Format {opened.format} is not supported")
                if opened.width * opened.height > MAX_IMAGE_PIXELS:
                    pixels = opened.width * opened.height
                    raise _InputProblem(30105, f"Image has {pixels} pixels, the limit is {MAX_IMAGE_PIXELS}")
                size = opened.size
                opened.draft("RGB", (ANALYSIS_SIDE, ANALYSIS_SIDE))
                # Clarifai ignores EXIF orientation: so does this server (no exif_transpose).
                rgb = opened.convert("RGB")
        except _InputProblem:
            raise
        except Image.DecompressionBombError:
            raise _InputProblem(30105, f"Image has more than {MAX_IMAGE_PIXELS} pixels") from None
        except Exception as error:  # anything Pillow cannot read
            raise _InputProblem(47104, type(error).__name__) from None
        rgb.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE))
        return np.asarray(rgb), size

    def _segment(self, rgb: np.ndarray, size, config, data: resources_pb2.Data) -> None:
        labels = color_labels(rgb)
        height, width = labels.shape
        mask_size = (max(1, round(width * self.mask_scale)), max(1, round(height * self.mask_scale)))
        small = cv2.resize(labels.astype(np.uint8), mask_size, interpolation=cv2.INTER_NEAREST)
        # Coverage is measured on the mask as sent, so shares sum to exactly 1.
        segments = _select([(COLOR_NAMES[i], share, i) for i, share in color_shares(small)], config)
        for name, share, index in segments:
            region = data.regions.add()
            region.region_info.bounding_box.SetInParent()  # Clarifai sends an all-zero box
            region.region_info.mask.image.base64 = _encode_mask(small == index, self.mask_style)
            region.data.concepts.add(id=name, name=name, value=share)


# --- answers computed from the image ---------------------------------------------------------


def _concept_id(model_type_id: str, name: str) -> str:
    return f"ai_{name}" if model_type_id == "visual-classifier" else name


def _vocabulary(model_type_id: str) -> list[str]:
    """The concept names a classic model can answer with."""
    return {
        "visual-classifier": [*ORIENTATIONS, *COLOR_NAMES],
        "visual-detector": BLOB_NAMES,
        "visual-segmenter": COLOR_NAMES,
    }.get(model_type_id, [])


def _check_selected_concepts(model: FakeModel, config: resources_pb2.OutputConfig) -> None:
    """select_concepts must name at least one concept the model knows: ids and names match exactly,
    case included (Clarifai/docs docs/api-guide/predict/prediction-parameters.md: "If you submit a
    request with not an exact match of the concept id or name, you will receive an invalid model
    argument error"). When only some match, the others are ignored."""
    if not config.select_concepts or not _vocabulary(model.model_type_id):
        return
    names = set(_vocabulary(model.model_type_id))
    ids = {_concept_id(model.model_type_id, n) for n in names}
    if any(c.name in names or c.id in ids for c in config.select_concepts):
        return
    asked = ", ".join(repr(c.name or c.id) for c in config.select_concepts)
    raise _ModelArgumentProblem(
        f"None of the concepts in select_concepts exist in model '{model.path}': {asked}. "
        "Concept ids and names are matched exactly, case included."
    )


def _select(candidates: list[tuple], config: resources_pb2.OutputConfig, model_type_id: str = "") -> list[tuple]:
    """Clarifai's OutputConfig on (name, value, ...) candidates: select_concepts (exact names or
    ids), else min_value; then the top max_concepts (20 when unset) by value."""
    names = {c.name for c in config.select_concepts if c.name}
    ids = {c.id for c in config.select_concepts if c.id}
    if config.select_concepts:
        kept = [c for c in candidates if c[0] in names or _concept_id(model_type_id, c[0]) in ids]
    else:
        kept = [c for c in candidates if c[1] >= config.min_value]
    kept.sort(key=lambda c: -c[1])
    return kept[: config.max_concepts or 20]


def _classify(rgb: np.ndarray, size, config, data: resources_pb2.Data) -> None:
    candidates = [(orientation(size), 0.99)]
    candidates += [(COLOR_NAMES[i], round(0.5 + share * 0.45, 4)) for i, share in color_shares(color_labels(rgb))]
    for name, value in _select(candidates, config, "visual-classifier"):
        data.concepts.add(id=f"ai_{name}", name=name, value=value, app_id="main")


def _detect(rgb: np.ndarray, size, config, data: resources_pb2.Data) -> None:
    """Boxes around saturated blobs of colour, named by their hue."""
    for name, score, (top, left, bottom, right) in _select(color_blobs(rgb), config):
        region = data.regions.add(id=uuid.uuid4().hex[:12], value=score)
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = top, left, bottom, right
        region.data.concepts.add(id=name, name=name, value=score)


def _read_text(encoded: bytes, config, data: resources_pb2.Data) -> None:
    """One region per line of text, as Clarifai's OCR models answer: the line's box, its text in
    `data.text`, the recognition confidence as the region's value (PaddleOCR's shape)."""
    width, height = ocr_engine.image_size(encoded)
    for line in ocr_engine.read_lines(encoded):
        if config.min_value and line.confidence < config.min_value:
            continue
        region = data.regions.add(id=uuid.uuid4().hex[:12], value=line.confidence)
        x0, y0, x1, y1 = line.box
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = y0 / height, x0 / width, y1 / height, x1 / width
        region.data.text.raw = line.text
        region.data.text.text_info.encoding = "UnknownTextEnc"


def _caption(rgb: np.ndarray, size, config, data: resources_pb2.Data) -> None:
    data.text.raw = describe(rgb, size)
    data.text.text_info.encoding = "UnknownTextEnc"


def _encode_mask(mask: np.ndarray, style: str) -> bytes:
    plane = mask.astype(np.uint8) * (1 if style == "ones" else 255)
    if style == "rgb":
        plane = cv2.merge([plane, plane, plane])
    elif style == "rgba":
        zeros = np.zeros_like(plane)
        plane = cv2.merge([zeros, zeros, zeros, plane])
    ok, encoded = cv2.imencode(".png", plane)
    assert ok
    return encoded.tobytes()


def _spoil(outputs: list[resources_pb2.Output], fault: Fault) -> list[resources_pb2.Output]:
    """A scripted fault applied to a runner-served model's outputs."""
    if fault.kind == "fewer_outputs":
        return outputs[: max(0, len(outputs) - fault.count)]
    for output in outputs:
        if fault.kind == "missing_fields" and output.status.code == 10000:
            output.ClearField("data")
            output.ClearField("input")
        if fault.kind == "malformed_mask":
            for data in [output.data, *(part.data for part in output.data.parts)]:
                for region in data.regions:
                    region.region_info.mask.image.base64 = b"\x89PNG not really"
    return outputs


def _output_config(model: resources_pb2.Model) -> resources_pb2.OutputConfig:
    # The current form nests output_info in model_version; the docs' older form puts it on Model.
    if model.model_version.HasField("output_info"):
        return model.model_version.output_info.output_config
    return model.output_info.output_config


def _status(code: int, description: str | None = None, details: str = "") -> status_pb2.Status:
    return status_pb2.Status(
        code=code,
        description=DESCRIPTIONS.get(code, "Failure") if description is None else description,
        details=details,
        req_id=uuid.uuid4().hex,
    )


def _complete_status(status: status_pb2.Status) -> None:
    """What Clarifai's API adds to a status the runner set: a request id, and "Ok" on a success. A
    failure keeps the runner's own status: FAILURE, no description, the exception text in details."""
    if not status.description and status.code == 10000:
        status.description = DESCRIPTIONS[10000]
    if not status.req_id:
        status.req_id = uuid.uuid4().hex


def _model_proto(model: FakeModel, signatures: Iterable[resources_pb2.MethodSignature] = ()) -> resources_pb2.Model:
    proto = resources_pb2.Model(
        id=model.model_id,
        name=model.name,
        description=model.description,
        app_id=model.app_id,
        user_id=model.user_id,
        model_type_id=model.model_type_id,
    )
    proto.model_version.id = model.version_id
    proto.model_version.app_id = model.app_id
    proto.model_version.user_id = model.user_id
    proto.model_version.method_signatures.extend(signatures)
    return proto


# --- running it ------------------------------------------------------------------------------


class LocalClarifaiServer:
    """A FakeClarifai served on 127.0.0.1 with Clarifai's message size limits."""

    def __init__(
        self,
        servicer: FakeClarifai | None = None,
        port: int = 0,
        tls: tuple[bytes, bytes] | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ):
        """`tls`: (private key, certificate chain) in PEM, to serve TLS as api.clarifai.com does;
        `max_message_bytes`: the largest message received or sent."""
        self.servicer = servicer or FakeClarifai()
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=SERVER_THREADS),
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        service_pb2_grpc.add_V2Servicer_to_server(self.servicer, self._server)
        if tls is None:
            self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        else:
            self.port = self._server.add_secure_port(f"127.0.0.1:{port}", grpc.ssl_server_credentials([tls]))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> LocalClarifaiServer:
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop(grace=None)

    start = __enter__

    def stop(self) -> None:
        self._server.stop(grace=None)


def sample_url_images() -> dict[str, bytes]:
    """Clarifai's sample URL served from the shared test data, when present."""
    photo = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "photos" / "metro-north.jpg"
    return {"https://samples.clarifai.com/metro-north.jpg": photo.read_bytes()} if photo.exists() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=50051)
    parser.add_argument("--key", action="append", default=[], help="a key to accept (repeatable)")
    parser.add_argument("--mode", choices=MODES, default="classic", help="which Clarifai to be (default: classic)")
    parser.add_argument("--fail-fast", action="store_true", help="one invalid input fails the whole request (V3)")
    args = parser.parse_args()
    servicer = FakeClarifai(
        keys=args.key or ["test-key"], url_images=sample_url_images(), mode=args.mode, fail_fast=args.fail_fast
    )
    with LocalClarifaiServer(servicer, port=args.port) as server:
        print(
            f"Local Clarifai ({args.mode}) on {server.address}: "
            f"CLARIFAI_GRPC_BASE={server.address} CLARIFAI_GRPC_INSECURE=true",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
