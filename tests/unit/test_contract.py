"""Request validation: every refusal names the field and, for limits, the limit."""

from __future__ import annotations

import json

import pytest

from coldbrew.errors import InvalidRequestError, PayloadTooLargeError
from coldbrew.runtime.contract import Limits, parse_embed_request, parse_json_body

LIMITS = Limits(max_inputs=3, max_input_chars=10, max_body_bytes=200)


def test_valid_list_and_single_string() -> None:
    assert parse_embed_request({"inputs": ["a", "b"]}, LIMITS).inputs == ("a", "b")
    assert parse_embed_request({"inputs": "a"}, LIMITS).inputs == ("a",)


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ([1, 2], "must be a JSON object"),
        ({}, "missing field 'inputs'"),
        ({"input": ["a"]}, "unknown field(s) 'input'"),
        ({"inputs": 3}, "'inputs' must be an array of strings, got number"),
        ({"inputs": None}, "got null"),
        ({"inputs": []}, "'inputs' is empty"),
        ({"inputs": ["a", 2]}, "inputs[1] must be a string, got number"),
        ({"inputs": [["a"]]}, "inputs[0] must be a string, got array"),
    ],
)
def test_invalid_payloads_name_the_problem(payload: object, needle: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_embed_request(payload, LIMITS)
    assert needle in caught.value.message
    assert caught.value.status_code == 400


def test_too_many_inputs_names_the_limit() -> None:
    with pytest.raises(PayloadTooLargeError, match="has 4 items; the limit is 3"):
        parse_embed_request({"inputs": ["a"] * 4}, LIMITS)


def test_too_long_input_names_index_and_limit() -> None:
    with pytest.raises(
        PayloadTooLargeError, match=r"inputs\[1\] has 11 characters; the limit is 10"
    ):
        parse_embed_request({"inputs": ["ok", "x" * 11]}, LIMITS)


@pytest.mark.parametrize(
    ("body", "error", "needle"),
    [
        (b"", InvalidRequestError, "request body is empty"),
        (b"   ", InvalidRequestError, "request body is empty"),
        (b'{"inputs": [', InvalidRequestError, "not valid JSON"),
        (b"\xff\xfe", InvalidRequestError, "not UTF-8"),
        (b"x" * 201, PayloadTooLargeError, "over the limit of 200 bytes"),
    ],
)
def test_bad_bodies(body: bytes, error: type[Exception], needle: str) -> None:
    with pytest.raises(error, match=needle):
        parse_json_body(body, LIMITS)


def test_body_round_trip() -> None:
    assert parse_json_body(json.dumps({"inputs": ["é"]}).encode(), LIMITS) == {"inputs": ["é"]}


def test_threads_follow_lambda_memory_unless_set() -> None:
    from coldbrew.runtime.settings import RuntimeConfig

    def threads(environ: dict[str, str]) -> int:
        return RuntimeConfig.from_env(environ, default_model_dir="m").intra_op_threads

    assert threads({}) == 0  # not on Lambda: ONNX Runtime decides
    assert threads({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}) == 1
    assert threads({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3538"}) == 2
    assert threads({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}) == 6
    explicit = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "COLDBREW_INTRA_OP_THREADS": "2"}
    assert threads(explicit) == 2


# --- valid JSON that Python's decoder or UTF-8 cannot take: a 400, never a 500 ---


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('{"inputs": [' + "7" * 5000 + "]}", "number with too many digits"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"inputs": [' * 50_000 + "]}" * 50_000, "nested too deeply"),
        ('{"inputs": [NaN]}', "NaN is not JSON"),
        ('{"inputs": -Infinity}', "-Infinity is not JSON"),
        ('{"inputs": ["a"], "inputs": ["b"]}', "duplicate field 'inputs'"),
        ('{"inputs": [{"x": 1, "x": 2}]}', "duplicate field 'x'"),
        ("\ufeff" + '{"inputs": ["a"]}', "byte order mark"),
    ],
)
def test_valid_but_undecodable_json_is_refused_by_name(body: str, needle: str) -> None:
    limits = Limits(max_inputs=3, max_input_chars=10, max_body_bytes=10_000_000)
    with pytest.raises(InvalidRequestError) as caught:
        parse_json_body(body.encode("utf-8"), limits)
    assert needle in caught.value.message
    assert len(caught.value.message) < 300


def test_a_text_body_with_a_lone_surrogate_is_refused_as_not_utf8() -> None:
    # An SQS body or a function URL event's body arrives as text: a lone
    # surrogate in it cannot be encoded, so it is not UTF-8 on the wire.
    with pytest.raises(InvalidRequestError, match="not UTF-8 text"):
        parse_json_body('{"inputs": ["\ud800"]}', LIMITS)
    assert parse_json_body('{"inputs": ["é"]}', LIMITS) == {"inputs": ["é"]}


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"])
def test_an_input_json_escapes_into_a_lone_surrogate_is_refused(escape: str) -> None:
    payload = parse_json_body(f'{{"inputs": ["ok", "{escape}"]}}'.encode(), LIMITS)
    with pytest.raises(InvalidRequestError, match=r"inputs\[1\] .*surrogate"):
        parse_embed_request(payload, LIMITS)
    # A pair is one character, and fine.
    assert parse_embed_request(json.loads('{"inputs": ["\\ud83d\\ude00"]}'), LIMITS).inputs == (
        "\U0001f600",
    )


@pytest.mark.parametrize("blank", ["", " ", "\n\t", "\u3000\u2028 ", "\x1c\x85"])
def test_empty_and_whitespace_only_inputs_are_refused_naming_the_index(blank: str) -> None:
    with pytest.raises(InvalidRequestError, match=r"inputs\[1\] is empty or only whitespace"):
        parse_embed_request({"inputs": ["text", blank]}, LIMITS)
    with pytest.raises(InvalidRequestError, match=r"inputs\[0\] is empty or only whitespace"):
        parse_embed_request({"inputs": blank}, LIMITS)
    assert parse_embed_request({"inputs": [" padded "]}, LIMITS).inputs == (" padded ",)


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u200d\ufeff", " \u00ad ", "\x00\x07", "\u2060\u3000"]
)
def test_inputs_of_only_invisible_characters_are_refused(invisible: str) -> None:
    # BERT's normaliser drops controls and format characters: these would all
    # embed like a blank, to one constant vector.
    with pytest.raises(InvalidRequestError, match=r"inputs\[1\] has only invisible characters"):
        parse_embed_request({"inputs": ["text", invisible]}, LIMITS)


@pytest.mark.parametrize("text", ["\u200bword", "Москва", "東京", "\U0001f600", "é", "\u200b!"])
def test_text_with_one_visible_character_is_accepted(text: str) -> None:
    assert parse_embed_request({"inputs": [text]}, LIMITS).inputs == (text,)


def test_odd_keys_are_named_briefly_and_never_crash() -> None:
    # Direct invocation hands over decoded values: keys need not be strings,
    # and a hostile key may be megabytes long.
    for payload in ({1: "a", "b": 2, None: 3}, {"k" * 1_000_000: 1}):
        with pytest.raises(InvalidRequestError, match="unknown field") as caught:
            parse_embed_request(payload, LIMITS)
        assert len(caught.value.message) < 300
