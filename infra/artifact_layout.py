"""Finding what ``coldbrew build`` wrote: the layout, its files, and the report describing them.

``coldbrew build`` writes one of three layouts into ``dist/`` for a build
named ``NAME`` (``minilm-l6-v2-py312-x86_64``), and always the report
``NAME.report.json`` beside it (see :mod:`coldbrew.artifact.layouts`):

* ``zip``: ``NAME.zip``;
* ``layer``: ``NAME-function.zip`` and ``NAME-layer.zip``;
* ``image``: the build context ``NAME-image/``.

``coldbrew:artifact`` may name any of these, or the report itself (the one
path that works for every layout, and the recommended one), or ``NAME.zip``
whatever the layout (the name ``make`` and the builder use). The report is
then the source of truth: its ``layout`` picks the layout, and its
``artifacts.parts`` name the files, which are looked up *beside the report*
(the report records them relative to wherever the build ran). A zip with no
report beside it is deployed as a plain zip, for artifacts built by hand.

Every zip is checked before it is trusted
(:func:`coldbrew.artifact.zip_safety.check_function_zips`): readable, no member
that would land outside the task root, within Lambda's unzipped size.

The report must describe these very bytes: its ``sha256`` (of the zip, the
function zip, or the image context's digest) and each part's ``sha256`` are
checked, so a report left over from another build cannot lie about the
architecture or the layout.

This module reads files only; it imports nothing from ``aws_cdk``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from coldbrew.artifact.archive import sha256_file
from coldbrew.artifact.container import context_digest
from coldbrew.artifact.layouts import output_paths
from coldbrew.artifact.report import REPORT_SUFFIX, report_candidates, report_layout, report_parts
from coldbrew.artifact.zip_safety import check_function_zips
from coldbrew.errors import ArtifactError
from infra.context_keys import ARTIFACT

Layout = Literal["zip", "layer", "image"]
LAYOUTS: tuple[Layout, ...] = ("zip", "layer", "image")
# The role the builder gives each part in the report's artifacts.parts.
_CODE_ROLE: dict[Layout, str] = {"zip": "function", "layer": "function", "image": "image-context"}
_LAYER_ROLE = "layer"


@dataclass(frozen=True)
class BuiltArtifact:
    """A built artifact, located and checked against its report.

    ``code`` is what the function runs: the zip (``zip``), the function zip
    (``layer``), or the image build context directory (``image``). ``layer``
    is the dependency layer zip of the ``layer`` layout. ``report`` is
    ``None`` only for a bare zip.
    """

    layout: Layout
    code: Path
    layer: Path | None = None
    report: Path | None = None

    @property
    def name(self) -> str:
        """The file or directory name of ``code``, for descriptions."""
        return self.code.name


@dataclass(frozen=True)
class ArtifactReading:
    """What :func:`read_artifact` found: the artifact and its report's content."""

    artifact: BuiltArtifact | None
    """``None`` when an error was recorded."""
    report: Mapping[str, object]
    """The report's JSON object; empty without a (trustworthy) report."""


def read_artifact(raw: object, cwd: Path, errors: list[str]) -> ArtifactReading:
    """Resolve ``coldbrew:artifact``'s value; problems are appended to ``errors``.

    A relative path is resolved against ``cwd``.
    """
    if not isinstance(raw, str):
        errors.append(
            f"{ARTIFACT} must be a path to a build report, zip or image directory written "
            f"by `coldbrew build`, got {raw!r}"
        )
        return ArtifactReading(None, {})
    path = Path(raw).expanduser()
    path = (path if path.is_absolute() else cwd / path).resolve()
    report = next((p for p in report_candidates(path) if p.is_file()), None)
    if report is None:
        return ArtifactReading(_safe(_bare(path, errors), errors), {})
    content = _load(report, errors)
    if content is None:
        return ArtifactReading(None, {})
    artifact = _safe(_from_report(path, report, content, errors), errors)
    return ArtifactReading(artifact, content if artifact is not None else {})


def _safe(artifact: BuiltArtifact | None, errors: list[str]) -> BuiltArtifact | None:
    """``artifact`` if its zips are readable, safe to unpack and within Lambda's size."""
    if artifact is None:
        return None
    layers = () if artifact.layer is None else (artifact.layer,)
    try:
        check_function_zips(artifact.code, layers)
    except ArtifactError as exc:
        errors.append(f"{ARTIFACT}: {exc.message}")
        return None
    return artifact


def _bare(path: Path, errors: list[str]) -> BuiltArtifact | None:
    if path.is_file() and path.suffix == ".zip":
        return BuiltArtifact("zip", path)
    if path.name.endswith(REPORT_SUFFIX) or not path.exists():
        # infra never builds: synth must stay fast and offline, and deploy the
        # exact bytes that were built, measured and reported.
        errors.append(
            f"{ARTIFACT}: no artifact at {path}; build it first with `coldbrew build`, or "
            f"point {ARTIFACT} at its build report (NAME{REPORT_SUFFIX}) or zip"
        )
    elif path.is_dir():
        errors.append(
            f"{ARTIFACT}: {path} is a directory with no build report beside it "
            f"({report_candidates(path)[-1].name}); an image is deployed from the report "
            f"that `coldbrew build --layout image` writes: point {ARTIFACT} at it"
        )
    else:
        errors.append(
            f"{ARTIFACT} must be a build report, a .zip file or an image directory written "
            f"by `coldbrew build`, got {path}"
        )
    return None


def _load(report: Path, errors: list[str]) -> Mapping[str, object] | None:
    try:
        content = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        errors.append(f"build report {report} is unreadable ({exc}); rebuild with `coldbrew build`")
        return None
    if not isinstance(content, dict):
        errors.append(
            f"build report {report} must hold a JSON object; rebuild with `coldbrew build`"
        )
        return None
    return content


def _layout(report: Path, content: Mapping[str, object], errors: list[str]) -> Layout | None:
    raw = report_layout(content)
    for layout in LAYOUTS:
        if raw == layout:
            return layout
    errors.append(
        f"build report {report}: layout must be one of {', '.join(LAYOUTS)}, got {raw!r}; "
        "rebuild with `coldbrew build`"
    )
    return None


def _parts(report: Path, content: Mapping[str, object], layout: Layout) -> dict[str, Path]:
    """Each part's role and where it is: beside the report, by the name the report gives."""
    parts = report_parts(content, report)
    if parts:
        return parts
    # No parts recorded (an older or hand-written report): the builder's names.
    paths = output_paths(report.parent, report.name.removesuffix(REPORT_SUFFIX))[layout]
    roles = {"zip": ("function",), "layer": ("function", _LAYER_ROLE), "image": ("image-context",)}
    return dict(zip(roles[layout], paths, strict=True))


def _recorded_digests(content: Mapping[str, object]) -> dict[str, str]:
    artifacts = content.get("artifacts")
    raw_parts = artifacts.get("parts") if isinstance(artifacts, dict) else None
    if not isinstance(raw_parts, list):
        return {}
    return {
        str(part["role"]): str(part["sha256"])
        for part in raw_parts
        if isinstance(part, dict) and "role" in part and part.get("sha256") is not None
    }


def _digest(path: Path) -> str:
    return context_digest(path) if path.is_dir() else sha256_file(path)


def _from_report(
    given: Path, report: Path, content: Mapping[str, object], errors: list[str]
) -> BuiltArtifact | None:
    layout = _layout(report, content, errors)
    if layout is None:
        return None
    parts = _parts(report, content, layout)
    needed = [_CODE_ROLE[layout]] + ([_LAYER_ROLE] if layout == "layer" else [])
    missing = [role for role in needed if role not in parts]
    if missing:
        errors.append(
            f"build report {report} lists no {' or '.join(missing)} part for its {layout} "
            "layout; rebuild with `coldbrew build`"
        )
        return None
    code, layer = parts[needed[0]], parts.get(_LAYER_ROLE) if layout == "layer" else None
    absent = [p for p in (code, layer) if p is not None and not p.exists()]
    if absent:
        errors.append(
            f"{ARTIFACT}: the build report {report} describes a {layout} layout, but "
            f"{', '.join(str(p) for p in absent)} is missing; rebuild with `coldbrew build`"
        )
        return None
    name = report.name.removesuffix(REPORT_SUFFIX)
    accepted = {report, *parts.values(), report.with_name(name + ".zip")}
    if given not in accepted:
        errors.append(
            f"{ARTIFACT}: {given} is not part of the {layout} layout that {report} "
            f"describes ({', '.join(p.name for p in parts.values())}); point {ARTIFACT} "
            f"at {report}"
        )
        return None
    if not _digests_match(report, content, code, parts, errors):
        return None
    return BuiltArtifact(layout, code, layer, report)


def _digests_match(
    report: Path,
    content: Mapping[str, object],
    code: Path,
    parts: Mapping[str, Path],
    errors: list[str],
) -> bool:
    # A report left over from another build would lie about the artifact's
    # Python, architecture and layout, so it must describe these very bytes.
    checks: list[tuple[Path, str]] = []
    recorded = content.get("sha256")
    if recorded is not None:
        checks.append((code, str(recorded)))
    checks.extend(
        (parts[role], digest)
        for role, digest in _recorded_digests(content).items()
        if role in parts and parts[role] != code
    )
    for path, expected in checks:
        actual = _digest(path)
        if actual != expected:
            what = "image context" if path.is_dir() else "zip"
            errors.append(
                f"build report {report} describes a different {what} (sha256 {expected[:12]}, "
                f"{path.name}'s is {actual[:12]}); rebuild with `coldbrew build`"
            )
            return False
    return True
