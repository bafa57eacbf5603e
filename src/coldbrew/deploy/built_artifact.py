"""The zip ``coldbrew deploy`` ships: found, and checked against its build report.

::

    artifact = locate_artifact(None)          # the one zip in dist/, else an error
    report, sha256 = read_build(artifact)     # its report (python, arch...) and digest
    default_function_name(report)             # "coldbrew-minilm-l6-v2"

Only the ``zip`` layout is deployed this way: the layer and image layouts
need more than one function (a layer version, an image repository), which
``cdk deploy`` (infra/) makes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coldbrew.artifact.archive import sha256_file
from coldbrew.artifact.report import read_report_json, report_layout, report_path
from coldbrew.artifact.zip_safety import check_artifact_zip
from coldbrew.errors import DeployError

_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def locate_artifact(artifact: Path | None) -> Path:
    """``artifact`` if it is a file; when ``None``, the only zip in ``dist/``."""
    if artifact is None:
        found = sorted(Path("dist").glob("*.zip"))
        if len(found) != 1:
            what = "no zip" if not found else f"{len(found)} zips"
            raise DeployError(
                f"dist/ holds {what}: build one with `coldbrew build`, or name the ARTIFACT"
            )
        artifact = found[0]
    if not artifact.is_file():
        raise DeployError(f"{artifact}: no such artifact: build it with `coldbrew build`")
    return artifact


def read_build(artifact: Path) -> tuple[Mapping[str, Any], str]:
    """The artifact's build report, checked against the zip; and the zip's sha256.

    The zip itself is checked first, every member and its data
    (:func:`~coldbrew.artifact.zip_safety.check_artifact_zip`): nothing corrupt or
    unsafe to unpack is uploaded.
    """
    check_artifact_zip(artifact, read_data=True)
    report = read_report_json(artifact)
    if not report.get("python") or not report.get("arch"):
        raise DeployError(
            f"{artifact} has no build report ({report_path(artifact).name}) naming its python "
            "and arch: build it with `coldbrew build`"
        )
    layout = report_layout(report)
    if layout != "zip":
        raise DeployError(
            f"{artifact} was built with the {layout} layout; coldbrew deploy ships one zip: "
            "deploy it with `cdk deploy` (infra/), or rebuild with `coldbrew build --layout zip`"
        )
    sha256 = sha256_file(artifact)
    if report.get("sha256") and report["sha256"] != sha256:
        raise DeployError(
            f"{artifact} is not the zip its build report describes (sha256 {sha256[:12]}..., "
            f"report {str(report['sha256'])[:12]}...): rebuild it with `coldbrew build`"
        )
    return report, sha256


def default_function_name(report: Mapping[str, Any]) -> str:
    """``coldbrew-MODEL`` (the report's model, made a valid Lambda function name)."""
    model = _NOT_A_NAME.sub("-", str(report.get("model") or "model")).strip("-")
    return f"coldbrew-{model}"[:64]
