"""The process's memory: kept returnable to the system, and a budget for the work in flight.

Returnable (glibc only; a no-op elsewhere): glibc raises its mmap threshold after a large block is freed, so later multi-megabyte buffers
(uploaded photos, request bodies) come from heap arenas it rarely gives back. Measured here
after a 128-photo batch: 587 MB resident with the default, 305 MB with a fixed threshold.
Fixing the threshold is what MALLOC_MMAP_THRESHOLD_ does; hosts that do not let us set the
environment before start get it through mallopt().

The budget (`WORKING_MEMORY`): one process serves every visitor, so the memory that preparations
and predictions take while they run is admitted under one bound, whoever asks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 128 * 1024


@functools.cache
def return_large_blocks_to_the_system() -> bool:
    """Sets glibc's mmap and trim thresholds once per process; True if it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES))


# --- the working-memory budget -------------------------------------------------------------------

MB = 1024 * 1024
WORKING_MEMORY_BYTES = 96 * MB  # what preparations and predictions in flight may take together
# About two local predictions and a preparation at once: ten visitors' local predictions all at
# once took the process from 590 to 1,150 MB, and on 2 cores more at once is not faster.

Waiting = Callable[[str], None]
T = TypeVar("T")


@dataclass(eq=False)
class _Claim:
    need: int
    admitted: bool = False
    place: int = 0  # 1 = next in line; told to the waiter when it changes


class MemoryGovernor:
    """Admits work by its estimated bytes under one budget for the whole process.

        with WORKING_MEMORY.hold(estimated_bytes, on_wait=report):
            ...  # decode, predict

    Work is admitted in the order it asked while the bytes held stay within the budget; the rest
    waits, and `on_wait` (called with the lock held: keep it quick) hears its place in line
    whenever it changes, and "" once admitted. Work estimated above the
    whole budget runs alone rather than never. A run asks again for each image, so one visitor's
    128 images take turns with another's one: each image goes to the back of the line.
    Thread-safe; pure (no Streamlit).
    """

    def __init__(self, budget_bytes: int = WORKING_MEMORY_BYTES) -> None:
        if budget_bytes < 1:
            raise ValueError("budget_bytes must be at least 1")
        self.budget_bytes = budget_bytes
        self._condition = threading.Condition()
        self._line: list[_Claim] = []
        self._held = 0
        self._holders = 0
        self.peak_held = 0  # the most bytes ever held at once (for tests and benchmarks)

    @contextmanager
    def hold(self, estimated_bytes: int, on_wait: Waiting | None = None, timeout: float | None = None) -> Iterator[None]:
        """Waits until `estimated_bytes` fit and holds them for the block.

        Raises TimeoutError when not admitted within `timeout` seconds (None: as long as it takes).
        """
        claim = _Claim(need=min(max(int(estimated_bytes), 0), self.budget_bytes))
        give_up_at = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            self._line.append(claim)
            self._admit()
            told = 0
            while not claim.admitted:
                if claim.place != told and on_wait is not None:
                    told = claim.place
                    on_wait(_place_words(told))
                left = None if give_up_at is None else give_up_at - time.monotonic()
                if left is not None and left <= 0:
                    self._line.remove(claim)
                    self._admit()
                    raise TimeoutError(f"not admitted within {timeout} s")
                self._condition.wait(left)
            if told and on_wait is not None:
                on_wait("")  # admitted: nothing left to wait for
        try:
            yield
        finally:
            with self._condition:
                self._held -= claim.need
                self._holders -= 1
                self._admit()

    def held_bytes(self) -> int:
        with self._condition:
            return self._held

    def waiting(self) -> int:
        with self._condition:
            return len(self._line)

    def _admit(self) -> None:
        """Admits from the front of the line while the next claim fits; tells the rest their
        place. Lock held."""
        while self._line and (self._holders == 0 or self._held + self._line[0].need <= self.budget_bytes):
            claim = self._line.pop(0)
            claim.admitted = True
            self._held += claim.need
            self._holders += 1
            self.peak_held = max(self.peak_held, self._held)
        for place, claim in enumerate(self._line, start=1):
            claim.place = place
        self._condition.notify_all()


def _place_words(place: int) -> str:
    if place == 1:
        return "Waiting for other visitors' images to finish: yours are next"
    return f"Waiting for other visitors' images to finish: {place - 1} ahead of yours"


WORKING_MEMORY = MemoryGovernor()  # one for the process: every visitor's work shares it


def one_at_a_time(function: Callable[..., T]) -> Callable[..., T]:
    """Runs a cached function for one caller at a time, so a value is computed once however many
    visitors ask for it together (a cold process's first visitors would otherwise each paint the
    samples and load the detectors at the same moment). Put it above functools' cache decorator."""
    lock = threading.Lock()

    @functools.wraps(function)
    def serialized(*args, **kwargs) -> T:
        with lock:
            return function(*args, **kwargs)

    return serialized
