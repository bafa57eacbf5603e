"""Shared fixtures. Test tiers live in unit/, functional/, synth/ and perf/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny_model import write_tiny_model

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real ONNX embedding model directory (8 dimensions)."""
    return write_tiny_model(tmp_path_factory.mktemp("tiny-model") / "dist")
