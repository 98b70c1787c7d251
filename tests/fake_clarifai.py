"""A local gRPC server that answers as Clarifai does.

It checks keys, knows a catalogue of models, enforces Clarifai's limits, and computes its
answers from the image bytes it received, ignoring EXIF orientation as Clarifai does — so a
test can tell whether what was sent was upright. It can be told to fail or be slow, and it
records every call.

Run it alone for manual use:  python tests/fake_clarifai.py --port 50051 --key my-test-key
"""

from __future__ import annotations

import argparse
import io
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import grpc
import numpy as np
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_pb2
from PIL import Image

MAX_INPUTS = 128
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 85_000_000
MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # more than Clarifai's 128 MB request limit
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "TIFF", "BMP", "WEBP", "GIF"}
ANALYSIS_SIDE = 256  # answers are computed on a copy at most this big

# Clarifai's own descriptions (status-codes page and recorded responses).
DESCRIPTIONS = {
    10000: "Ok",
    10010: "Mixed Success",
    10020: "Failure",
    11005: "Making too many requests",
    11008: "Invalid API key or Invalid API key/application pair",
    11102: "Empty or malformed authorization header",
    21200: "Model does not exist",
    21201: "Model permission denied",
    21351: "Model is deploying",
    21354: "Model is busy, please retry",
    21355: "Model is loading",
    30002: "Download failed; check URL",
    30101: "Input has unsupported format",
    30105: "Input exceeds limits",
    40001: "Invalid request",
    47104: "Failed to decode image",
}

NAMED_COLOURS = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "purple": (130, 50, 170),
    "pink": (240, 130, 180),
    "brown": (120, 75, 40),
    "black": (15, 15, 15),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
}
_COLOUR_NAMES = list(NAMED_COLOURS)
_COLOUR_TABLE = np.array(list(NAMED_COLOURS.values()), dtype=np.float32)
# OpenCV hue (0–180) bands for saturated colours, used by the fake detector.
_HUE_BANDS = [("red", 0, 8), ("orange", 8, 22), ("yellow", 22, 35), ("green", 35, 85), ("blue", 85, 130), ("purple", 130, 155), ("pink", 155, 170), ("red", 170, 181)]


@dataclass(frozen=True)
class FakeModel:
    user_id: str
    app_id: str
    model_id: str
    version_id: str
    name: str
    model_type_id: str
    allowed_keys: frozenset[str] | None = None  # None = public

    @property
    def path(self) -> str:
        return f"{self.user_id}/{self.app_id}/{self.model_id}"


DEFAULT_CATALOGUE = (
    FakeModel("clarifai", "main", "general-image-recognition", "aa7f35c01e0642fda5cf400f543e7c40", "Image Recognition", "visual-classifier"),
    FakeModel("clarifai", "main", "general-image-detection", "1580bb1932594c93b7e2e04456af7c6f", "Image Detection", "visual-detector"),
    FakeModel("clarifai", "main", "image-general-segmentation", "1581820110264581908ce024b12b4bfb", "Image Segmentation", "visual-segmenter"),
    FakeModel("salesforce", "blip", "general-english-image-caption-blip", "cdb690f13e62470ea6723642044f95e4", "Image Captioner", "image-to-text"),
    FakeModel("salesforce", "blip", "general-english-image-caption-blip-2", "71cb98f572694e28a99fa8fa86aaa825", "BLIP-2 Captioner", "image-to-text"),
    FakeModel("clarifai", "main", "color-recognition", "dd9458324b4b45c2be1a7ba84d27cd04", "Color Recognition", "visual-classifier"),
    FakeModel("clarifai", "main", "face-detection", "6dc7e46bc9124c5c8824be4822abe105", "Face Detection", "visual-detector"),
    FakeModel("clarifai", "main", "private-detector", "0000000000000000000000000000000a", "Private Detector", "visual-detector", frozenset({"owner-only-key"})),
)


@dataclass
class Fault:
    """One scripted misbehaviour, used up by one call (or by every call when `times` is None)."""

    kind: str  # rpc | status | slow | malformed_mask | missing_fields | fewer_outputs | input_status
    rpc_code: grpc.StatusCode | None = None
    status_code: int = 0
    seconds: float = 0.0
    count: int = 0
    times: int | None = 1
    method: str = "PostModelOutputs"

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
        return [i.data.image.base64 for i in getattr(self.request, "inputs", [])]


class _InputProblem(Exception):
    def __init__(self, code: int, details: str = ""):
        super().__init__(code, details)
        self.code = code
        self.details = details


class FakeClarifai(service_pb2_grpc.V2Servicer):
    """The servicer: Clarifai's behaviour for PostModelOutputs, GetModel and ListModels."""

    def __init__(
        self,
        keys: Iterable[str] = ("test-key",),
        catalogue: Iterable[FakeModel] = DEFAULT_CATALOGUE,
        url_images: dict[str, bytes] | None = None,
    ):
        self.keys = set(keys)
        self.catalogue = list(catalogue)
        self.url_images = dict(url_images or {})
        self.mask_style = "gray255"  # gray255 | ones | rgb | rgba: how segmentation masks are encoded
        self.mask_scale = 0.5  # masks come back at this fraction of the analysed size
        self.calls: list[RecordedCall] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()

    # --- control -----------------------------------------------------------------------

    def fail_next(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.calls.clear()
        self.mask_style = "gray255"
        self.mask_scale = 0.5

    def retire(self, model_id: str) -> None:
        self.catalogue = [m for m in self.catalogue if m.model_id != model_id]

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

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
        for model in self.catalogue:
            if (model.user_id, model.app_id, model.model_id) == (user_app_id.user_id, user_app_id.app_id, model_id):
                if version_id and version_id != model.version_id:
                    return 21200
                if model.allowed_keys is not None and key not in model.allowed_keys:
                    return 21201
                return model
        return 21200

    def _begin(self, method: str, request, context, response_type):
        """Records the call, applies a scripted fault, checks the key.

        Returns (fault, response): a response to send at once, or None to carry on.
        """
        self._record(method, request, context)
        fault = self._take_fault(method)
        if fault is not None and fault.kind == "rpc":
            context.abort(fault.rpc_code, f"fake {fault.rpc_code.name}")
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            return fault, response_type(status=_status(fault.status_code))
        auth = self._auth_problem(context)
        if auth:
            return fault, response_type(status=_status(auth))
        return fault, None

    # --- V2 methods --------------------------------------------------------------------

    def PostModelOutputs(self, request, context):
        fault, early = self._begin("PostModelOutputs", request, context, service_pb2.MultiOutputResponse)
        if early is not None:
            return early
        model = self._find_model(request.user_app_id, request.model_id, request.version_id, context)
        if isinstance(model, int):
            return service_pb2.MultiOutputResponse(status=_status(model))
        if not request.inputs:
            return service_pb2.MultiOutputResponse(status=_status(40001, "No inputs in request"))
        if len(request.inputs) > MAX_INPUTS:
            return service_pb2.MultiOutputResponse(
                status=_status(40001, f"Too many inputs in request: {len(request.inputs)}, the maximum is {MAX_INPUTS}")
            )
        config = _output_config(request.model)
        outputs = [self._predict_one(model, item, config, fault) for item in request.inputs]
        if fault and fault.kind == "fewer_outputs":
            outputs = outputs[: max(0, len(outputs) - fault.count)]
        failed = sum(o.status.code != 10000 for o in outputs)
        if failed == 0:
            top = _status(10000)
        elif len(outputs) == 1:
            top = _status(outputs[0].status.code, details=outputs[0].status.details)  # as Clarifai does
        elif failed == len(outputs):
            top = _status(10020)
        else:
            top = _status(10010)
        return service_pb2.MultiOutputResponse(status=top, outputs=outputs)

    def GetModel(self, request, context):
        _, early = self._begin("GetModel", request, context, service_pb2.SingleModelResponse)
        if early is not None:
            return early
        model = self._find_model(request.user_app_id, request.model_id, request.version_id, context)
        if isinstance(model, int):
            return service_pb2.SingleModelResponse(status=_status(model))
        return service_pb2.SingleModelResponse(status=_status(10000), model=_model_proto(model))

    def ListModels(self, request, context):
        _, early = self._begin("ListModels", request, context, service_pb2.MultiModelResponse)
        if early is not None:
            return early
        key = dict(context.invocation_metadata()).get("authorization", "")[4:]
        found = [
            m
            for m in self.catalogue
            if (m.user_id, m.app_id) == (request.user_app_id.user_id, request.user_app_id.app_id)
            and (not request.model_type_id or m.model_type_id == request.model_type_id)
            and (m.allowed_keys is None or key in m.allowed_keys)
        ]
        per_page = request.per_page or 128
        page = max(request.page, 1)
        found = found[(page - 1) * per_page : page * per_page]
        return service_pb2.MultiModelResponse(status=_status(10000), models=[_model_proto(m) for m in found])

    # --- predictions -------------------------------------------------------------------

    def _predict_one(self, model: FakeModel, item, config, fault: Fault | None) -> resources_pb2.Output:
        output = resources_pb2.Output(id=uuid.uuid4().hex, model=_model_proto(model))
        output.created_at.GetCurrentTime()
        output.input.id = item.id or uuid.uuid4().hex
        if item.data.image.url:
            output.input.data.image.url = item.data.image.url
        output.input.data.image.base64 = b"true"  # Clarifai echoes this marker, not the bytes
        try:
            rgb_and_size = self._decode_input(item.data.image)
        except _InputProblem as problem:
            output.status.CopyFrom(_status(problem.code, details=problem.details))
            return output
        output.status.CopyFrom(_status(10000))
        if fault and fault.kind == "missing_fields":
            output.ClearField("data")
            output.ClearField("input")
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
                    raise _InputProblem(30105, f"Image has {opened.width * opened.height} pixels, the limit is {MAX_IMAGE_PIXELS}")
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
        labels = _colour_labels(rgb)
        height, width = labels.shape
        mask_size = (max(1, round(width * self.mask_scale)), max(1, round(height * self.mask_scale)))
        small = cv2.resize(labels.astype(np.uint8), mask_size, interpolation=cv2.INTER_NEAREST)
        # Coverage is measured on the mask as sent, so shares sum to exactly 1.
        segments = _select([(_COLOUR_NAMES[i], share, i) for i, share in _shares(small)], config)
        for name, share, index in segments:
            region = data.regions.add()
            region.region_info.bounding_box.SetInParent()  # Clarifai sends an all-zero box
            region.region_info.mask.image.base64 = _encode_mask(small == index, self.mask_style)
            region.data.concepts.add(id=name, name=name, value=share)


# --- answers computed from the image ---------------------------------------------------------


def _colour_labels(rgb: np.ndarray) -> np.ndarray:
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    distances = ((pixels[:, None, :] - _COLOUR_TABLE[None, :, :]) ** 2).sum(axis=2)
    return distances.argmin(axis=1).reshape(rgb.shape[:2])


def _shares(labels: np.ndarray) -> list[tuple[int, float]]:
    counts = np.bincount(labels.ravel(), minlength=len(_COLOUR_NAMES))
    total = counts.sum()
    return sorted(((i, float(c / total)) for i, c in enumerate(counts) if c), key=lambda item: -item[1])


def _select(candidates: list[tuple], config: resources_pb2.OutputConfig) -> list[tuple]:
    """Clarifai's OutputConfig on (name, value, ...) candidates: select_concepts, else
    min_value; then the top max_concepts (20 when unset) by value."""
    selected = {c.name.lower() or c.id.lower() for c in config.select_concepts}
    if selected:
        kept = [c for c in candidates if c[0].lower() in selected]
    else:
        kept = [c for c in candidates if c[1] >= config.min_value]
    kept.sort(key=lambda c: -c[1])
    return kept[: config.max_concepts or 20]


def _orientation(size: tuple[int, int]) -> str:
    width, height = size
    return "landscape" if width > height else "portrait" if height > width else "square"


def _classify(rgb: np.ndarray, size, config, data: resources_pb2.Data) -> None:
    candidates = [(_orientation(size), 0.99)]
    candidates += [(_COLOUR_NAMES[i], round(0.5 + share * 0.45, 4)) for i, share in _shares(_colour_labels(rgb))]
    for name, value in _select(candidates, config):
        data.concepts.add(id=f"ai_{name}", name=name, value=value, app_id="main")


def _detect(rgb: np.ndarray, size, config, data: resources_pb2.Data) -> None:
    """Boxes around saturated blobs of colour, named by their hue."""
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)
    height, width = hsv.shape[:2]
    vivid = (hsv[..., 1] > 110) & (hsv[..., 2] > 70)
    found = []
    for name, low, high in _HUE_BANDS:
        band = (vivid & (hsv[..., 0] >= low) & (hsv[..., 0] < high)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
        for x, y, w, h, area in stats[1:count]:
            if area >= 0.002 * width * height:
                score = round(0.5 + 0.49 * float(area) / float(w * h), 4)
                found.append((name, score, (y / height, x / width, (y + h) / height, (x + w) / width)))
    for name, score, (top, left, bottom, right) in _select(found, config):
        region = data.regions.add(id=uuid.uuid4().hex[:12], value=score)
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = top, left, bottom, right
        region.data.concepts.add(id=name, name=name, value=score)


def _caption(rgb: np.ndarray, size, config, data: resources_pb2.Data) -> None:
    colours = " and ".join(_COLOUR_NAMES[i] for i, _ in _shares(_colour_labels(rgb))[:2])
    width, height = size
    data.text.raw = f"a {_orientation(size)} picture ({width}x{height}), mostly {colours}"
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


def _model_proto(model: FakeModel) -> resources_pb2.Model:
    proto = resources_pb2.Model(
        id=model.model_id,
        name=model.name,
        app_id=model.app_id,
        user_id=model.user_id,
        model_type_id=model.model_type_id,
    )
    proto.model_version.id = model.version_id
    proto.model_version.app_id = model.app_id
    proto.model_version.user_id = model.user_id
    return proto


# --- running it ------------------------------------------------------------------------------


class LocalClarifaiServer:
    """A FakeClarifai served on 127.0.0.1 with Clarifai's message size limits."""

    def __init__(self, servicer: FakeClarifai | None = None, port: int = 0):
        self.servicer = servicer or FakeClarifai()
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=16),
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        service_pb2_grpc.add_V2Servicer_to_server(self.servicer, self._server)
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")

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
    args = parser.parse_args()
    servicer = FakeClarifai(keys=args.key or ["test-key"], url_images=sample_url_images())
    with LocalClarifaiServer(servicer, port=args.port) as server:
        print(f"Local Clarifai on {server.address}: CLARIFAI_GRPC_BASE={server.address} CLARIFAI_GRPC_INSECURE=true", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
