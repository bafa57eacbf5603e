"""What to run for what the user names: a zip, a part of a layer build, or a build report.

``coldbrew build`` writes one of three layouts (:mod:`coldbrew.artifact.layouts`)
and one report, ``NAME.report.json``, listing its parts. ``coldbrew serve``,
``demo`` and ``bench`` accept any of those names; :func:`resolve_artifact`,
their one shared lookup, turns the name into what Lambda would run::

    given                                           runs
    NAME.zip, any zip without a report              that zip, as it always has
    a directory                                     that directory as the task root
    NAME.report.json of a zip build                 NAME.zip
    NAME-function.zip, NAME-layer.zip, or           NAME-function.zip with NAME-layer.zip
      NAME.report.json of a layer build               as its layer
    any part of an image build                      an error: there is no container engine here

The parts are found by the file names the report lists, beside the report,
so a ``dist/`` directory that was moved or copied still works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coldbrew.artifact.report import (
    REPORT_SUFFIX,
    read_report_json,
    report_layout,
    report_parts,
    report_path,
)
from coldbrew.artifact.zip_safety import check_function_zips
from coldbrew.errors import EmulationError


@dataclass(frozen=True)
class FunctionArtifact:
    """One Lambda function's code: its zip (or task-root directory) and its layers.

    ``layers`` are zips (or directories holding what a layer zip unzips to) in
    Lambda's merge order: a later layer's files win. ``report`` is the build
    report that named them, ``{}`` when there is none; ``layout`` is the
    report's layout (``zip`` when there is no report).
    """

    function: Path
    layers: tuple[Path, ...] = ()
    report: Mapping[str, Any] = field(default_factory=dict, compare=False)
    layout: str = "zip"


def resolve_artifact(path: Path) -> FunctionArtifact:
    """What to run for ``path``: a zip, a directory, a part of a layout, or a report.

    See the module docstring for the table. Raises :class:`EmulationError`,
    naming the fix, for an image build, a report that does not exist, a
    layout part that is missing, or a zip a layer build's report does not list;
    and :class:`~coldbrew.errors.ArtifactError` for a zip that is corrupt, unsafe
    to unpack, or (with its layers) over Lambda's unzipped limit
    (:func:`~coldbrew.artifact.zip_safety.check_function_zips`), so that serve, demo
    and bench refuse it alike before any slow setup.
    """
    resolved = _resolve(path)
    check_function_zips(resolved.function, resolved.layers)
    return resolved


def _resolve(path: Path) -> FunctionArtifact:
    given_report = path.name.endswith(REPORT_SUFFIX)
    if given_report and not path.is_file():
        raise EmulationError(
            f"build report {path} does not exist: build the artifact with `coldbrew build`"
        )
    report = read_report_json(path)
    where = report_path(path)
    layout = report_layout(report)
    if layout == "image":
        raise EmulationError(
            f"{path} is a container-image build, which the local emulator cannot run "
            "(it needs a container engine, and none is used here); to serve it locally, "
            "rebuild it as a zip with `coldbrew build --layout zip`"
        )
    if layout == "layer":
        return _layer_build(path, report, where, given_report)
    if layout != "zip":
        raise EmulationError(
            f"build report {where} names an unknown layout {layout!r}: "
            "rebuild the artifact with `coldbrew build`"
        )
    if not given_report:
        return FunctionArtifact(path, (), report, layout)  # as it was before layouts
    function = report_parts(report, where).get("function")
    if function is None and report.get("artifact"):
        function = where.parent / Path(str(report["artifact"])).name  # a report from before parts
    if function is None:
        raise EmulationError(
            f"build report {where} names no artifact: rebuild it with `coldbrew build`"
        )
    _require(function, "zip", where)
    return FunctionArtifact(function, (), report, layout)


def _layer_build(
    path: Path, report: Mapping[str, Any], where: Path, given_report: bool
) -> FunctionArtifact:
    parts = report_parts(report, where)
    function, layer = parts.get("function"), parts.get("layer")
    if function is None or layer is None:
        raise EmulationError(
            f"build report {where} does not list the function and layer zips of its layer "
            "layout: rebuild the artifact with `coldbrew build`"
        )
    if not given_report and path.name not in (function.name, layer.name):
        # Running the report's parts instead would run something the user did not name.
        raise EmulationError(
            f"{path} is not part of the layer build {where} describes "
            f"({function.name} with {layer.name}): name one of those, or rebuild with "
            "`coldbrew build`"
        )
    _require(function, "function zip", where)
    _require(layer, "layer zip", where)
    return FunctionArtifact(function, (layer,), report, "layer")


def _require(part: Path, what: str, where: Path) -> None:
    if not part.is_file():
        raise EmulationError(
            f"the {what} {part} of the build {where} describes is missing: "
            "rebuild it with `coldbrew build`"
        )
