"""Function URL conversions: HTTP request -> event 2.0 and result -> HTTP response."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from email.message import Message

import pytest

from coldbrew.emulate.emulator import InvocationResult, event_payload
from coldbrew.emulate.function_url import response_for
from coldbrew.emulate.function_url_events import (
    HttpRequest,
    MalformedResponseError,
    build_event,
    encode_body,
    is_text_content_type,
    map_result,
)
from coldbrew.emulate.http_body import BodyTooLargeError, read_body
from coldbrew.emulate.report import Status

NOW = datetime(2024, 3, 12, 19, 3, 58, 390_000, tzinfo=UTC)


def _event(request: HttpRequest, **kwargs: str) -> dict[str, object]:
    return build_event(request, request_id="req-1", api_id="abc123", now=NOW, **kwargs)


def _get(
    path: str = "/",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    method: str = "GET",
) -> HttpRequest:
    return HttpRequest(
        method=method,
        raw_path=path,
        raw_query=query,
        headers=headers or [],
        body=body,
        source_ip="10.1.2.3",
        server_port=9000,
    )


# --- request -> event ------------------------------------------------------------


def test_event_has_the_payload_2_0_shape() -> None:
    event = _event(_get("/my/path", headers=[("Host", "127.0.0.1:9000"), ("User-Agent", "curl/8")]))
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path"
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert "cookies" not in event
    assert "queryStringParameters" not in event
    assert event["requestContext"] == {
        "accountId": "anonymous",
        "apiId": "abc123",
        "domainName": "127.0.0.1:9000",
        "domainPrefix": "127",
        "http": {
            "method": "GET",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "10.1.2.3",
            "userAgent": "curl/8",
        },
        "requestId": "req-1",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2024:19:03:58 +0000",
        "timeEpoch": 1710270238390,
    }
    json.dumps(event)  # what the runtime receives must serialise


def test_domain_falls_back_to_the_aws_url_name() -> None:
    context = _event(_get(), region="eu-west-1")["requestContext"]
    assert isinstance(context, dict)
    assert context["domainName"] == "abc123.lambda-url.eu-west-1.on.aws"
    assert context["domainPrefix"] == "abc123"


def test_headers_are_lower_cased_and_repeats_comma_joined() -> None:
    event = _event(
        _get(
            headers=[
                ("X-Thing", "a"),
                ("x-thing", "b"),
                ("Accept", "*/*"),
                ("Connection", "keep-alive"),
                ("Transfer-Encoding", "chunked"),
            ]
        ),
        trace_id="Root=1-abc",
    )
    headers = event["headers"]
    assert isinstance(headers, dict)
    assert headers["x-thing"] == "a,b"
    assert headers["accept"] == "*/*"
    assert "connection" not in headers and "transfer-encoding" not in headers  # hop-by-hop
    assert headers["x-forwarded-for"] == "10.1.2.3"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == "9000"
    assert headers["x-amzn-trace-id"] == "Root=1-abc"


def test_forwarded_for_is_appended_to() -> None:
    headers = _event(_get(headers=[("X-Forwarded-For", "1.1.1.1")]))["headers"]
    assert isinstance(headers, dict)
    assert headers["x-forwarded-for"] == "1.1.1.1, 10.1.2.3"


def test_cookies_move_out_of_headers_one_per_cookie() -> None:
    event = _event(_get(headers=[("Cookie", "a=1; b=2"), ("cookie", "c=3")]))
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    headers = event["headers"]
    assert isinstance(headers, dict) and "cookie" not in headers


def test_query_string_repeats_are_comma_joined_and_decoded() -> None:
    event = _event(_get(query="parameter1=value1&parameter1=value2&parameter2=a%20b&flag="))
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=a%20b&flag="
    assert event["queryStringParameters"] == {
        "parameter1": "value1,value2",
        "parameter2": "a b",
        "flag": "",
    }


def test_text_body_is_passed_as_text() -> None:
    body = '{"inputs": ["héllo"]}'.encode()
    event = _event(
        _get(
            method="POST", body=body, headers=[("Content-Type", "application/json; charset=utf-8")]
        )
    )
    assert event["body"] == '{"inputs": ["héllo"]}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert isinstance(context, dict) and context["http"]["method"] == "POST"


def test_invalid_utf8_body_is_base64_encoded() -> None:
    body = b"\xff\x00\xfe binary"
    event = _event(_get(method="POST", body=body, headers=[("Content-Type", "text/plain")]))
    assert event["isBase64Encoded"] is True
    assert isinstance(event["body"], str)
    assert base64.b64decode(event["body"]) == body


def test_binary_content_type_is_base64_encoded_even_if_utf8() -> None:
    event = _event(
        _get(
            method="PUT",
            body=b"plain ascii",
            headers=[("Content-Type", "application/octet-stream")],
        )
    )
    assert event["isBase64Encoded"] is True
    assert event["body"] == base64.b64encode(b"plain ascii").decode()


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        (None, True),
        ("text/html; charset=utf-8", True),
        ("application/json", True),
        ("application/vnd.api+json", True),
        ("application/soap+xml", True),
        ("application/x-www-form-urlencoded", True),
        ("application/octet-stream", False),
        ("image/png", False),
        ("multipart/form-data; boundary=x", False),
    ],
)
def test_text_content_types(content_type: str | None, text: bool) -> None:
    assert is_text_content_type(content_type) is text
    assert encode_body(b"abc", content_type)[1] is not text


# --- result -> response -----------------------------------------------------------


def test_response_object_maps_status_headers_cookies_and_body() -> None:
    payload = json.dumps(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-Count": 3},
            "cookies": ["a=1; Secure", "b=2"],
            "body": "created",
        }
    ).encode()
    response = map_result(payload)
    assert response.status == 201
    assert response.body == b"created"
    assert response.header("content-type") == "text/plain"
    assert response.header("x-count") == "3"
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1; Secure", "b=2"]


def test_base64_body_is_decoded() -> None:
    raw = bytes(range(256))
    payload = json.dumps(
        {
            "statusCode": 200,
            "isBase64Encoded": True,
            "headers": {"content-type": "application/octet-stream"},
            "body": base64.b64encode(raw).decode(),
        }
    ).encode()
    response = map_result(payload)
    assert response.body == raw
    assert response.header("Content-Type") == "application/octet-stream"


def test_response_object_defaults() -> None:
    response = map_result(b'{"statusCode": "204"}')
    assert response.status == 204
    assert response.body == b""
    assert response.header("content-type") == "application/json"


@pytest.mark.parametrize(
    "payload", [b'{"embeddings": [[0.1]]}', b"[1, 2]", b'"hello"', b"null", b"42"]
)
def test_any_other_json_is_a_200_json_response(payload: bytes) -> None:
    response = map_result(payload)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert response.body == payload


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "headers": {"x": {"nested": 1}}},
        {"statusCode": 200, "headers": {"x": "a\r\nInjected: 1"}},
        {"statusCode": 200, "cookies": "a=1"},
    ],
)
def test_malformed_response_objects_are_refused(result: dict[str, object]) -> None:
    with pytest.raises(MalformedResponseError):
        map_result(json.dumps(result).encode())


def test_non_json_payload_is_refused() -> None:
    with pytest.raises(MalformedResponseError):
        map_result(b"not json")


# --- invocation outcome -> HTTP status ----------------------------------------------


def _result(
    status: Status,
    payload: bytes = b"{}",
    error_type: str | None = None,
    message: str | None = None,
) -> InvocationResult:
    return InvocationResult("req-9", status, payload, None, error_type, message)


def test_timeout_is_a_502_naming_the_timeout_and_request() -> None:
    response = response_for(
        _result(
            Status.TIMEOUT,
            error_type="Sandbox.Timedout",
            message="RequestId: req-9 Error: Task timed out after 1.00 seconds",
        )
    )
    assert response.status == 502
    error = json.loads(response.body)["error"]
    assert error["code"] == "function_error"
    assert error["type"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["message"]
    assert error["request_id"] == "req-9"


@pytest.mark.parametrize("status", [Status.FUNCTION_ERROR, Status.CRASH, Status.INIT_ERROR])
def test_function_failures_are_502_json(status: Status) -> None:
    response = response_for(_result(status, error_type="ValueError", message="boom"))
    assert response.status == 502
    assert response.header("content-type") == "application/json"
    assert json.loads(response.body)["error"]["type"] == "ValueError"


def test_throttle_is_a_429() -> None:
    response = response_for(_result(Status.THROTTLED, error_type="TooManyRequestsException"))
    assert response.status == 429
    error = json.loads(response.body)["error"]
    assert (error["code"], error["type"]) == ("too_many_requests", "TooManyRequestsException")


def test_malformed_success_is_a_502() -> None:
    response = response_for(_result(Status.SUCCESS, b'{"statusCode": "nope"}'))
    assert response.status == 502
    assert json.loads(response.body)["error"]["request_id"] == "req-9"


# --- request bodies ---------------------------------------------------------------


def _headers(**values: str) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


def test_body_by_content_length() -> None:
    assert read_body(io.BytesIO(b"hello!extra"), _headers(Content_Length="6"), 100) == b"hello!"


def test_chunked_body() -> None:
    stream = io.BytesIO(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n")
    assert read_body(stream, _headers(Transfer_Encoding="chunked"), 100) == b"hello world"


def test_bodies_over_the_limit_are_refused_unread() -> None:
    stream = io.BytesIO(b"x" * 10)
    with pytest.raises(BodyTooLargeError):
        read_body(stream, _headers(Content_Length="10"), 9)
    assert stream.tell() == 0
    with pytest.raises(BodyTooLargeError):
        read_body(
            io.BytesIO(b"a\r\n" + b"x" * 10 + b"\r\n0\r\n\r\n"),
            _headers(Transfer_Encoding="chunked"),
            9,
        )


# --- the event's size, as Lambda counts it -------------------------------------------


def test_the_event_is_counted_in_utf8_bytes_not_escapes() -> None:
    text = "\N{GRINNING FACE}" * 1000
    payload = event_payload({"body": text})
    assert len(payload) == len(json.dumps({"body": ""})) + 4 * 1000
    assert json.loads(payload) == {"body": text}


def test_a_lone_surrogate_keeps_its_escape() -> None:
    payload = event_payload({"body": "a\ud800b"})
    assert payload == b'{"body": "a\\ud800b"}'
