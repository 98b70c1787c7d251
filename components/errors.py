"""Typed errors with plain-language messages.

Every message says what went wrong and what to do. Clarifai errors also carry Clarifai's code
number and description. No error text ever contains a key: messages are built from fixed text
and Clarifai's own descriptions, never from request metadata.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error the app shows to a person."""

    title = "Something went wrong"

    def __init__(self, message: str, code: int | None = None, description: str = ""):
        super().__init__(message, code, description)
        self.message = message
        self.code = code
        self.description = description

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        detail = f": {self.description}" if self.description else ""
        return f"{self.message} (Clarifai code {self.code}{detail})"


class ImageError(AppError):
    """An image that cannot be used: unreadable, too big, refused URL, ..."""

    title = "Image not usable"


class ModelRefError(AppError, ValueError):
    title = "Model not understood"


class ClarifaiError(AppError):
    """Anything Clarifai (or the way to it) refused or failed."""

    title = "Clarifai error"
    retryable = False


class AuthError(ClarifaiError):
    title = "Key refused"


class KeyMissingError(AuthError):
    title = "No Clarifai key"


class KeyFormatError(AuthError):
    """A typed key with characters no key has (invisible spaces, curly quotes, line breaks...)."""

    title = "Key not usable"


class ModelNotFoundError(ClarifaiError):
    title = "Model not found"


class ModelForbiddenError(ClarifaiError):
    title = "Model not allowed"


class ModelTypeError(ClarifaiError):
    title = "Wrong kind of model"


class ModelFailedError(ClarifaiError):
    title = "Model failed"


class ModelWarmingUpError(ClarifaiError):
    title = "Model warming up"
    retryable = True


class DeploymentError(ClarifaiError):
    """The model has nowhere to run: no deployment, or the one named does not exist or is off."""

    title = "Nowhere to run the model"


class InputFailedError(ClarifaiError):
    title = "Image refused by Clarifai"


class ImageUnreadableError(InputFailedError):
    """The model's runner could not download an image's address, or open the bytes it got."""

    title = "Image not read by Clarifai"


class ThrottledError(ClarifaiError):
    title = "Too many requests"
    retryable = True


class QuotaError(ClarifaiError):
    title = "Usage limit reached"


class RequestError(ClarifaiError):
    title = "Request refused"


class NetworkError(ClarifaiError):
    title = "Clarifai unreachable"
    retryable = True


class ServerBusyError(ClarifaiError):
    """Clarifai's own servers said they are busy (a full request queue, a server not available)."""

    title = "Clarifai busy"
    retryable = True


class CallTimeoutError(ClarifaiError):
    title = "Clarifai took too long"


class BudgetExceededError(ClarifaiError):
    title = "Demo budget used up"


class ConfigError(AppError):
    """A setting (secrets or environment) the app cannot start with."""

    title = "Setting not understood"


class LocalUnsupportedError(AppError):
    title = "Needs a Clarifai model"


class UnexpectedError(AppError):
    """Stands in for an exception nobody foresaw, so the page shows a message, not a traceback."""

    title = "Unexpected problem"

    @classmethod
    def from_exception(cls, error: BaseException) -> UnexpectedError:
        return cls(
            f"The run stopped on an unexpected {type(error).__name__}. Your images and settings are kept: "
            "press Predict to try again, or try fewer images or another model."
        )
