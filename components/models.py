"""Which model to call, and how: model references, the task defaults, prediction settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from components.errors import ModelRefError
from components.signatures import Method
from components.text import shorten

_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_PATH_RE = re.compile(rf"^({_ID})/({_ID})/({_ID})(?:/({_ID}))?$")
_URL_PATH_RE = re.compile(rf"^/({_ID})/({_ID})/models/({_ID})(?:/versions/({_ID}))?/?$")
_URL_HOSTS = {"clarifai.com", "www.clarifai.com"}


@dataclass(frozen=True)
class ModelRef:
    user_id: str
    app_id: str
    model_id: str
    version_id: str = ""

    @property
    def path(self) -> str:
        """`user/app/model[/version]`, the short form people type."""
        parts = [self.user_id, self.app_id, self.model_id] + ([self.version_id] if self.version_id else [])
        return "/".join(parts)

    @property
    def short_path(self) -> str:
        """`user/app/model`, without the version."""
        return f"{self.user_id}/{self.app_id}/{self.model_id}"

    @property
    def link_markdown(self) -> str:
        """A Markdown link to the model's page, labelled with its short path (ids need no escaping)."""
        return f"[{self.short_path}]({self.url})"

    @property
    def url(self) -> str:
        url = f"https://clarifai.com/{self.user_id}/{self.app_id}/models/{self.model_id}"
        return url + (f"/versions/{self.version_id}" if self.version_id else "")

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class ModelInfo:
    ref: ModelRef  # as it was asked for: with a version only when one was named
    name: str
    model_type_id: str
    description: str = ""
    methods: tuple[Method, ...] = ()  # empty for an old-style model (image in, outputs[].data out)
    version_id: str = ""  # the version Clarifai described (the one `methods` come from); never sent unless named

    @property
    def is_new_style(self) -> bool:
        return bool(self.methods)

    def method(self, name: str) -> Method | None:
        return next((m for m in self.methods if m.name == name), None)


@dataclass(frozen=True)
class Routing:
    """Where Clarifai runs a new-style model: a deployment, or a nodepool of a compute cluster.

    Empty means Clarifai's default: the model owner's deployment, else shared compute (which exists
    only for Clarifai's own models).
    """

    deployment_id: str = ""
    nodepool_id: str = ""
    compute_cluster_id: str = ""
    user_id: str = ""  # owner of the deployment or of the compute cluster

    @property
    def is_set(self) -> bool:
        return bool(self.deployment_id or self.nodepool_id)

    @property
    def label(self) -> str:
        owner = f" (owner {self.user_id})" if self.user_id else ""
        if self.deployment_id:
            return f"deployment “{self.deployment_id}”{owner}"
        if self.nodepool_id:
            return f"nodepool “{self.nodepool_id}” of compute cluster “{self.compute_cluster_id}”{owner}"
        return "Clarifai's default routing"


@dataclass(frozen=True)
class PredictSettings:
    """Clarifai's OutputConfig: what a prediction returns."""

    min_value: float | None = None
    max_concepts: int | None = None
    select_concepts: tuple[str, ...] = ()


MODEL_FORMAT_HELP = (
    "Type a model as user/app/model (optionally /version), for example "
    "clarifai/main/general-image-recognition, or paste its page address, for example "
    "https://clarifai.com/clarifai/main/models/general-image-recognition."
)


def parse_model_ref(text: str) -> ModelRef:
    """A model from `user/app/model[/version]` or a pasted clarifai.com model URL."""
    text = (text or "").strip()
    if not text:
        raise ModelRefError("No model given. " + MODEL_FORMAT_HELP)
    if "://" in text or text.startswith(("clarifai.com/", "www.clarifai.com/")):
        return _parse_model_url(text)
    match = _PATH_RE.match(text)
    if not match:
        raise ModelRefError(f"“{shorten(text, 80)}” is not a model reference. " + MODEL_FORMAT_HELP)
    return ModelRef(*(part or "" for part in match.groups()))


def _parse_model_url(text: str) -> ModelRef:
    parsed = urlparse(text if "://" in text else "https://" + text)
    if parsed.scheme not in ("http", "https") or parsed.hostname not in _URL_HOSTS:
        raise ModelRefError(
            f"“{shorten(text, 80)}” is not a Clarifai model address: it must start with "
            "https://clarifai.com/. " + MODEL_FORMAT_HELP
        )
    match = _URL_PATH_RE.match(parsed.path)
    if not match:
        raise ModelRefError(
            f"“{shorten(text, 80)}” does not point at a model: the address should look like "
            "https://clarifai.com/{user}/{app}/models/{model}[/versions/{version}]."
        )
    return ModelRef(*(part or "" for part in match.groups()))

