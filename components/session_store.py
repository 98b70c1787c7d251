"""What a browser chose and got back, kept on the server so a reload or a new tab finds it again.

Streamlit starts a new session, with empty session state, on every reload and in every tab.
This store keeps each browser's images and results for a while after its session ends:

    SESSION_STORE.keep(browser_id, kept)     # after a run that changed the images or results
    kept = SESSION_STORE.get(browser_id)     # when a new session of that browser starts

`browser_id` must be an id only that browser can present (the keyed hash of the token in
Streamlit's XSRF cookie, see `budget.identify_visitor`), never something a visitor could
guess or that several browsers share (an address). Memory is bounded for the whole process:
at most `max_bytes` across all browsers, least recently used forgotten first, and nothing is
kept longer than `ttl_s` after it was last kept or read. While a session is open its state and
the store share the same objects, so the store costs memory only for browsers that have left.

A key the visitor typed is not kept: results made with it keep only its fingerprint.
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import cachetools
import numpy as np

from components.settings import Credentials

DEFAULT_MAX_BYTES = 96 * 1024 * 1024  # one 128-photo session with all its results (72 MB) and many small ones
DEFAULT_TTL_S = 1800
_OVERHEAD_BYTES = 64  # counted for every object walked, so many small ones are not free
_WALK_DEPTH = 16


@dataclass(frozen=True)
class KeptSession:
    """The parts of a session worth finding again: the chosen images and each page's last run."""

    images: Mapping[str, object]  # digest -> PreparedImage, in the order chosen
    runs: Mapping[str, object]  # page -> PageRun
    last_run_page: str = ""  # the page whose run was made last
    size_bytes: int = field(default=0, compare=False)

    @property
    def empty(self) -> bool:
        return not self.images and not self.runs


def kept_session(images: Mapping[str, object], runs: Mapping[str, object], last_run_page: str = "") -> KeptSession:
    """A snapshot of `images` and `runs` (shallow copies: the objects are shared, not copied),
    with visitors' typed keys taken out of the results' plans, and its size measured."""
    images = dict(images)
    runs = {page: _without_typed_keys(run) for page, run in runs.items()}
    return KeptSession(images, runs, last_run_page, approximate_size((images, runs)))


class SessionStore:
    """Thread-safe, process-wide: a browser's kept session, bounded in bytes and age."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ttl_s: float = DEFAULT_TTL_S,
        timer: Callable[[], float] = time.monotonic,
    ):
        self._lock = threading.Lock()
        self._kept: cachetools.TTLCache[str, KeptSession] = cachetools.TTLCache(
            maxsize=max_bytes, ttl=ttl_s, timer=timer, getsizeof=lambda kept: max(kept.size_bytes, 1)
        )

    def keep(self, browser_id: str, kept: KeptSession) -> bool:
        """Keeps `kept` for the browser, replacing what it had; False when it is larger than the
        whole store (then nothing is kept for that browser)."""
        with self._lock:
            self._kept.pop(browser_id, None)
            if kept.empty:
                return True
            try:
                self._kept[browser_id] = kept
            except ValueError:  # larger than the whole store
                return False
            return True

    def get(self, browser_id: str) -> KeptSession | None:
        with self._lock:
            return self._kept.get(browser_id)  # a read counts as a use: it is forgotten last

    def forget(self, browser_id: str) -> None:
        with self._lock:
            self._kept.pop(browser_id, None)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        with self._lock:
            self._kept.expire()
            return len(self._kept)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            self._kept.expire()
            return int(self._kept.currsize)

    @property
    def max_bytes(self) -> int:
        return int(self._kept.maxsize)


SESSION_STORE = SessionStore()  # the one every session of this process keeps its state in


def approximate_size(value: object) -> int:
    """Bytes held by `value`, counting each object once: buffers and arrays by their length,
    text by its length, everything else a small fixed amount; walks containers, dataclasses and
    object attributes. An estimate for a memory bound, not an exact figure."""
    seen: set[int] = set()
    total = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if item is None or isinstance(item, (bool, int, float)) or id(item) in seen or depth > _WALK_DEPTH:
            continue
        seen.add(id(item))
        total += _OVERHEAD_BYTES
        if isinstance(item, (bytes, bytearray, memoryview)):
            total += len(item)
        elif isinstance(item, str):
            total += len(item)
        elif isinstance(item, np.ndarray) or isinstance(getattr(item, "nbytes", None), int):
            total += item.nbytes  # arrays, and what says its own size (a packed mask)
        elif isinstance(item, Mapping):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((part, depth + 1) for part in item)
        else:
            if dataclasses.is_dataclass(item) and not isinstance(item, type):
                stack.extend((getattr(item, f.name, None), depth + 1) for f in dataclasses.fields(item))
            attributes = getattr(item, "__dict__", None)
            if isinstance(attributes, dict):
                stack.append((attributes, depth + 1))
    return total


def _without_typed_keys(value: object) -> object:
    """`value` (a run, or anything holding plans) with every key a visitor typed reduced to its
    fingerprint; the app owner's key is left, it is in the process's settings anyway."""
    if isinstance(value, Credentials):
        return pickle.loads(pickle.dumps(value)) if value.source == "sidebar" else value  # keeps the fingerprint only
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            current = getattr(value, f.name, None)
            if isinstance(current, (list, tuple)):
                replaced = type(current)(_without_typed_keys(item) for item in current)
                changed = any(a is not b for a, b in zip(replaced, current))
            elif dataclasses.is_dataclass(current) or isinstance(current, Credentials):
                replaced = _without_typed_keys(current)
                changed = replaced is not current
            else:
                continue
            if changed:
                changes[f.name] = replaced
        return dataclasses.replace(value, **changes) if changes else value
    return value
