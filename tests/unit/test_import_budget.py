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


def test_runtime_imports_only_its_three_libraries() -> None:
    loaded = _modules_after(
        "import coldbrew.runtime.service, coldbrew.runtime.embedder, coldbrew.platforms.aws_lambda"
    )
    baseline = _modules_after("pass")  # whatever site-packages' .pth files load
    third_party = {m.split(".")[0] for m in loaded - baseline} - set(sys.stdlib_module_names)
    assert third_party - {"coldbrew"} == {"numpy", "onnxruntime", "tokenizers"}
    # Standard-library modules the three libraries do not load either: paid per cold start.
    assert not {"pathlib", "base64", "email", "http"} & {m.split(".")[0] for m in loaded - baseline}
