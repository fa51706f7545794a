"""transforms.core.isolate: a child process that is killed on timeout and replaced."""

from __future__ import annotations

import os
import time

import pytest

from transforms.core.isolate import IsolatedWorker, IsolationError


class ReasonedError(Exception):
    def __init__(self, reason: str, message: str) -> None:  # does not pickle: two args
        super().__init__(f"{reason}: {message}")
        self.reason = reason


def work(kind: str, value: float = 0.0) -> object:
    """Module-level, so the spawned child can import it."""
    if kind == "sleep":
        time.sleep(value)
        return "slept"
    if kind == "pid":
        return os.getpid()
    if kind == "die":
        os._exit(3)
    if kind == "reasoned":
        raise ReasonedError("empty_extraction", "nothing there")
    if kind == "plain":
        raise ValueError("bad value")
    if kind == "memory":
        return len(bytearray(int(value)))
    if kind == "unpicklable":
        return lambda: None
    return kind


@pytest.fixture(scope="module")
def worker() -> IsolatedWorker[object]:
    with IsolatedWorker(work, timeout_s=2.0, name="job", memory_limit_bytes=1024**3) as w:
        yield w


def test_calls_run_in_one_long_lived_child(worker: IsolatedWorker[object]) -> None:
    first = worker.call("pid")
    assert first != os.getpid()
    assert worker.call("pid") == first == worker.pid
    assert worker.call("echo") == "echo"


def test_timeout_kills_the_child_and_the_next_call_gets_a_fresh_one(
    worker: IsolatedWorker[object],
) -> None:
    before, restarts = worker.call("pid"), worker.restarts
    started = time.monotonic()
    with pytest.raises(IsolationError) as info:
        worker.call("sleep", 60)
    assert info.value.reason == "job_timeout"
    assert time.monotonic() - started < 4
    assert worker.restarts == restarts + 1
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # the old child is gone, not left running
    assert worker.call("sleep", 0.01) == "slept"
    assert worker.call("pid") != before


def test_a_dying_child_is_reported_and_replaced(worker: IsolatedWorker[object]) -> None:
    with pytest.raises(IsolationError) as info:
        worker.call("die")
    assert info.value.reason == "job_crashed"
    assert worker.call("echo") == "echo"


def test_exceptions_cross_as_reason_and_message(worker: IsolatedWorker[object]) -> None:
    with pytest.raises(IsolationError) as info:
        worker.call("reasoned")
    assert (info.value.reason, info.value.message) == (
        "empty_extraction",
        "ReasonedError: empty_extraction: nothing there",
    )
    with pytest.raises(IsolationError) as info:
        worker.call("plain")
    assert info.value.reason == "job_error"
    assert "ValueError: bad value" in info.value.message
    with pytest.raises(IsolationError) as info:
        worker.call("unpicklable")
    assert info.value.reason == "job_error"
    assert worker.call("echo") == "echo"


def test_memory_limit_fails_inside_the_child(worker: IsolatedWorker[object]) -> None:
    with pytest.raises(IsolationError) as info:
        worker.call("memory", 4 * 1024**3)
    assert "MemoryError" in info.value.message
    assert worker.call("memory", 1024) == 1024


def test_close_stops_the_child_and_a_call_restarts_it() -> None:
    w = IsolatedWorker(work, timeout_s=5.0, name="job")
    w.start()
    pid = w.pid
    assert pid is not None
    w.close()
    assert w.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    try:
        assert w.call("echo") == "echo"
    finally:
        w.close()


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        IsolatedWorker(work, timeout_s=0, name="job")
