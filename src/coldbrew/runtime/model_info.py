"""The model's identity and shape, read from the manifest the recipe wrote.

Standard library only, so validation and routing can be tested without
loading tokenizers or ONNX Runtime.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from coldbrew.errors import ConfigurationError

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
OUTPUT_NAME = "sentence_embedding"


@dataclass(frozen=True)
class ModelInfo:
    """What callers are told about the loaded model."""

    name: str
    version: str
    dimensions: int
    max_tokens: int


def read_model_info(model_dir: str | os.PathLike[str]) -> ModelInfo:
    """Read the model's manifest, naming the file when it is missing or broken."""
    path = os.path.join(model_dir, MANIFEST_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
        return ModelInfo(
            name=str(manifest["name"]),
            version=str(manifest.get("version", "")),
            dimensions=int(manifest["dimensions"]),
            max_tokens=int(manifest["max_tokens"]),
        )
    except FileNotFoundError:
        raise ConfigurationError(f"model manifest not found: {path}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"model manifest {path} is invalid: {exc}") from None
