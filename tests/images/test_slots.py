"""PreparationSlots: at most N preparations per visitor, a bound for the process, fair hand-out."""

from __future__ import annotations

import random
import threading
import time

import pytest

from components.images.slots import PreparationSlots

GUARD_SECONDS = 10  # only against a hang; no test depends on how fast anything is


class Holder:
    """A thread that takes a slot for `visitor` and keeps it until released."""

    def __init__(self, slots: PreparationSlots, visitor: str, timeout: float | None = None) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(slots, visitor, timeout), daemon=True)
        self._thread.start()

    def _run(self, slots: PreparationSlots, visitor: str, timeout: float | None) -> None:
        try:
            with slots.hold(visitor, timeout=timeout):
                self.entered.set()
                self.release.wait(GUARD_SECONDS)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.error = error

    def finish(self) -> None:
        self.release.set()
        self._thread.join(GUARD_SECONDS)
        assert not self._thread.is_alive()


def wait_until(condition) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.005)


def test_a_visitor_gets_at_most_its_share_while_another_visitor_gets_in_at_once():
    slots = PreparationSlots(per_visitor=2, total=4)
    first, second = Holder(slots, "alice"), Holder(slots, "alice")
    assert first.entered.wait(GUARD_SECONDS) and second.entered.wait(GUARD_SECONDS)

    third = Holder(slots, "alice")
    wait_until(lambda: slots.waiting() == 1)
    assert not third.entered.is_set()

    bob = Holder(slots, "bob")
    assert bob.entered.wait(GUARD_SECONDS)
    assert slots.in_flight("alice") == 2 and slots.in_flight("bob") == 1 and slots.in_flight() == 3

    first.finish()
    assert third.entered.wait(GUARD_SECONDS)
    for holder in (second, third, bob):
        holder.finish()
    assert slots.in_flight() == 0 and slots.waiting() == 0


def test_the_process_wide_bound_holds_across_visitors():
    slots = PreparationSlots(per_visitor=2, total=3)
    holders = [Holder(slots, "alice"), Holder(slots, "alice"), Holder(slots, "bob")]
    for holder in holders:
        assert holder.entered.wait(GUARD_SECONDS)

    carol = Holder(slots, "carol")
    wait_until(lambda: slots.waiting() == 1)
    assert not carol.entered.is_set() and slots.in_flight() == 3

    holders[0].finish()
    assert carol.entered.wait(GUARD_SECONDS)
    for holder in (*holders[1:], carol):
        holder.finish()


def test_a_freed_slot_goes_to_the_visitor_with_fewest_in_flight_not_to_the_earliest_heavy_waiter():
    slots = PreparationSlots(per_visitor=2, total=2)
    running = [Holder(slots, "heavy"), Holder(slots, "heavy")]
    for holder in running:
        assert holder.entered.wait(GUARD_SECONDS)
    queued_heavy = [Holder(slots, "heavy") for _ in range(5)]
    wait_until(lambda: slots.waiting() == 5)
    light = Holder(slots, "light")
    wait_until(lambda: slots.waiting() == 6)

    running[0].finish()

    assert light.entered.wait(GUARD_SECONDS)
    assert sum(holder.entered.is_set() for holder in queued_heavy) == 0
    running[1].finish()
    light.finish()
    for holder in queued_heavy:  # then the heavy visitor's files go, two at a time
        assert holder.entered.wait(GUARD_SECONDS)
        holder.finish()
    assert slots.in_flight() == 0


def test_waiting_longer_than_the_timeout_raises_and_leaves_no_waiter_behind():
    slots = PreparationSlots(per_visitor=1, total=1)
    holder = Holder(slots, "alice")
    assert holder.entered.wait(GUARD_SECONDS)

    with pytest.raises(TimeoutError, match="no preparation slot"), slots.hold("bob", timeout=0.05):
        pass

    assert slots.waiting() == 0 and slots.in_flight() == 1
    holder.finish()
    with slots.hold("bob", timeout=GUARD_SECONDS):
        assert slots.in_flight("bob") == 1


def test_an_error_inside_the_block_gives_the_slot_back():
    slots = PreparationSlots(per_visitor=1, total=1)
    with pytest.raises(RuntimeError), slots.hold("alice"):
        raise RuntimeError("decoding failed")
    assert slots.in_flight() == 0
    with slots.hold("alice", timeout=GUARD_SECONDS):
        assert slots.in_flight("alice") == 1


def test_many_threads_never_exceed_either_cap():
    slots = PreparationSlots(per_visitor=2, total=3)
    lock = threading.Lock()
    now: dict[str, int] = {}
    worst = {"total": 0, "visitor": 0}

    def work(visitor: str, seed: int) -> None:
        pause = random.Random(seed).uniform(0.002, 0.01)
        with slots.hold(visitor):
            with lock:
                now[visitor] = now.get(visitor, 0) + 1
                worst["total"] = max(worst["total"], sum(now.values()))
                worst["visitor"] = max(worst["visitor"], now[visitor])
            time.sleep(pause)
            with lock:
                now[visitor] -= 1

    threads = [threading.Thread(target=work, args=(f"v{i % 4}", i)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_SECONDS)
    assert 2 <= worst["total"] <= 3 and worst["visitor"] <= 2
    assert slots.in_flight() == 0 and slots.waiting() == 0


@pytest.mark.parametrize("per_visitor, total", [(0, 4), (2, 0)])
def test_caps_below_one_are_refused(per_visitor: int, total: int):
    with pytest.raises(ValueError):
        PreparationSlots(per_visitor=per_visitor, total=total)
