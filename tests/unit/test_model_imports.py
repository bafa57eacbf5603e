"""``import coldbrew.models`` must not drag in the build tools: they cost seconds."""

from __future__ import annotations

import json
import subprocess
import sys

BUILD_TOOLS = ("torch", "transformers", "sentence_transformers", "onnx", "onnxruntime", "numpy")


def test_importing_the_models_package_and_cli_loads_no_build_tool() -> None:
    code = (
        "import coldbrew.models, coldbrew.cli.model_cmd, json, sys\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert not loaded & set(BUILD_TOOLS)
