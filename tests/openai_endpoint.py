"""A local stand-in for Clarifai's OpenAI-compatible endpoint (`https://api.clarifai.com/v2/ext/openai/v1`).

`POST /v2/ext/openai/v1/chat/completions` is answered as Clarifai's endpoint does: the request body,
as JSON, goes to the model named by its address (`model`) as the `msg` argument of its
`openai_transport` method (`openai_stream_transport` when `stream` is true), through the local
Clarifai server (tests/fake_clarifai.py) over gRPC, so its key check, catalogue, cold starts and
scripted faults apply and the call is recorded; the runner model (tests/runner_models.py, an
`OpenAIModelClass`) answers. A streamed answer goes back as server-sent events.

How Clarifai's endpoint maps a model starting up to HTTP is not documented: this one answers 503
(429 for a throttled key) with the Clarifai status in the error body, as OpenAI-compatible servers
signal "try again".

`GET /images/<name>` serves pictures a test puts in `images`, for code that downloads an image by
its address.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc

from components.errors import ModelRefError
from components.models import parse_model_ref

BASE_PATH = "/v2/ext/openai/v1"
STARTING_UP = {21351, 21352, 21354, 21355}  # MODEL_DEPLOYING, MODEL_QUEUED_FOR_DEPLOYMENT, MODEL_BUSY_PLEASE_RETRY, MODEL_LOADING
HTTP_FOR_STATUS = {
    11001: HTTPStatus.UNAUTHORIZED, 11008: HTTPStatus.UNAUTHORIZED, 11009: HTTPStatus.UNAUTHORIZED, 11102: HTTPStatus.UNAUTHORIZED,
    11005: HTTPStatus.TOO_MANY_REQUESTS, 11101: HTTPStatus.NOT_FOUND, 21200: HTTPStatus.NOT_FOUND, 21201: HTTPStatus.FORBIDDEN,
}


class OpenAIEndpoint:
    """The endpoint on 127.0.0.1, in front of the local Clarifai server at `grpc_address` (insecure)."""

    def __init__(self, grpc_address: str):
        self.images: dict[str, tuple[bytes, str]] = {}  # name -> (bytes, content type), served at /images/<name>
        self.requests: list[dict] = []  # the chat completion bodies received, in order
        host, port = grpc_address.rsplit(":", 1)
        self._channel = ClarifaiChannel.get_insecure_grpc_channel(host, int(port))  # the stub needs this call first
        self._stub = service_pb2_grpc.V2Stub(self._channel)
        endpoint = self

        class Handler(_Handler):
            owner = endpoint

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """What CLARIFAI_API_BASE is set to for code calling this endpoint."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def image_url(self, name: str) -> str:
        return f"{self.base}/images/{name}"

    def __enter__(self) -> OpenAIEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._channel.close()

    def model_request(self, body: dict) -> tuple[service_pb2.PostModelOutputsRequest, str]:
        """The request Clarifai's endpoint sends the model: the body as `msg` of its transport method."""
        model = parse_model_ref(str(body.get("model", "")))
        method = "openai_stream_transport" if body.get("stream") else "openai_transport"
        item = resources_pb2.Input()
        item.data.metadata.update({"_method_name": method})
        item.data.parts.add(id="msg").data.string_value = json.dumps({**body, "openai_endpoint": "/chat/completions"})
        request = service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
            inputs=[item],
        )
        return request, method


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIEndpoint
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # quiet: the tests read what matters
        pass

    def do_GET(self) -> None:
        name = self.path.removeprefix("/images/")
        if not self.path.startswith("/images/") or name not in self.owner.images:
            self._json(HTTPStatus.NOT_FOUND, _error("Not found", 404))
            return
        data, kind = self.owner.images[name]
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != BASE_PATH + "/chat/completions":
            self._json(HTTPStatus.NOT_FOUND, _error(f"No route {self.path}", 404))
            return
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            self._json(HTTPStatus.UNAUTHORIZED, _error("Empty or malformed authorization header", 11102))
            return
        try:
            body = json.loads(raw)
            request, method = self.owner.model_request(body)
        except (ValueError, ModelRefError) as error:
            self._json(HTTPStatus.BAD_REQUEST, _error(f"Invalid request: {error}", 40001))
            return
        self.owner.requests.append(body)
        metadata = (("authorization", "Key " + header[7:]),)
        stub = self.owner._stub
        if method == "openai_transport":
            response = stub.PostModelOutputs(request, metadata=metadata, timeout=60)
            if self._refused(response.status):
                return
            answer = _returned(response.outputs[0])
            error = _model_error(answer)
            if error is not None:
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, _error(error.get("details") or "Model prediction failed", error["code"]))
                return
            self._send(HTTPStatus.OK, "application/json", answer.encode())
            return
        responses = stub.GenerateModelOutputs(request, metadata=metadata, timeout=60)
        first = next(responses)
        if self._refused(first.status):
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in [first, *responses]:
            if piece.status.code != 10000 or not piece.outputs:
                self._chunk(f"data: {json.dumps(_error(piece.status.details or piece.status.description, piece.status.code))}\n\n")
                break
            self._chunk(f"data: {_returned(piece.outputs[0])}\n\n")
        self._chunk("data: [DONE]\n\n")
        self._chunk("")

    def _refused(self, status) -> bool:
        """Answers a Clarifai status that refuses the request; False when it succeeded."""
        if status.code == 10000:
            return False
        if status.code in STARTING_UP:
            http = HTTPStatus.SERVICE_UNAVAILABLE
        else:
            http = HTTP_FOR_STATUS.get(status.code, HTTPStatus.BAD_REQUEST)
        message = status.description + (f": {status.details}" if status.details else "")
        self._json(http, _error(message, status.code))
        return True

    def _json(self, status: HTTPStatus, body: dict) -> None:
        self._send(status, "application/json", json.dumps(body).encode())

    def _send(self, status: HTTPStatus, kind: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _returned(output: resources_pb2.Output) -> str:
    part = next((p for p in output.data.parts if p.id == "return"), None)
    return part.data.string_value if part is not None else output.data.string_value


def _model_error(answer: str) -> dict | None:
    """The error object `openai_transport` answers when the model failed ({"code", "description", "details"})."""
    try:
        parsed = json.loads(answer)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "code" in parsed and "choices" not in parsed else None


def _error(message: str, code: int) -> dict:
    return {"error": {"message": message, "type": "clarifai_error", "code": code}}
