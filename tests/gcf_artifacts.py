"""Tiny artifacts for the Cloud Functions tests, made from the tiny Lambda build.

The Lambda build (tiny model, wheels for Python 3.12 x86_64 from the shared
cache, no pruning or stripping) holds everything a Cloud Functions source
needs but its entry point: swapping ``lambda_function.py`` for
``handlers/gcp/main.py`` gives a GCF artifact without depending on
``coldbrew build --platform gcf``.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.target import Target

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: wheels and runtimes reused


def build_tiny_lambda_zip(workdir: Path, tiny_model_dir: Path) -> Path:
    """The tiny model's Lambda zip, built in ``workdir``."""
    project = workdir / "project"
    project.mkdir()
    (project / "handlers").symlink_to(ROOT / "handlers")
    (project / "packaging").symlink_to(ROOT / "packaging")
    shutil.copytree(tiny_model_dir, project / "models" / "tiny" / "dist")
    report = build_artifact(
        BuildOptions(
            model="tiny",
            project_dir=project,
            out_dir=project / "dist",
            cache_dir=CACHE_DIR,
            target=Target("3.12", "x86_64"),
            prune=False,
            strip=False,
        )
    )
    return Path(report.artifact)


def gcf_zip_from_lambda(lambda_zip: Path, dest: Path) -> Path:
    """A Cloud Functions source zip: the Lambda zip with ``main.py`` as its entry point."""
    with zipfile.ZipFile(lambda_zip) as source, zipfile.ZipFile(dest, "w") as out:
        for info in source.infolist():
            if not info.filename.startswith("lambda_function."):
                out.writestr(info, source.read(info))
        out.write(ROOT / "handlers" / "gcp" / "main.py", "main.py")
    return dest
