"""The acceptance test of the second target: every case of the HTTP contract sent
over real HTTP to ``coldbrew serve`` (the Lambda emulator: AWS's runtime client
behind the local function URL) and to ``coldbrew serve --platform gcf`` (Google's
functions-framework) gets the same status, content type and body, apart from
request ids. Both serve the tiny model in Python 3.12, from the same build.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from coldbrew.emulate import EmulatorConfig, LocalFunctionUrl, ensure_runtime
from coldbrew.emulate.gcf_runtime import ensure_gcf_runtime
from coldbrew.emulate.gcf_server import GcfServer, GcfServerConfig
from coldbrew.errors import InterpreterNotFoundError
from contract_cases import CASES, ContractCase
from gcf_artifacts import CACHE_DIR, build_tiny_lambda_zip, gcf_zip_from_lambda


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path
) -> Iterator[tuple[str, str]]:
    try:
        ensure_runtime(CACHE_DIR, "3.12")
        gcf_runtime = ensure_gcf_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")
    workdir = tmp_path_factory.mktemp("parity")
    lambda_zip = build_tiny_lambda_zip(workdir, tiny_model_dir)
    gcf_zip = gcf_zip_from_lambda(lambda_zip, workdir / "gcf.zip")
    lambda_url = LocalFunctionUrl(
        EmulatorConfig(artifact=lambda_zip, cache_dir=CACHE_DIR, max_concurrency=1), port=0
    )
    gcf = GcfServer(
        GcfServerConfig(gcf_zip, gcf_runtime.python, gcf_runtime.framework_dir),
        on_log=lambda line: None,
    )
    lambda_url.start()
    try:
        gcf.start()
        try:
            yield lambda_url.url, gcf.url
        finally:
            gcf.stop()
    finally:
        lambda_url.stop()


def _send(url: str, case: ContractCase) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"} if case.body is not None else {}
        connection.request(case.method, case.path, body=case.body, headers=headers)
        reply = connection.getresponse()
        wanted = ("content-type", "allow")
        seen = {k.lower(): v for k, v in reply.getheaders() if k.lower() in wanted}
        return reply.status, seen, reply.read()
    finally:
        connection.close()


_REQUEST_ID = re.compile(rb'"request_id":"[^"]*"')


def _without_request_id(body: bytes) -> bytes:
    """The body's bytes with the request id's value blanked (also inside a 500's message)."""
    ids = _REQUEST_ID.findall(body)
    for found in ids:
        body = body.replace(found.split(b":", 1)[1].strip(b'"'), b"<id>")
    return body


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_lambda_and_gcf_answer_alike(servers: tuple[str, str], case: ContractCase) -> None:
    lambda_url, gcf_url = servers
    lambda_status, lambda_headers, lambda_body = _send(lambda_url, case)
    gcf_status, gcf_headers, gcf_body = _send(gcf_url, case)
    assert lambda_status == case.status
    assert (gcf_status, gcf_headers) == (lambda_status, lambda_headers)
    # Byte for byte: the same compact JSON from the same serialisation. A body over
    # 6 MB is refused by Lambda's front before the function runs, and on Cloud
    # Functions (32 MB) by the contract inside it: in the same words (body_too_large).
    assert _without_request_id(gcf_body) == _without_request_id(lambda_body)
