"""The runtime's value classes behave as the frozen dataclasses they replaced did."""

from __future__ import annotations

import copy
import pickle

import pytest

from coldbrew.errors import ConfigurationError
from coldbrew.runtime.contract import EmbedRequest, Limits, Request, Response
from coldbrew.runtime.frozen import Frozen
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.settings import AsyncConfig, RuntimeConfig

VALUES: list[Frozen] = [
    RuntimeConfig(model_dir="m", batch_size=4),
    AsyncConfig("bucket", "emb/"),
    Request("POST", "/embed", b"{}", "r-1", {"a": "b"}),
    Response(200, {"ok": True}),
    EmbedRequest(("a", "b")),
    Limits(max_inputs=1, max_input_chars=2, max_body_bytes=3),
    ModelInfo("m", "1", 384, 256),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_fields_cannot_be_assigned_deleted_or_added(value: Frozen) -> None:
    field = value.__slots__[0]
    with pytest.raises(AttributeError, match=f"cannot assign to field '{field}'"):
        setattr(value, field, None)
    with pytest.raises(AttributeError, match=f"cannot delete field '{field}'"):
        delattr(value, field)
    with pytest.raises(AttributeError):
        value.not_a_field = 1  # type: ignore[attr-defined]  # what is tested


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_equality_copy_and_pickle_follow_the_fields(value: Frozen) -> None:
    assert copy.copy(value) == value
    assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(value)) == value
    assert value != object()
    assert value != tuple(getattr(value, name) for name in value.__slots__)  # not a tuple


def test_repr_reads_like_the_constructor_call() -> None:
    assert repr(ModelInfo("m", "1", 384, 256)) == (
        "ModelInfo(name='m', version='1', dimensions=384, max_tokens=256)"
    )
    assert repr(Request("GET", "/health")) == (
        "Request(method='GET', path='/health', body=b'', request_id='', headers={})"
    )


def test_hash_like_a_frozen_dataclass() -> None:
    assert hash(ModelInfo("m", "1", 2, 8)) == hash(ModelInfo("m", "1", 2, 8))
    assert len({Limits(1, 2, 3), Limits(1, 2, 3), Limits(1, 2, 4)}) == 2
    with pytest.raises(TypeError, match="unhashable"):
        hash(Response(200, {}))  # a dict field, as before


def test_subclasses_are_not_equal_across_classes() -> None:
    assert EmbedRequest(("a",)) != Limits(1, 1, 1)
    assert RuntimeConfig(model_dir="m") == RuntimeConfig("m", 64, 10_000, 6 * 1024 * 1024)


def test_default_headers_are_not_shared() -> None:
    first, second = Request("GET", "/"), Request("GET", "/")
    first.headers["x"] = "1"
    assert second.headers == {}
    assert Response(200, {}).headers == {}


def test_with_changes_validates_and_keeps_the_rest() -> None:
    config = RuntimeConfig(model_dir="m", cache_size=5)
    changed = config.with_changes(batch_size=8)
    assert (changed.batch_size, changed.cache_size, changed.model_dir) == (8, 5, "m")
    assert config.batch_size == 1
    with pytest.raises(ConfigurationError, match="batch_size must be at least 1, got 0"):
        config.with_changes(batch_size=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'batch'"):
        config.with_changes(batch=2)


def test_from_env_names_the_known_settings_in_field_order() -> None:
    with pytest.raises(ConfigurationError) as raised:
        RuntimeConfig.from_env({}, model_dir="m", nope=1)
    assert str(raised.value) == (
        "unknown settings ['nope']; known: model_dir, max_inputs, max_input_chars, "
        "max_body_bytes, batch_size, cache_size, intra_op_threads"
    )
    assert RuntimeConfig.from_env({"COLDBREW_BATCH_SIZE": "4"}, model_dir="m") == VALUES[0]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"max_inputs": 0}, "max_inputs must be at least 1, got 0"),
        ({"cache_size": -1}, "cache_size must be 0 or more, got -1"),
    ],
)
def test_runtime_config_validates(kwargs: dict[str, int], needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        RuntimeConfig(model_dir="m", **kwargs)


def test_async_config_validates() -> None:
    with pytest.raises(ConfigurationError, match="must not be blank"):
        AsyncConfig(result_bucket=" ")
    with pytest.raises(ConfigurationError, match="must not start with '/'"):
        AsyncConfig(result_prefix="/results/")
    assert AsyncConfig() == AsyncConfig(None, "results/")
