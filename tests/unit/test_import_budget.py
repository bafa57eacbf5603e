"""Cold start is a budget: importing coldbrew must not pull in heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

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
