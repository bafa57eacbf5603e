"""SnapStart hooks with a fake ``snapshot_restore_py`` registry, run as awslambdaric runs them."""

from __future__ import annotations

import json
import random
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from coldbrew.platforms.snapstart import (
    WARM_UP_TEXT,
    HookRegistry,
    after_restore,
    register_snapstart,
)
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.service import EmbeddingService
from coldbrew.runtime.settings import RuntimeConfig

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class FakeRegistry:
    """Records registrations like ``snapshot_restore_py``; runs them like awslambdaric."""

    def __init__(self) -> None:
        self.before: list[Hook] = []
        self.after: list[Hook] = []

    def register_before_snapshot(
        self, func: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any:
        self.before.append((func, args, kwargs))
        return func

    def register_after_restore(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        self.after.append((func, args, kwargs))
        return func

    def snapshot_and_restore(self) -> None:
        while self.before:  # awslambdaric pops: last registered runs first
            func, args, kwargs = self.before.pop()
            func(*args, **kwargs)
        for func, args, kwargs in self.after:
            func(*args, **kwargs)


class CountingEmbedder:
    info = ModelInfo(name="fake", version="1", dimensions=2, max_tokens=8)

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[array[float]]:
        self.calls.append(list(texts))
        return [array("f", [1.0, 0.0]) for _ in texts]


@pytest.fixture
def random_state() -> Iterator[None]:
    state = random.getstate()
    yield
    random.setstate(state)


def test_nothing_is_imported_or_registered_unless_snap_start() -> None:
    def registry() -> HookRegistry:
        raise AssertionError("snapshot_restore_py must not be imported")

    for init_type in ("on-demand", "provisioned-concurrency", ""):
        assert not register_snapstart(init_type, CountingEmbedder(), registry=registry)


def test_before_snapshot_warms_up_once_outside_the_service_cache(random_state: None) -> None:
    embedder = CountingEmbedder()
    service = EmbeddingService(embedder, RuntimeConfig(model_dir=str(Path("."))))
    fake = FakeRegistry()
    lines: list[str] = []
    assert register_snapstart("snap-start", embedder, registry=lambda: fake, log=lines.append)
    assert not embedder.calls  # nothing runs at registration
    fake.snapshot_and_restore()
    assert embedder.calls == [[WARM_UP_TEXT]]
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == ["snapstart_before_snapshot", "snapstart_after_restore"]
    assert events[0]["warm_up_ms"] >= 0
    # The warm-up did not fill the cache: the same text is a miss, computed fresh.
    service.embed_payload({"inputs": [WARM_UP_TEXT]})
    assert embedder.calls == [[WARM_UP_TEXT], [WARM_UP_TEXT]]


def test_after_restore_reseeds_random(random_state: None) -> None:
    # Two sandboxes restored from one snapshot share the generator's state: the
    # hook must make their next draws differ from what the snapshot would give.
    random.seed(1234)
    from_snapshot = [random.random() for _ in range(4)]
    random.seed(1234)
    lines: list[str] = []
    after_restore(lines.append)
    assert [random.random() for _ in range(4)] != from_snapshot
    assert json.loads(lines[0])["reseeded"] == ["random"]
