"""Cold start is a budget: importing coldbrew must not pull in heavy libraries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("boto3", "botocore", "aws_cdk", "onnxruntime", "torch", "numpy", "tokenizers", "rich")


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_coldbrew_is_light() -> None:
    loaded = _modules_after("import coldbrew; coldbrew.ColdbrewError")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_cli_help_does_not_load_heavy_modules() -> None:
    loaded = _modules_after("from coldbrew.cli import main")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_runtime_imports_only_tokenizers_and_reaches_onnx_runtime_through_ctypes() -> None:
    # Importing numpy and ONNX Runtime's Python binding cost ~190 ms of every cold
    # start, while loading libonnxruntime.so with ctypes costs ~14 ms: the runtime
    # calls ONNX Runtime's C API (coldbrew.runtime.ort_capi), so the artifact ships
    # neither numpy nor the binding, and importing either here would be a regression.
    loaded = _modules_after(
        "import coldbrew.runtime.service, coldbrew.runtime.embedder, coldbrew.platforms.aws_lambda"
    )
    baseline = _modules_after("pass")  # whatever site-packages' .pth files load
    top_level = {m.split(".")[0] for m in loaded - baseline}
    third_party = top_level - set(sys.stdlib_module_names)
    assert third_party - {"coldbrew"} == {"tokenizers"}
    assert "ctypes" in top_level
    assert not {"numpy", "onnxruntime"} & {m.split(".")[0] for m in loaded}
    # Standard-library modules the runtime does not load either: paid per cold start.
    assert not {"pathlib", "base64", "email", "http"} & top_level


HANDLER = Path(__file__).parents[2] / "handlers" / "aws" / "lambda_function.py"


def _handler_imports() -> tuple[list[str], list[str]]:
    """The coldbrew modules the handler imports before it starts loading the model, and after.

    Read from the handler itself, so a module it starts importing is covered.
    The embedder module is imported by ``LoadingEmbedder.result()``, after.
    """
    tree = ast.parse(HANDLER.read_text(encoding="utf-8"))
    start = min(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "start_loading"
    )
    before: list[str] = []
    after = ["coldbrew.runtime.embedder"]
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coldbrew"):
            (before if node.lineno < start else after).append(str(node.module))
    return before, after


def test_handler_imports_neither_dataclasses_nor_inspect() -> None:
    # Neither the Lambda runtime client nor tokenizers imports dataclasses, and
    # it imports inspect (with ast, dis, opcode, copy): with them, and typing,
    # coldbrew's own imports took 24 ms of a cold start, 10 ms without
    # (Python 3.12, medians; coldbrew.runtime.frozen replaces the dataclasses).
    before, after = _handler_imports()
    assert "coldbrew.runtime.settings" in before and "coldbrew.runtime.loading" in before
    assert "coldbrew.runtime.service" in after  # the control: the handler was read
    loaded = _modules_after("import " + ", ".join(before + after))
    assert "coldbrew.runtime.embedder" in loaded
    assert not {"dataclasses", "inspect"} & loaded


def test_modules_imported_before_the_model_starts_loading_do_not_import_typing() -> None:
    # typing (~2.6 ms) is imported by tokenizers anyway, but after the ONNX
    # session has started loading on its own thread, where it overlaps the
    # session; imported before the start, it would delay the session by as much.
    before, _ = _handler_imports()
    loaded = _modules_after("import " + ", ".join(before))
    assert "coldbrew.runtime.loading" in loaded
    assert "typing" not in loaded


_HANDLER_PATHS = """
from array import array
from coldbrew.runtime.settings import AsyncConfig, RuntimeConfig
from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.platforms.result_sink import lazy_s3_sink
from coldbrew.platforms.snapstart import register_snapstart
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.service import EmbeddingService

class Embedder:
    info = ModelInfo("fake", "1", 2, 8)
    def embed(self, texts):
        return [array("f", [1.0, 0.0]) for _ in texts]

class Client:
    def put_object(self, **kwargs):
        pass

def make_client():
    import boto3  # what the real handler's factory does first
    return Client()

embedder = Embedder()
service = EmbeddingService(embedder, RuntimeConfig(model_dir="."))
register_snapstart("on-demand", embedder)
handler = LambdaAdapter(service, results=lazy_s3_sink(AsyncConfig("bucket"), make_client))
url = {"rawPath": "/embed", "body": '{"inputs": ["a"]}',
       "requestContext": {"http": {"method": "POST", "path": "/embed"}}}
assert handler(url, None)["statusCode"] == 200
assert handler({"inputs": ["a"]}, None)["dimensions"] == 2
"""

_SQS_BATCH = """
record = {"messageId": "m-1", "eventSource": "aws:sqs", "body": '{"inputs": ["a"]}'}
assert handler({"Records": [record]}, None) == {"batchItemFailures": []}
"""


def test_url_cold_path_loads_neither_boto3_nor_snapstart_hooks() -> None:
    # boto3 costs ~145 ms to import here and a client ~100 ms more: only the
    # SQS path needs it, from its first batch on. snapshot_restore_py is
    # imported only for a SnapStart init.
    url_only = {m.split(".")[0] for m in _modules_after(_HANDLER_PATHS)}
    assert not {"boto3", "botocore", "snapshot_restore_py"} & url_only
    with_sqs = {m.split(".")[0] for m in _modules_after(_HANDLER_PATHS + _SQS_BATCH)}
    assert "boto3" in with_sqs  # the control: the first batch does create the client


def test_the_runtime_never_imports_the_cli_settings() -> None:
    # coldbrew.config holds the CLI's option variables and does not ship in
    # artifacts; the runtime's own settings are coldbrew.runtime.settings.
    before, after = _handler_imports()
    loaded = _modules_after("import " + ", ".join(before + after))
    assert "coldbrew.runtime.settings" in loaded
    assert "coldbrew.config" not in loaded


def test_the_runtime_body_limit_is_lambdas_payload_limit() -> None:
    # The runtime cannot import coldbrew.deployment (it does not ship): its
    # default is written once more, and this keeps the two from drifting.
    from coldbrew.deployment.aws_lambda import PAYLOAD_BYTES
    from coldbrew.runtime.settings import DEFAULT_MAX_BODY_BYTES

    assert DEFAULT_MAX_BODY_BYTES == PAYLOAD_BYTES
