"""A cap on image preparation in flight: at most a few per visitor, and a bound for the process.

One process serves every visitor. Preparing an image is the heavy part of an upload (decoding,
converting, re-encoding), so a visitor who drops 128 large files must not take every core and
every megabyte while someone else's one photo waits behind them. Each preparation holds a slot:

    slots = PreparationSlots(per_visitor=2, total=4)   # one instance for the whole process
    with slots.hold(visitor_key):
        prepared = prepare_upload(name, data, options)

A visitor never has more than `per_visitor` slots; the process never more than `total`. When a
slot frees, it goes to the waiting visitor with the fewest preparations in flight (the earliest
waiter among equals), so a visitor with one file is served before the next of another visitor's
many. The class is pure (no Streamlit); `visitor_key` is whatever identifies a visitor.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["PreparationSlots"]


@dataclass(eq=False)
class _Waiter:
    visitor: Hashable
    granted: bool = False


class PreparationSlots:
    """Thread-safe slots for image preparation, capped per visitor and in total."""

    def __init__(self, per_visitor: int = 2, total: int = 4) -> None:
        if per_visitor < 1 or total < 1:
            raise ValueError("per_visitor and total must be at least 1")
        self.per_visitor = per_visitor
        self.total = total
        self._condition = threading.Condition()
        self._waiting: list[_Waiter] = []
        self._in_flight: dict[Hashable, int] = {}

    @contextmanager
    def hold(self, visitor: Hashable, timeout: float | None = None) -> Iterator[None]:
        """Waits for a slot for `visitor` and holds it for the block.

        Raises TimeoutError if no slot was free within `timeout` seconds (None: wait as long as
        it takes).
        """
        waiter = _Waiter(visitor)
        with self._condition:
            self._waiting.append(waiter)
            self._hand_out()
            if not self._condition.wait_for(lambda: waiter.granted, timeout):
                self._waiting.remove(waiter)
                raise TimeoutError(f"no preparation slot was free within {timeout} s")
        try:
            yield
        finally:
            with self._condition:
                left = self._in_flight[visitor] - 1
                if left:
                    self._in_flight[visitor] = left
                else:
                    del self._in_flight[visitor]
                self._hand_out()

    def in_flight(self, visitor: Hashable | None = None) -> int:
        """Preparations holding a slot: the visitor's, or everyone's when no visitor is given."""
        with self._condition:
            if visitor is None:
                return sum(self._in_flight.values())
            return self._in_flight.get(visitor, 0)

    def waiting(self) -> int:
        with self._condition:
            return len(self._waiting)

    def _hand_out(self) -> None:
        """Gives free slots to waiters: fewest in flight first, then the earliest. Lock held."""
        handed = False
        while self._waiting and sum(self._in_flight.values()) < self.total:
            eligible = [w for w in self._waiting if self._in_flight.get(w.visitor, 0) < self.per_visitor]
            if not eligible:
                break
            chosen = min(eligible, key=lambda w: self._in_flight.get(w.visitor, 0))  # min keeps the earliest
            self._waiting.remove(chosen)
            self._in_flight[chosen.visitor] = self._in_flight.get(chosen.visitor, 0) + 1
            chosen.granted = True
            handed = True
        if handed:
            self._condition.notify_all()
