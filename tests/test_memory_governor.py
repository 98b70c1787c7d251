"""MemoryGovernor: work admitted by its estimated bytes under one budget, in the order it asked."""

from __future__ import annotations

import threading
import time

import pytest

from components.memory import MemoryGovernor

GUARD_SECONDS = 10  # only against a hang; no test depends on how fast anything is


class Holder:
    """A thread that holds `need` bytes of `governor` until released, noting what it was told."""

    def __init__(self, governor: MemoryGovernor, need: int, timeout: float | None = None) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.told: list[str] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(governor, need, timeout), daemon=True)
        self._thread.start()

    def _run(self, governor: MemoryGovernor, need: int, timeout: float | None) -> None:
        try:
            with governor.hold(need, on_wait=self.told.append, timeout=timeout):
                self.entered.set()
                self.release.wait(GUARD_SECONDS)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.error = error

    def done(self) -> None:
        self.release.set()
        self._thread.join(GUARD_SECONDS)


def wait_until(condition, seconds: float = GUARD_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def test_work_within_the_budget_runs_together():
    governor = MemoryGovernor(budget_bytes=100)
    first, second = Holder(governor, 40), Holder(governor, 60)
    assert first.entered.wait(GUARD_SECONDS) and second.entered.wait(GUARD_SECONDS)
    assert governor.held_bytes() == 100
    first.done(), second.done()
    assert governor.held_bytes() == 0


def test_work_past_the_budget_waits_until_bytes_are_freed():
    governor = MemoryGovernor(budget_bytes=100)
    first = Holder(governor, 70)
    assert first.entered.wait(GUARD_SECONDS)
    second = Holder(governor, 50)
    wait_until(lambda: governor.waiting() == 1)
    assert not second.entered.is_set()
    assert governor.held_bytes() == 70
    first.done()
    assert second.entered.wait(GUARD_SECONDS)
    assert governor.peak_held <= 100
    second.done()


def test_the_line_is_kept_in_order_a_small_late_claim_does_not_pass():
    governor = MemoryGovernor(budget_bytes=100)
    first = Holder(governor, 80)
    assert first.entered.wait(GUARD_SECONDS)
    big = Holder(governor, 90)
    wait_until(lambda: governor.waiting() == 1)
    small = Holder(governor, 10)  # would fit now, but the big one asked first
    wait_until(lambda: governor.waiting() == 2)
    assert not small.entered.is_set()
    first.done()
    assert big.entered.wait(GUARD_SECONDS)
    assert small.entered.wait(GUARD_SECONDS)  # 90 + 10 fit together
    big.done(), small.done()


def test_a_claim_above_the_whole_budget_runs_alone_rather_than_never():
    governor = MemoryGovernor(budget_bytes=100)
    huge = Holder(governor, 10_000)
    assert huge.entered.wait(GUARD_SECONDS)
    assert governor.held_bytes() == 100  # counted as the whole budget
    other = Holder(governor, 1)
    wait_until(lambda: governor.waiting() == 1)
    assert not other.entered.is_set()
    huge.done()
    assert other.entered.wait(GUARD_SECONDS)
    other.done()


def test_waiters_are_told_their_place_in_line_as_it_changes():
    governor = MemoryGovernor(budget_bytes=100)
    holder = Holder(governor, 100)
    assert holder.entered.wait(GUARD_SECONDS)
    second, third = Holder(governor, 100), None
    wait_until(lambda: governor.waiting() == 1)
    third = Holder(governor, 100)
    wait_until(lambda: len(third.told) == 1)
    assert third.told == ["Waiting for other visitors' images to finish: 1 ahead of yours"]
    holder.done()
    assert second.entered.wait(GUARD_SECONDS)
    wait_until(lambda: len(third.told) == 2)
    assert third.told[-1] == "Waiting for other visitors' images to finish: yours are next"
    second.done()
    assert third.entered.wait(GUARD_SECONDS)
    assert third.told[-1] == ""  # admitted: nothing left to wait for
    third.done()
    assert holder.told == []  # admitted at once: never told to wait


def test_a_claim_that_times_out_leaves_the_line_and_frees_its_place():
    governor = MemoryGovernor(budget_bytes=100)
    holder = Holder(governor, 100)
    assert holder.entered.wait(GUARD_SECONDS)
    late = Holder(governor, 50, timeout=0.05)
    wait_until(lambda: late.error is not None)
    assert isinstance(late.error, TimeoutError)
    assert governor.waiting() == 0
    holder.done()
    assert governor.held_bytes() == 0


def test_bytes_are_given_back_when_the_work_raises():
    governor = MemoryGovernor(budget_bytes=100)
    with pytest.raises(RuntimeError):
        with governor.hold(60):
            raise RuntimeError("the work failed")
    assert governor.held_bytes() == 0
    with governor.hold(100):
        assert governor.held_bytes() == 100


def test_many_threads_never_hold_more_than_the_budget():
    governor = MemoryGovernor(budget_bytes=1000)
    held_at_most = []
    lock = threading.Lock()

    def work(need: int) -> None:
        with governor.hold(need):
            with lock:
                held_at_most.append(governor.held_bytes())
            time.sleep(0.001)

    threads = [threading.Thread(target=work, args=(100 + 37 * (i % 9),)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_SECONDS)
    assert len(held_at_most) == 60
    assert max(held_at_most) <= 1000 and governor.peak_held <= 1000
    assert governor.peak_held > 400  # several ran at once: the budget is shared, not a lock
    assert governor.held_bytes() == 0


def test_a_cached_value_is_computed_once_however_many_threads_ask_together():
    import functools

    from components.memory import one_at_a_time

    calls = []
    started = threading.Barrier(12)

    @one_at_a_time
    @functools.cache
    def expensive(key: str) -> str:
        calls.append(key)
        time.sleep(0.05)  # long enough for every thread to arrive while the first computes
        return key.upper()

    def ask() -> None:
        started.wait(GUARD_SECONDS)
        assert expensive("street") == "STREET"

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_SECONDS)
    assert calls == ["street"]


def test_a_sample_is_prepared_once_when_many_visitors_open_a_page_at_once(monkeypatch):
    from components.images import samples
    from components.images.preparation import PrepareOptions

    prepared = []
    original = samples.prepare_upload

    def slow_prepare(*args, **kwargs):
        prepared.append(args[0])
        time.sleep(0.05)
        return original(*args, **kwargs)

    monkeypatch.setattr(samples, "prepare_upload", slow_prepare)
    options = PrepareOptions(max_side=333)  # a size no other test asks for: not cached yet
    barrier = threading.Barrier(8)

    def visit() -> None:
        barrier.wait(GUARD_SECONDS)
        samples.prepare_sample("street", options)

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_SECONDS)
    assert len(prepared) == 1
