"""The build report: sizes per step and per package, and what was removed and why."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

from coldbrew.errors import ConfigurationError

MB = 1024 * 1024
REPORT_SUFFIX = ".report.json"
#: What :func:`coldbrew.artifact.layouts.output_paths` appends to NAME for the parts of the
#: layer and image layouts (``NAME-function.zip``, ``NAME-layer.zip``, ``NAME-image/``).
LAYOUT_PART_SUFFIXES = ("-function", "-layer", "-image")


@dataclass(frozen=True)
class StepSize:
    """The task root's size after one build step."""

    step: str
    files: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class PackageSize:
    """One package's size before slimming and in the artifact."""

    package: str
    files_before: int
    bytes_before: int
    files_after: int
    bytes_after: int


@dataclass(frozen=True)
class RemovedFor:
    """What one rule removed."""

    reason: str
    files: int
    bytes: int


@dataclass(frozen=True)
class BuildReport:
    """Everything ``coldbrew build`` measured; also written as JSON beside the artifact."""

    artifact: str
    sha256: str
    model: str
    python: str
    arch: str
    handler: str
    rules: str
    bytecode: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    steps: list[StepSize] = field(default_factory=list)
    packages: list[PackageSize] = field(default_factory=list)
    removed: list[RemovedFor] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    #: How the slimmed tree was checked against the unslimmed one, in words.
    verification: str = ""
    #: The artifact's own accuracy against the original model, in words.
    accuracy: str = ""
    #: The largest files shipped (path, bytes), biggest first.
    largest_files: list[tuple[str, int]] = field(default_factory=list)
    #: Libraries stripped (path, bytes before, bytes after).
    stripped: list[tuple[str, int, int]] = field(default_factory=list)
    #: Hash of every build input; an unchanged rebuild reuses the artifact.
    inputs_key: str = ""
    #: The layout chosen (zip, layer, image) and why.
    layout: dict[str, Any] = field(default_factory=dict)
    #: Every file or directory written for the layout, with digests and sizes.
    artifacts: dict[str, Any] = field(default_factory=dict)
    #: The platform it deploys to: ``aws-lambda`` or ``gcf`` (older reports: Lambda).
    platform: str = "aws-lambda"
    #: True when this report describes an artifact reused from an identical build.
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``.report.json`` content)."""
        data = asdict(self)
        del data["cached"]  # a property of this run, not of the artifact
        return {"schema": 1, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildReport:
        """Rebuild a report from :meth:`to_json` output."""
        fields = {k: v for k, v in data.items() if k != "schema"}
        fields["steps"] = [StepSize(**s) for s in fields.get("steps", [])]
        fields["packages"] = [PackageSize(**p) for p in fields.get("packages", [])]
        fields["removed"] = [RemovedFor(**r) for r in fields.get("removed", [])]
        fields["stripped"] = [tuple(s) for s in fields.get("stripped", [])]
        fields["largest_files"] = [tuple(f) for f in fields.get("largest_files", [])]
        return cls(**fields)

    def write(self, path: Path) -> None:
        """Write the JSON report."""
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")


def report_candidates(artifact: Path) -> tuple[Path, ...]:
    """Where the build report for ``artifact`` may be, most specific first.

    The builder writes one report, ``NAME.report.json``, whatever the layout
    (:func:`coldbrew.artifact.layouts.output_paths`): for ``NAME.zip``, for
    ``NAME-function.zip`` and ``NAME-layer.zip``, and for ``NAME-image/``. A
    part's own ``PART.report.json`` comes first: a zip whose name happens to
    end in ``-function`` (or was named by hand) keeps its own report. A report
    is its own report.
    """
    if artifact.name.endswith(REPORT_SUFFIX):
        return (artifact,)
    name = artifact.name.removesuffix(".zip")
    candidates = [artifact.with_name(name + REPORT_SUFFIX)]
    candidates.extend(
        artifact.with_name(name.removesuffix(suffix) + REPORT_SUFFIX)
        for suffix in LAYOUT_PART_SUFFIXES
        if name.endswith(suffix) and name != suffix
    )
    return tuple(candidates)


def report_path(artifact: Path) -> Path:
    """The build report of ``artifact``, which may be any part of a layout.

    The first of :func:`report_candidates` that exists, else where the builder
    writes it: ``dist/x.zip``, ``dist/x-function.zip``, ``dist/x-layer.zip``
    and ``dist/x-image`` all give ``dist/x.report.json``.
    """
    candidates = report_candidates(artifact)
    return next((path for path in candidates if path.is_file()), candidates[-1])


def read_report_json(artifact: Path) -> dict[str, Any]:
    """The report of ``artifact`` (any part of a layout, see :func:`report_path`) as a
    dict; ``{}`` when there is none.

    A report that exists but cannot be read is an error naming the file, not
    a silent "no report": its python/arch decide how the artifact is run.
    """
    path = report_path(artifact)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read build report {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"build report {path} is not a JSON object")
    return data


def report_layout(report: Mapping[str, Any]) -> str:
    """The layout a build report describes (``zip``, ``layer`` or ``image``), unchecked.

    The report's ``layout`` is the builder's layout choice,
    ``{"layout": "layer", "reason": ...}``; a report written before layouts
    existed has none and describes a single zip.
    """
    choice = report.get("layout")
    if isinstance(choice, Mapping):
        return str(choice.get("layout") or "zip")
    return str(choice) if choice else "zip"


def report_parts(report: Mapping[str, Any], report_file: Path) -> dict[str, Path]:
    """Each part's role (``function``, ``layer``, ``image-context``) -> its file.

    The report records paths relative to wherever the build ran, so each part
    is looked up by its name beside ``report_file``: a ``dist/`` that was
    moved or copied still resolves. ``{}`` for a report that lists no parts.
    """
    artifacts = report.get("artifacts")
    parts = artifacts.get("parts") if isinstance(artifacts, Mapping) else None
    found: dict[str, Path] = {}
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, Mapping) and part.get("role") and part.get("path"):
            found[str(part["role"])] = report_file.parent / PurePath(str(part["path"])).name
    return found


def render(report: BuildReport, *, top: int = 12) -> Any:
    """A Rich renderable summarising the report (imported lazily: CLI only)."""
    from rich.console import Group
    from rich.table import Table

    steps = Table(title="Size after each step", title_justify="left")
    steps.add_column("step")
    steps.add_column("files", justify="right")
    steps.add_column("MB", justify="right")
    steps.add_column("seconds", justify="right")
    for step in report.steps:
        steps.add_row(step.step, str(step.files), f"{step.bytes / MB:.1f}", f"{step.seconds:.2f}")
    layout = str(report.layout.get("layout", "zip"))
    steps.add_row(layout, str(report.files), f"{report.zipped_bytes / MB:.1f} zipped", "")

    packages = Table(title="Packages (unzipped MB)", title_justify="left")
    for name in ("package", "before", "after", "saved"):
        packages.add_column(name, justify="left" if name == "package" else "right")
    ranked = sorted(report.packages, key=lambda p: p.bytes_before, reverse=True)
    for package in ranked[:top]:
        after = f"{package.bytes_after / MB:.1f}" if package.files_after else "removed"
        saved = package.bytes_before - package.bytes_after
        packages.add_row(
            package.package, f"{package.bytes_before / MB:.1f}", after, f"{saved / MB:.1f}"
        )
    if len(ranked) > top:
        packages.add_row(f"... {len(ranked) - top} more", "", "", "")

    largest = Table(title="Largest files shipped (unzipped MB)", title_justify="left")
    largest.add_column("file")
    largest.add_column("MB", justify="right")
    for path, size in report.largest_files[:8]:
        largest.add_row(path, f"{size / MB:.1f}")

    removed = Table(title="Removed, by rule", title_justify="left")
    removed.add_column("reason")
    removed.add_column("files", justify="right")
    removed.add_column("MB", justify="right")
    for entry in sorted(report.removed, key=lambda r: r.bytes, reverse=True):
        removed.add_row(entry.reason, str(entry.files), f"{entry.bytes / MB:.1f}")
    return Group(steps, packages, largest, removed)
