"""Clarifai status codes and gRPC failures → typed errors with plain-language messages."""

from __future__ import annotations

import grpc

from components import errors
from components.models import MODEL_FORMAT_HELP, ModelRef

SUCCESS = 10000
MIXED_STATUS = 10010
FAILURE = 10020

KEY_CODES = {11001, 11002, 11008, 11009}
SCOPE_CODES = {11007}
MALFORMED_AUTH_CODES = {11102}
THROTTLED_CODES = {11005, 11003}  # Clarifai's SDK retries the hourly limit as well
QUOTA_CODES = {11004, 11006, 11000}
MODEL_MISSING_CODES = {21200}
MODEL_FORBIDDEN_CODES = {21201}
MODEL_ARGUMENT_CODES = {21202}
MODEL_FAILED_CODES = {21313}
WARMING_UP_CODES = {21351, 21354, 21355}
INPUT_CODES = {30002, 30101, 30104, 30105, 30106, 47101, 47103, 47104}
REQUEST_CODES = {40001, 40033}
REQUEST_TIMEOUT_CODES = {40032}
TRY_AGAIN_CODES = {10030}

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


def error_for_status(
    code: int,
    description: str = "",
    details: str = "",
    *,
    model: ModelRef | None = None,
    key_from_owner: bool = False,
) -> errors.ClarifaiError:
    """The typed error for a non-success Clarifai status."""
    described = description + (f" ({details})" if details else "")
    model_name = f"the model “{model.path}”" if model else "this model"
    subject = model_name[0].upper() + model_name[1:]

    if code in KEY_CODES:
        where = (
            "The key configured for this app was refused; enter your own key in the sidebar."
            if key_from_owner
            else "Check the personal access token (PAT) in the sidebar: copy it again from clarifai.com → Settings → Secrets."
        )
        return errors.AuthError("Clarifai refused the key. " + where, code, described)
    if code in SCOPE_CODES:
        return errors.AuthError(
            "This key is not allowed to run predictions. Create a personal access token (PAT) with the predict scope on clarifai.com and enter it in the sidebar.",
            code,
            described,
        )
    if code in MALFORMED_AUTH_CODES:
        return errors.AuthError(
            "The Clarifai key is missing or malformed. Paste the personal access token (PAT) exactly as clarifai.com shows it, without spaces.",
            code,
            described,
        )
    if code in THROTTLED_CODES:
        return errors.ThrottledError(
            "Clarifai is limiting how fast this key can make requests. Wait a few seconds and press Predict again.",
            code,
            described,
        )
    if code in QUOTA_CODES:
        return errors.QuotaError(
            "This Clarifai account has reached a usage limit. Check the plan on clarifai.com or use another key.",
            code,
            described,
        )
    if code in MODEL_MISSING_CODES:
        return errors.ModelNotFoundError(
            f"Clarifai has no {model_name.removeprefix('the ') if model else 'such model'} (older single-task models are being retired). "
            "Pick another model in the sidebar. " + MODEL_FORMAT_HELP,
            code,
            described,
        )
    if code in MODEL_FORBIDDEN_CODES:
        return errors.ModelForbiddenError(
            f"This key may not use {model_name}. Pick a public model, or use a key from the account that owns it.",
            code,
            described,
        )
    if code in MODEL_ARGUMENT_CODES:
        return errors.RequestError(
            f"{subject} rejected the prediction settings. Reset the settings in the sidebar and try again.",
            code,
            described,
        )
    if code in MODEL_FAILED_CODES:
        return errors.ModelFailedError(
            f"{subject} failed while predicting. Try again, or pick another model.",
            code,
            described,
        )
    if code in WARMING_UP_CODES:
        return errors.ModelWarmingUpError(
            f"{subject} is starting up on Clarifai. Wait a moment and press Predict again.",
            code,
            described,
        )
    if code in INPUT_CODES:
        return errors.InputFailedError(_INPUT_MESSAGES[code], code, described)
    if code in REQUEST_TIMEOUT_CODES:
        return errors.CallTimeoutError(
            "Clarifai took too long to answer. Try again with fewer images.", code, described
        )
    if code in REQUEST_CODES:
        return errors.RequestError(
            "Clarifai refused the request. Try again with fewer or smaller images.", code, described
        )
    if code in TRY_AGAIN_CODES:
        return errors.NetworkError("Clarifai asked to try again. Press Predict again.", code, described)
    return errors.ClarifaiError(
        "Clarifai could not complete the request. Try again; if it keeps failing, pick another model.",
        code,
        described,
    )


def error_for_rpc(error: grpc.RpcError, endpoint_label: str) -> errors.ClarifaiError:
    """The typed error for a transport failure (the call never got a Clarifai status)."""
    code = error.code() if hasattr(error, "code") else None
    details = (error.details() if hasattr(error, "details") else "") or ""
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
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return errors.RequestError(
            "The request was too large for Clarifai. Send fewer or smaller images.", None, f"gRPC {name}: {details}"
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
