"""The model's identity and shape, read from the manifest the recipe wrote.

Standard library only, so validation and routing can be tested without
loading tokenizers or ONNX Runtime.
"""

from __future__ import annotations

import json
import os

from coldbrew.errors import ConfigurationError
from coldbrew.runtime.frozen import Frozen

TYPE_CHECKING = False  # typing for mypy only: see coldbrew.runtime.frozen
if TYPE_CHECKING:
    from typing import Final

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
OUTPUT_NAME = "sentence_embedding"


class ModelInfo(Frozen):
    """What callers are told about the loaded model."""

    __slots__ = ("name", "version", "dimensions", "max_tokens")  # noqa: RUF023
    name: Final[str]
    version: Final[str]
    dimensions: Final[int]
    max_tokens: Final[int]

    def __init__(self, name: str, version: str, dimensions: int, max_tokens: int) -> None:
        self.name = name
        self.version = version
        self.dimensions = dimensions
        self.max_tokens = max_tokens


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
