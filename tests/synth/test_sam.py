"""AWS SAM CLI over the synthesized templates: what runs without Docker.

``sam local invoke`` and ``sam local start-api`` need a container runtime
before they read anything; what they do first, without one, is tested here:
``sam validate --lint`` accepts the template, SAM's own function provider
resolves the function's code (from CDK's ``aws:asset:path`` metadata) to the
artifact's bytes in the cloud assembly, and the events ``sam local
generate-event`` writes are parsed by the handler's adapter. SAM CLI lives in
its own virtualenv, ``.venv-sam`` (``make test`` installs it), because it pins
many packages the project's ``.venv`` must not share.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.runtime.contract import EmbedRequest, Limits, Request, Response

if TYPE_CHECKING:
    from conftest import Matrix, Synth

# Not imported from conftest: with several conftest.py files, `conftest` is ambiguous.
REPO_ROOT = Path(__file__).resolve().parents[2]
SAM_BIN = REPO_ROOT / ".venv-sam" / "bin"
SAM = SAM_BIN / "sam"

pytestmark = pytest.mark.skipif(
    not SAM.exists(),
    reason="no SAM CLI in .venv-sam/: `make test` installs it there (Makefile's SAM_VERSION)",
)

#: What ``sam local invoke`` and ``start-api`` know of a template before they
#: start a container, printed as JSON by SAM's own providers: each function
#: with its code and layers resolved, and the API routes there are to serve.
RESOLVE_TEMPLATE = """
import json, sys
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

stacks, _ = SamLocalStackProvider.get_stacks(sys.argv[1])
functions = [
    {
        "name": f.name,
        "codeuri": f.codeuri,
        "runtime": f.runtime,
        "handler": f.handler,
        "architectures": f.architectures,
        "layers": [layer.codeuri for layer in f.layers],
    }
    for f in SamFunctionProvider(stacks).get_all()
]
routes = [f"{route.methods} {route.path}" for route in ApiProvider(stacks).routes]
print(json.dumps({"functions": functions, "routes": routes}))
"""


def run_sam(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run SAM CLI (or its interpreter, when ``args[0]`` is ``python``), offline."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "SAM_CLI_TELEMETRY": "0",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = [str(SAM_BIN / "python"), *args[1:]] if args[0] == "python" else [str(SAM), *args]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolved(synth: Synth) -> dict[str, Any]:
    """:data:`RESOLVE_TEMPLATE` run on ``synth``'s template, from its cloud assembly."""
    return resolve_template(synth.template_path)


@functools.cache
def resolve_template(template: Path) -> dict[str, Any]:
    """Once per template: the session's synths are shared by several tests."""
    result = run_sam(["python", "-c", RESOLVE_TEMPLATE, str(template)], template.parent)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def resolved_functions(synth: Synth) -> list[dict[str, Any]]:
    functions: list[dict[str, Any]] = resolved(synth)["functions"]
    # SAM drops a function whose code is only an S3 location: no asset metadata.
    assert len(functions) == 1, f"SAM found {len(functions)} local functions, not 1"
    return functions


def local_path(synth: Synth, codeuri: str | None) -> Path:
    """SAM's code path (relative to the working directory it ran in) as an absolute path."""
    assert codeuri, "SAM found no local code: the template lacks CDK's aws:asset:path metadata"
    return (synth.outdir / codeuri).resolve()


def test_sam_validate_lint_passes_on_the_zip_layout(default_synth: Synth) -> None:
    result = run_sam(
        ["validate", "--lint", "--region", "us-east-1", "-t", str(default_synth.template_path)],
        default_synth.outdir,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_sam_validate_lint_passes_on_the_layer_layout(matrix: Matrix) -> None:
    synth = matrix.get("layer", "none", False)
    result = run_sam(
        ["validate", "--lint", "--region", "us-east-1", "-t", str(synth.template_path)],
        synth.outdir,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_resolves_the_function_code_to_the_artifact(default_synth: Synth) -> None:
    [function] = resolved_functions(default_synth)
    code = local_path(default_synth, function["codeuri"])
    # In the cloud assembly, where `sam local invoke -t cdk.out/...` finds it,
    # and the artifact byte for byte (SAM unzips a .zip CodeUri itself).
    assert code.parent == default_synth.outdir.resolve()
    assert code.suffix == ".zip" and sha256(code) == sha256(default_synth.artifact)
    props = default_synth.function()
    assert (function["runtime"], function["handler"], function["architectures"]) == (
        props["Runtime"],
        props["Handler"],
        props["Architectures"],
    )
    assert function["layers"] == []


def test_sam_resolves_the_layer_layout_to_both_zips(matrix: Matrix) -> None:
    synth = matrix.get("layer", "none", False)
    [function] = resolved_functions(synth)
    report = json.loads(synth.artifact.read_text())
    built = {part["role"]: part["sha256"] for part in report["artifacts"]["parts"]}
    [layer] = function["layers"]
    assert sha256(local_path(synth, function["codeuri"])) == built["function"]
    assert sha256(local_path(synth, layer)) == built["layer"]


def test_sam_finds_no_api_to_start_the_function_url_is_served_by_coldbrew_serve(
    default_synth: Synth,
) -> None:
    # `sam local start-api` serves API Gateway routes only; a function URL has
    # no SAM equivalent (the README sends users to `coldbrew serve`).
    default_synth.only("AWS::Lambda::Url")
    assert resolved(default_synth)["routes"] == []


class RecordingService:
    """The service side of the real adapter: records each request it is handed."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(200, {"path": request.path})

    def embed_payload(self, payload: object) -> Response:
        raise AssertionError("a payload-2.0 event must not be taken for a direct invocation")

    def embed(self, request: EmbedRequest) -> Response:
        raise AssertionError("a payload-2.0 event must not be taken for an SQS batch")

    @property
    def limits(self) -> Limits:
        raise AssertionError("a payload-2.0 event must not be taken for an SQS batch")


def generated_event(tmp_path: Path, *args: str) -> dict[str, Any]:
    """``sam local generate-event apigateway http-api-proxy ARGS``: payload format 2.0."""
    result = run_sam(["local", "generate-event", "apigateway", "http-api-proxy", *args], tmp_path)
    assert result.returncode == 0, result.stderr
    event: dict[str, Any] = json.loads(result.stdout)
    return event


CONTEXT = SimpleNamespace(aws_request_id="sam-1")


def test_sam_generated_http_api_events_are_parsed_by_the_lambda_adapter(tmp_path: Path) -> None:
    service = RecordingService()
    adapter = LambdaAdapter(service)
    body = '{"inputs": ["ab", "c"]}'
    embed = generated_event(tmp_path, "--method", "POST", "--path", "embed", "--body", body)
    # SAM sends the body in base64 and no Content-Type: both must be accepted.
    assert embed["isBase64Encoded"] is True
    result = adapter(embed, CONTEXT)
    assert result["statusCode"] == 200, result["body"]
    assert json.loads(result["body"]) == {"path": "/embed"}

    health = adapter(generated_event(tmp_path, "--method", "GET", "--path", "health"), CONTEXT)
    assert health["statusCode"] == 200, health["body"]

    [post, get] = service.requests
    assert (post.method, post.path, post.body, post.request_id) == (
        "POST",
        "/embed",
        body.encode(),
        "sam-1",
    )
    assert post.headers["header1"] == "value1"  # SAM's sample headers, names lowercased
    assert (get.method, get.path) == ("GET", "/health")
