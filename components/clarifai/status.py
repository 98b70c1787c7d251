"""Clarifai status codes and gRPC failures → typed errors with plain-language messages.

One table: each row names codes that mean one thing to the user, the error type and what to do.
Code names and numbers: `clarifai_grpc.grpc.api.status.status_code_pb2`; meanings: CLARIFAI.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import grpc

from components import errors
from components.models import MODEL_FORMAT_HELP, ModelRef

MIXED_STATUS = 10010
FAILURE = 10020
INPUT_FAILED = 30002  # also the code a healthy input gets when another input fails a fail-fast batch

KEY_CODES = {11001, 11002, 11008, 11009}
SCOPE_CODES = {11007}
MALFORMED_AUTH_CODES = {11102}
THROTTLED_CODES = {11005, 11003}  # Clarifai's SDK retries the hourly limit as well
QUOTA_CODES = {11004, 11006, 11000}
RESOURCE_MISSING_CODES = {11101}  # CONN_DOES_NOT_EXIST: a wrong user or app often gives this, not 21200
MODEL_MISSING_CODES = {21200}
MODEL_FORBIDDEN_CODES = {21201}
MODEL_ARGUMENT_CODES = {21202, 21203}
MODEL_FAILED_CODES = {21313}
DEPLOYMENT_FAILED_CODES = {21350}
# DEPLOYING, QUEUED_FOR_DEPLOYMENT, BUSY_PLEASE_RETRY, LOADING: retried for the cold-start wait
WARMING_UP_CODES = {21351, 21352, 21354, 21355}
NOT_DEPLOYED_CODES = {21353}
RUNNER_MISSING_CODES = {25600, 25601}
RUNNER_RETRY_CODES = {25604}  # RUNNER_NEEDS_RETRY: retried like throttling
RUNNER_FAILED_CODES = {25602, 25603, 25605, 25606, 25607, 25608, 25609}
NODEPOOL_CODES = {25700, 25701, 25702}
COMPUTE_CLUSTER_CODES = {25800, 25801, 25802}
DEPLOYMENT_CODES = {25900, 25901, 25902}
DEPLOYMENT_DISABLED_CODES = {25903}
INPUT_CODES = {30002, 30101, 30104, 30105, 30106, 47101, 47103, 47104}
REQUEST_CODES = {40001}
SERVER_BUSY_CODES = {40030, 40031}  # RPC_REQUEST_QUEUE_FULL, RPC_SERVER_UNAVAILABLE: passing, by their names
REQUEST_TIMEOUT_CODES = {40032}
TOO_LARGE_CODES = {40033}  # RPC_MAX_MESSAGE_SIZE_EXCEEDED
TRY_AGAIN_CODES = {10030}
RETRIED_CODES = THROTTLED_CODES | RUNNER_RETRY_CODES | TRY_AGAIN_CODES | SERVER_BUSY_CODES  # within the retry budget
TOO_LARGE_MESSAGE = (
    "The request was too large for Clarifai to take in. Send fewer images at once, or smaller ones: "
    "turn on “Shrink large images” under “Image handling” in the sidebar."
)

_INPUT_MESSAGES = {
    30002: "Clarifai could not download or read this image. Check that the address opens in a browser, or upload the file instead.",
    30101: "Clarifai does not accept this image format. Convert it to JPEG or PNG and try again.",
    30104: "Clarifai found this image invalid. Try another copy of the file, saved as JPEG or PNG.",
    30105: "This image is over Clarifai's limits (under 20 MB and at most 85 megapixels). Use a smaller image.",
    30106: "Clarifai refused this image address. Check that it is a full http(s) link to an image.",
    47101: "Clarifai could not download this image. Check that the address opens in a browser, or upload the file instead.",
    47103: "The image at this address is over Clarifai's 20 MB limit. Use a smaller image.",
    47104: "Clarifai could not decode this image. Save it again as JPEG or PNG and retry.",
}
_ROUTING_HELP = "Check its id and owner under “Where it runs” in the sidebar, or clear them to use Clarifai's default routing."


@dataclass(frozen=True)
class _Rule:
    """Codes that mean one thing to the user: the error type and its message.

    Messages may name `{model}` ("the model “user/app/model”" or "this model"), `{Model}` (the same,
    capitalised), `{no_such_model}`, `{address}` (the model's user/app/model), `{key_advice}` and `{routing}`; they are filled in per error.
    """

    codes: frozenset[int]
    error: type[errors.ClarifaiError]
    message: str


def _rule(codes: Iterable[int], error: type[errors.ClarifaiError], message: str) -> _Rule:
    return _Rule(frozenset(codes), error, message)


_STATUS_RULES: tuple[_Rule, ...] = (
    _rule(KEY_CODES, errors.AuthError, "Clarifai refused the key. {key_advice}"),
    _rule(
        SCOPE_CODES,
        errors.AuthError,
        "This key is not allowed to run predictions. Create a personal access token (PAT) with the predict "
        "scope on clarifai.com and enter it in the sidebar.",
    ),
    _rule(
        MALFORMED_AUTH_CODES,
        errors.AuthError,
        "The Clarifai key is missing or malformed. Paste the personal access token (PAT) exactly as "
        "clarifai.com shows it, without spaces.",
    ),
    _rule(
        THROTTLED_CODES,
        errors.ThrottledError,
        "Clarifai is limiting how fast this key can make requests. Wait a few seconds and press Predict again.",
    ),
    _rule(
        QUOTA_CODES,
        errors.QuotaError,
        "This Clarifai account has reached a usage limit. Check the plan on clarifai.com or use another key.",
    ),
    _rule(
        RESOURCE_MISSING_CODES,
        errors.ModelNotFoundError,
        "Clarifai found nothing at {address} that this key can see: the user or app id may be wrong, or the "
        "model private. Check the model's address, or pick another model in the sidebar. " + MODEL_FORMAT_HELP,
    ),
    _rule(
        MODEL_MISSING_CODES,
        errors.ModelNotFoundError,
        "Clarifai has no {no_such_model} that this key can use: its id may be misspelt, or the model private or "
        "retired. Pick another model in the sidebar. " + MODEL_FORMAT_HELP,
    ),
    _rule(
        MODEL_FORBIDDEN_CODES,
        errors.ModelForbiddenError,
        "This key may not use {model}. Pick a public model, or use a key from the account that owns it.",
    ),
    _rule(
        MODEL_ARGUMENT_CODES,
        errors.RequestError,
        "{Model} rejected the prediction settings. Reset the settings in the sidebar and try again.",
    ),
    _rule(MODEL_FAILED_CODES, errors.ModelFailedError, "{Model} failed while predicting. Try again, or pick another model."),
    _rule(
        DEPLOYMENT_FAILED_CODES,
        errors.ModelFailedError,
        "{Model} could not be deployed on Clarifai. Try again later, or pick another model.",
    ),
    _rule(
        WARMING_UP_CODES,
        errors.ModelWarmingUpError,
        "{Model} is starting up on Clarifai (a model nobody used for a while can take minutes). "
        "Wait a moment and press Predict again.",
    ),
    _rule(
        NOT_DEPLOYED_CODES,
        errors.DeploymentError,
        "{Model} has no deployment you can use: it runs only on compute its owner deploys, and Clarifai's "
        "shared compute serves Clarifai's own models only. Name a deployment (or a nodepool and compute "
        "cluster) under “Where it runs” in the sidebar, or pick a model hosted by Clarifai.",
    ),
    _rule(
        RUNNER_MISSING_CODES,
        errors.DeploymentError,
        "Nothing is running {model} on {routing} right now (its deployment may be scaled to zero or "
        "stopped, or this key may not use it). Try again in a minute, or choose another deployment in the sidebar.",
    ),
    _rule(
        RUNNER_RETRY_CODES,
        errors.ThrottledError,
        "The compute running {model} asked to try again. Wait a few seconds and press Predict again.",
    ),
    _rule(
        RUNNER_FAILED_CODES,
        errors.ModelFailedError,
        "The compute running {model} could not process the request. Try again, or pick another model.",
    ),
    _rule(NODEPOOL_CODES, errors.DeploymentError, "Clarifai has no usable {routing}. " + _ROUTING_HELP),
    _rule(COMPUTE_CLUSTER_CODES, errors.DeploymentError, "Clarifai has no usable {routing}. " + _ROUTING_HELP),
    _rule(
        DEPLOYMENT_CODES,
        errors.DeploymentError,
        "Clarifai has no {routing} serving {model}. " + _ROUTING_HELP,
    ),
    _rule(
        DEPLOYMENT_DISABLED_CODES,
        errors.DeploymentError,
        "The {routing} is disabled. Enable it on clarifai.com, or choose another one in the sidebar.",
    ),
    _rule(REQUEST_TIMEOUT_CODES, errors.CallTimeoutError, "Clarifai took too long to answer. Try again with fewer images."),
    _rule(REQUEST_CODES, errors.RequestError, "Clarifai refused the request. Try again with fewer or smaller images."),
    _rule(TOO_LARGE_CODES, errors.RequestError, TOO_LARGE_MESSAGE),
    _rule(
        SERVER_BUSY_CODES,
        errors.ServerBusyError,
        "Clarifai's servers are too busy to take the request right now, and stayed busy while the app kept "
        "trying. Wait a few seconds and press Predict again.",
    ),
    _rule(TRY_AGAIN_CODES, errors.NetworkError, "Clarifai asked to try again. Press Predict again."),
    *(_rule((code,), errors.InputFailedError, message) for code, message in _INPUT_MESSAGES.items()),
)
_RULE_FOR_CODE = {code: rule for rule in _STATUS_RULES for code in rule.codes}
_FALLBACK = _rule(
    (), errors.ClarifaiError, "Clarifai could not complete the request. Try again; if it keeps failing, pick another model."
)
_MODEL_RAISED = _rule(
    (),
    errors.ModelFailedError,
    "{Model} failed while answering (its own error is in Clarifai's description below). Try again, or pick another model.",
)
# How the runner reports an argument that was not sent: the old-style converter's words, the
# deserializer's, and Python's own when parts reach the method without it.
_MISSING_ARGUMENT = re.compile(
    r"Field (\w+) is required but not set|Missing required field: (\w+)"
    r"|missing \d+ required (?:positional |keyword-only )?arguments?: ([\w', ]+)"
)
# How a runner's exception reads when it got no picture it could open. The runner downloads image
# URLs itself, logs a failed download and calls the model anyway (clarifai.runners.utils.url_fetcher);
# the model then fails on the image: Clarifai's data types ("Image has no bytes", "Image must contain
# either bytes or URL"), the downloader's own words, Pillow's ("cannot identify image file", "image
# file is truncated", "Truncated File Read"), or an image loader's. A page of text served as an image
# reaches an OpenAI-style VLM as a "base64" data URL it cannot decode: Clarifai's
# `Image.to_base64_str` takes bytes that read as text to be base64 already ("Incorrect padding").
_IMAGE_UNREADABLE = re.compile(
    r"Image has no bytes|Image must contain either bytes or URL|error downloading image|cannot identify image file"
    r"|image file is truncated|Truncated File Read|UnidentifiedImageError|Incorrect padding|Invalid base64"
    r"|(?:failed|unable|could not|cannot|can't) (?:to )?(?:download|fetch|load|decode|open|read) (?:the )?image",
    re.I,
)


def unavailable_reason(model: ModelRef, *, classic: bool) -> str:
    """One sentence on a model that Clarifai did not find for this key, fit to its kind: Clarifai is
    retiring its older single-task (classic) models; a new-style one is missing or not shared."""
    if classic:
        return f"“{model.path}” is no longer available: older single-task models are being retired."
    return f"“{model.path}” is not available to this key: not found, or not shared with it."


def image_unreadable_message(image: str = "") -> str:
    """What to say when the model got no picture it could open; `image` names it (plain text, short)."""
    named = f"“{image}”" if image else "this image"
    return (
        f"Clarifai could not fetch or read {named}: the model got no picture it could open. Check that "
        "the address opens in a browser and shows a picture, or upload the file instead."
    )


def error_for_status(
    code: int,
    description: str = "",
    details: str = "",
    *,
    model: ModelRef | None = None,
    key_from_owner: bool = False,
    selected_concepts: Sequence[str] = (),
    routing_label: str = "",
) -> errors.ClarifaiError:
    """The typed error for a non-success Clarifai status."""
    described = f"{description} ({details})" if description and details else description or details
    model_name = f"the model “{model.path}”" if model else "this model"
    subject = model_name[0].upper() + model_name[1:]
    if code in MODEL_ARGUMENT_CODES and selected_concepts:
        names = ", ".join(f"“{name}”" for name in selected_concepts)
        return errors.RequestError(
            f"None of the concepts to select ({names}) exist in {model_name}: Clarifai matches concept names "
            "exactly, capitals included (detectors often say “Person”, not “person”). Check their spelling, "
            "or clear “Only these concepts” in the sidebar.",
            code,
            described,
        )
    if (code == FAILURE or code in RUNNER_FAILED_CODES) and _IMAGE_UNREADABLE.search(details):
        return errors.ImageUnreadableError(image_unreadable_message(), code, described)
    missing = _MISSING_ARGUMENT.search(details) if code == FAILURE else None
    if missing:
        listed = next(group for group in missing.groups() if group)
        names = ", ".join(f"“{n}”" for n in re.findall(r"\w+", listed) if n != "and")
        return errors.RequestError(
            f"{subject} needs {names}, which was not sent. Pick the model again in the sidebar so the app "
            "reads what it takes, or pick another model.",
            code,
            described,
        )
    rule = _RULE_FOR_CODE.get(code) or (_MODEL_RAISED if code == FAILURE and details else _FALLBACK)
    message = rule.message.format(
        model=model_name,
        Model=subject,
        no_such_model=f"model “{model.path}”" if model else "such model",
        address=f"“{model.path}”" if model else "that address",
        routing=routing_label or "deployment named in the sidebar",
        key_advice=(
            "The key configured for this app was refused; enter your own key in the sidebar."
            if key_from_owner
            else "Check the personal access token (PAT) in the sidebar: copy it again from clarifai.com → Settings → Secrets."
        ),
    )
    return rule.error(message, code, described)


RETRIED_RPC_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
# How gRPC (C core, Go, Java) says a message was over a size limit: RESOURCE_EXHAUSTED, but not passing.
_MESSAGE_TOO_LARGE = re.compile(r"message (?:is )?larger than max|max(?:imum)? message size|message too large", re.I)


def _rpc_details(error: grpc.RpcError) -> str:
    return (error.details() if hasattr(error, "details") else "") or ""


def message_too_large(error: grpc.RpcError) -> bool:
    """A RESOURCE_EXHAUSTED that says the message was over a size limit: sending it again fails again."""
    code = error.code() if hasattr(error, "code") else None
    return code == grpc.StatusCode.RESOURCE_EXHAUSTED and bool(_MESSAGE_TOO_LARGE.search(_rpc_details(error)))


def retried_rpc(error: grpc.RpcError) -> bool:
    """A transport failure that may pass: retried within the retry budget."""
    code = error.code() if hasattr(error, "code") else None
    return code in RETRIED_RPC_CODES and not message_too_large(error)


def error_for_rpc(error: grpc.RpcError, endpoint_label: str) -> errors.ClarifaiError:
    """The typed error for a transport failure (the call never got a Clarifai status)."""
    code = error.code() if hasattr(error, "code") else None
    details = _rpc_details(error)
    name = code.name if code is not None else "UNKNOWN"
    if code == grpc.StatusCode.UNAVAILABLE:
        return errors.NetworkError(
            f"Could not reach Clarifai at {endpoint_label}. Check the network connection and try again.",
            None,
            f"gRPC {name}: {details}",
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return errors.CallTimeoutError(
            "Clarifai did not answer in time. Try again, or send fewer images at once.", None, f"gRPC {name}"
        )
    if message_too_large(error):
        return errors.RequestError(TOO_LARGE_MESSAGE, None, f"gRPC {name}: {details}")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:  # a limit that may pass (Clarifai's rate limits, a busy server)
        return errors.ThrottledError(
            "Clarifai is out of room for this request right now. Wait a few seconds and press Predict again.",
            None,
            f"gRPC {name}: {details}",
        )
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return errors.RequestError(
            f"The server at {endpoint_label} does not offer this Clarifai call. Check the endpoint setting.",
            None,
            f"gRPC {name}",
        )
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return errors.AuthError("Clarifai refused the key. Check the key in the sidebar.", None, f"gRPC {name}")
    return errors.NetworkError(
        f"The call to Clarifai at {endpoint_label} failed. Try again in a moment.", None, f"gRPC {name}: {details}"
    )
