"""A function on a thread of its own: its value, or its exception, handed back by result()."""

from __future__ import annotations

import threading

import pytest

from coldbrew.errors import ConfigurationError
from coldbrew.runtime.background import Background


def test_result_is_what_the_function_returned() -> None:
    assert Background(lambda: 42, name="t").result() == 42
    job = Background(lambda: None, name="t")  # None is a value too, not "no result"
    assert job.result() is None
    assert job.result() is None  # asking twice is fine


def test_result_raises_the_same_exception_object() -> None:
    error = ConfigurationError("loading model /x/model.onnx: ONNX Runtime error 3")

    def fail() -> int:
        raise error

    job = Background(fail, name="t")
    with pytest.raises(ConfigurationError) as caught:
        job.result()
    assert caught.value is error  # type and message exactly as a direct call's


def test_the_function_runs_on_another_thread_at_once_and_result_waits() -> None:
    started, release = threading.Event(), threading.Event()
    ran_on: list[threading.Thread] = []

    def work() -> str:
        ran_on.append(threading.current_thread())
        started.set()
        release.wait(timeout=30)
        return "done"

    job = Background(work, name="coldbrew-test-job")
    assert started.wait(timeout=30)  # running before anyone asked for the result
    assert ran_on[0] is not threading.current_thread()
    assert ran_on[0].name == "coldbrew-test-job"
    # Not a daemon: an interpreter exiting on a failed init waits for it.
    assert not ran_on[0].daemon
    release.set()
    assert job.result() == "done"
    assert not ran_on[0].is_alive()


def test_wait_returns_once_the_function_has_raised() -> None:
    def fail() -> None:
        raise ValueError("boom")

    job = Background(fail, name="t")
    job.wait()  # does not raise: only result() hands the error over
    with pytest.raises(ValueError, match="boom"):
        job.result()
