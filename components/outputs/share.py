"""Share a result: the page's task, model, settings and image addresses as a link's query parameters,
and back. Never the key, never uploaded pictures (only images the app fetched by their address).

What comes back from a link is checked as anything typed would be: a model must parse, numbers
must be in range, addresses must be http(s), and everything is bounded in count and length.
Pure: no network, no streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from components.errors import ModelRefError
from components.images.limits import MAX_IMAGES_PER_RUN
from components.images.url_fetch import UrlRefusedError, check_url_syntax
from components.models import ModelRef, parse_model_ref

MAX_TEXT = 4_000  # characters of a prompt or a label list carried by a link
MAX_URLS = 24  # image addresses a link carries (a link of 128 addresses would break some browsers)
KEYS = ("model", "prompt", "labels", "min_value", "max_concepts", "select", "fetch", "url")
CLARIFAI_FETCHES = "clarifai"  # fetch=clarifai: Clarifai fetches the images by their address


@dataclass(frozen=True)
class SharedPage:
    """What a link restores on a task page."""

    model: ModelRef | None = None
    prompt: str = ""
    labels: str = ""  # as typed: "cat, dog"
    min_value: float | None = None
    max_concepts: int | None = None
    select: str = ""  # concepts to select, as typed
    urls: tuple[str, ...] = ()
    clarifai_fetches_urls: bool = False  # the page let Clarifai fetch image addresses itself
    problems: tuple[str, ...] = ()  # what in the link could not be used, in plain words

    @property
    def is_empty(self) -> bool:
        return not (self.model or self.prompt or self.labels or self.urls or self.select) and self.min_value is None


def share_query(shared: SharedPage) -> str:
    """The query string ("?model=...&url=...") of a link to this page as it is; "" when there is nothing to share."""
    pairs: list[tuple[str, str]] = []
    if shared.model is not None:
        pairs.append(("model", shared.model.path))
    for name, value in (("prompt", shared.prompt), ("labels", shared.labels), ("select", shared.select)):
        if value.strip():
            pairs.append((name, value.strip()[:MAX_TEXT]))
    if shared.min_value is not None:
        pairs.append(("min_value", f"{shared.min_value:g}"))
    if shared.max_concepts is not None:
        pairs.append(("max_concepts", str(shared.max_concepts)))
    if shared.clarifai_fetches_urls and shared.urls:
        pairs.append(("fetch", CLARIFAI_FETCHES))
    pairs += [("url", url) for url in shared.urls[:MAX_URLS]]
    return "?" + urlencode(pairs) if pairs else ""


def read_share(params: Mapping[str, str | Sequence[str]]) -> SharedPage:
    """A link's query parameters as a page to restore; what cannot be used is named in `problems`."""
    problems: list[str] = []

    def values(name: str) -> list[str]:
        value = params.get(name, [])
        return [value] if isinstance(value, str) else [str(v) for v in value]

    def first(name: str) -> str:
        found = values(name)
        return found[0][:MAX_TEXT] if found else ""

    model = None
    if first("model"):
        try:
            model = parse_model_ref(first("model"))
        except ModelRefError as error:
            problems.append(f"The link's model was left out: {error.message}")
    min_value = _number(first("min_value"), 0.0, 1.0, "minimum score", problems)
    max_concepts = _number(first("max_concepts"), 1, 200, "number of concepts", problems, whole=True)
    urls: list[str] = []
    for url in values("url")[: min(MAX_URLS, MAX_IMAGES_PER_RUN)]:
        try:
            urls.append(check_url_syntax(url))
        except UrlRefusedError as refusal:
            problems.append(f"An image address in the link was left out: {refusal.message}")
    if len(values("url")) > MAX_URLS:
        problems.append(f"The link names more than {MAX_URLS} images; the first {MAX_URLS} were added.")
    return SharedPage(
        model=model,
        prompt=first("prompt"),
        labels=first("labels"),
        min_value=min_value,
        max_concepts=int(max_concepts) if max_concepts is not None else None,
        select=first("select"),
        urls=tuple(dict.fromkeys(urls)),
        clarifai_fetches_urls=first("fetch") == CLARIFAI_FETCHES,
        problems=tuple(problems),
    )


def _number(text: str, low: float, high: float, what: str, problems: list[str], whole: bool = False) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high or (whole and value != int(value)):
        problems.append(f"The link's {what} ({text[:20]}) was left out: it must be a number from {low:g} to {high:g}.")
        return None
    return value
