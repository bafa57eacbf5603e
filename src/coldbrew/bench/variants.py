"""The variants a bench compares, and building the ones made from the artifact.

* ``coldbrew`` - the slim artifact under test, as built.
* ``a`` - unslimmed: the same handler, coldbrew runtime and model over a raw
  ``pip install --target`` of the same pinned dependencies; no rules, no
  bytecode (:func:`unslimmed_variant`).
* ``b`` - sentence-transformers + torch, what a user would pick instead
  (:mod:`coldbrew.bench.st_baseline`).
* ``c`` - the floor: a minimal handler importing onnxruntime, numpy and
  tokenizers, over a slim build with the numpy-stack rules
  (``packaging/aws-lambda-numpy.toml``; :func:`floor_variant`).
* ``d`` - the floor of coldbrew's own stack: a minimal handler on tokenizers
  and the runtime's ctypes binding, over the slim artifact's own tree
  (:func:`own_floor_variant`).
* ``gcf`` - the same model's Cloud Functions artifact (``coldbrew build
  --platform gcf``) served by Google's functions-framework, not the Lambda
  emulator (:func:`gcf_variant`); measured only when given.

Built baselines are cached in the bench work directory under the sha256 of
the artifact they derive from, so a second run only measures.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from coldbrew.artifact.report import read_report_json
from coldbrew.bench.baseline_handlers import CTYPES_FLOOR, FLOOR, handler_source
from coldbrew.errors import ConfigurationError

#: Every variant key, in column order.
VARIANT_KEYS = ("coldbrew", "a", "b", "c", "d", "gcf")
#: The baselines ``--baselines`` chooses from.
BASELINES = ("a", "b", "c", "d")
LABELS = {
    "coldbrew": "coldbrew",
    "a": "(a) unslimmed",
    "b": "(b) sentence-transformers",
    "c": "(c) floor",
    "d": "(d) own-stack floor",
    "gcf": "coldbrew on Cloud Functions (functions-framework)",
}
#: The platforms a variant can be served on: Lambda's emulator, or functions-framework.
PLATFORMS = ("lambda", "gcf")
#: A Cloud Functions artifact's entry point, at its root.
GCF_ENTRY_POINT = "main.py"
GCF_NOTES = (
    "cold start: process launch to the first /embed answer, the request sent at "
    "launch and retried every 5 ms while the port refuses (the framework loads the "
    "entry point and its model before gunicorn listens); Init Duration: launch to "
    "the port accepting. Both include functions-framework's gunicorn start, part of "
    "Cloud Functions' real cold start too; the platform's container start and "
    "request routing are not measured here",
    "one instance serves concurrent requests on its threads (Cloud Functions' "
    "concurrency per instance); max memory not measured",
)
HANDLER_FILE = "lambda_function.py"
#: The rules the floor (c) is built with: numpy and the onnxruntime Python package.
NUMPY_RULES = Path("packaging") / "aws-lambda-numpy.toml"
#: Bump when the floors' construction changes, so cached floors are rebuilt.
_FLOOR_LAYOUT = "2"

Say = Callable[[str], None]


@dataclass(frozen=True)
class Variant:
    """One thing to measure: an artifact (zip or task-root directory) and its facts.

    ``embeds`` is False for the floor, whose handler answers a tiny JSON: warm
    latency and throughput are measured only for variants that embed.
    ``env`` is the function configuration it runs with.
    """

    key: str
    description: str
    artifact: Path
    python_version: str
    unzipped_bytes: int
    zipped_bytes: int | None = None
    embeds: bool = True
    arch: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: Built by this run (False: the artifact under test, or a cached baseline).
    built_now: bool = False
    #: Where it is served: one of :data:`PLATFORMS`.
    platform: str = "lambda"

    @property
    def label(self) -> str:
        """The column heading: ``(a) unslimmed``."""
        return LABELS.get(self.key, self.key)

    @property
    def kind(self) -> str:
        """``zip`` or ``directory``."""
        return "directory" if self.artifact.is_dir() else "zip"


def parse_baselines(text: str) -> tuple[str, ...]:
    """``"a,c"`` -> ``("a", "c")``, in canonical order; an empty text chooses none."""
    chosen = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = chosen - set(BASELINES)
    if unknown:
        raise ConfigurationError(
            f"unknown baseline(s) {', '.join(sorted(unknown))}; choose from {', '.join(BASELINES)}"
        )
    return tuple(key for key in BASELINES if key in chosen)


def zip_sizes(path: Path) -> tuple[int, int]:
    """(zipped, unzipped) bytes of a zip file."""
    with zipfile.ZipFile(path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    return path.stat().st_size, unzipped


def tree_bytes(root: Path) -> int:
    """Bytes of every regular file under ``root`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    from coldbrew.artifact.archive import sha256_file

    return sha256_file(path)


def coldbrew_variant(artifact: Path) -> Variant:
    """The artifact under test, with sizes and target from its build report."""
    if not artifact.is_file():
        raise ConfigurationError(
            f"artifact {artifact} does not exist: build it with `coldbrew build`"
        )
    if zipfile.is_zipfile(artifact) and is_gcf_artifact(artifact):
        raise ConfigurationError(
            f"{artifact} is a Cloud Functions artifact: bench a Lambda build as ARTIFACT "
            "and pass this one with --gcf-artifact"
        )
    report = read_report_json(artifact)
    zipped, unzipped = zip_sizes(artifact)
    notes = [] if report else ["no build report beside the artifact: assumed Python 3.12"]
    return Variant(
        key="coldbrew",
        description="the slim artifact under test",
        artifact=artifact,
        python_version=str(report.get("python", "3.12")),
        zipped_bytes=zipped,
        unzipped_bytes=unzipped,
        arch=report.get("arch"),
        notes=tuple(notes),
    )


def is_gcf_artifact(artifact: Path) -> bool:
    """A zip with Cloud Functions' ``main.py`` at its root and no Lambda handler."""
    with zipfile.ZipFile(artifact) as archive:
        names = set(archive.namelist())
    return GCF_ENTRY_POINT in names and HANDLER_FILE not in names


def gcf_variant(artifact: Path) -> Variant:
    """A Cloud Functions artifact, served by functions-framework beside the Lambda variants."""
    fix = "build it with `coldbrew build --platform gcf`"
    if not artifact.is_file():
        raise ConfigurationError(f"Cloud Functions artifact {artifact} does not exist: {fix}")
    if not zipfile.is_zipfile(artifact) or not is_gcf_artifact(artifact):
        raise ConfigurationError(
            f"{artifact} is not a Cloud Functions artifact (no {GCF_ENTRY_POINT} at its "
            f"root): {fix}, and pass that zip to --gcf-artifact"
        )
    report = read_report_json(artifact)
    zipped, unzipped = zip_sizes(artifact)
    notes = [] if report else ["no build report beside the artifact: assumed Python 3.12"]
    return Variant(
        key="gcf",
        description="the same model's Cloud Functions artifact under Google's "
        "functions-framework in a fresh target-interpreter process",
        artifact=artifact,
        python_version=str(report.get("python", "3.12")),
        zipped_bytes=zipped,
        unzipped_bytes=unzipped,
        arch=report.get("arch"),
        notes=(*notes, *GCF_NOTES),
        platform="gcf",
    )


def unslimmed_variant(
    slim: Variant, project_dir: Path, cache_dir: Path, work_dir: Path, say: Say
) -> Variant:
    """Baseline (a): ``build_artifact(slim=False, via_s3=True)``.

    Cached by the slim zip's sha256, which covers the model, handler, runtime and pins.
    """
    from coldbrew.artifact.builder import BuildOptions, build_artifact
    from coldbrew.artifact.target import Target

    report = read_report_json(slim.artifact)
    if "model" not in report:
        raise ConfigurationError(
            f"baseline (a) needs the build report beside {slim.artifact} to know its model"
        )
    digest = file_sha256(slim.artifact)
    options = BuildOptions(
        model=str(report["model"]),
        project_dir=project_dir,
        out_dir=work_dir / "unslimmed" / digest[:16],
        cache_dir=cache_dir,
        target=Target(slim.python_version, slim.arch or "x86_64"),
        # One zip, as a user's raw `pip install --target` build would be; over 50 MB,
        # so through S3.
        via_s3=True,
        layout="zip",
        slim=False,
    )
    artifact = options.artifact_path
    cached = artifact.is_file() and bool(read_report_json(artifact))
    if not cached:
        say("building baseline (a): the unslimmed artifact")
        build_artifact(options, progress=lambda message: say(f"(a) {message}"))
    zipped, unzipped = zip_sizes(artifact)
    return Variant(
        key="a",
        description="same handler, runtime and model over a raw `pip install --target`; "
        "no rules, no bytecode",
        artifact=artifact,
        python_version=slim.python_version,
        zipped_bytes=zipped,
        unzipped_bytes=unzipped,
        arch=slim.arch,
        built_now=not cached,
    )


def floor_variant(
    slim: Variant, project_dir: Path, cache_dir: Path, work_dir: Path, say: Say
) -> Variant:
    """Baseline (c): a minimal handler over a slim build with the numpy-stack rules.

    The slim artifact no longer carries numpy or the onnxruntime Python
    package, so the floor gets its own build of the same pins and model with
    ``packaging/aws-lambda-numpy.toml``. The builder probes a tree with
    coldbrew's handler, which never touches numpy: that build is stripped and
    verified but not trace-pruned (pruning would remove the numpy stack the
    floor imports). Cached by the slim zip's sha256 and the rules' text.
    """
    from coldbrew.artifact.builder import BuildOptions, build_artifact
    from coldbrew.artifact.target import Target

    report = read_report_json(slim.artifact)
    if "model" not in report:
        raise ConfigurationError(
            f"baseline (c) needs the build report beside {slim.artifact} to know its model"
        )
    rules = project_dir / NUMPY_RULES
    if not rules.is_file():
        raise ConfigurationError(f"baseline (c) needs the numpy-stack rules {rules}")
    key_blob = f"{file_sha256(slim.artifact)}\n{rules.read_text(encoding='utf-8')}"
    options = BuildOptions(
        model=str(report["model"]),
        project_dir=project_dir,
        out_dir=work_dir / "floor-numpy" / hashlib.sha256(key_blob.encode()).hexdigest()[:16],
        cache_dir=cache_dir,
        target=Target(slim.python_version, slim.arch or "x86_64"),
        rules_file=rules,
        via_s3=True,
        layout="zip",
        prune=False,
    )
    base = options.artifact_path
    if not (base.is_file() and read_report_json(base)):
        say("building baseline (c): a slim build with the numpy-stack rules")
        build_artifact(options, progress=lambda message: say(f"(c) {message}"))
    # The C library is there only so coldbrew's handler could serve the build's probe.
    return _handler_swap(
        "c",
        base,
        FLOOR,
        ("coldbrew/**", "onnxruntime/capi/libonnxruntime.so*"),
        slim,
        work_dir,
        say,
        "minimal handler importing onnxruntime, numpy and tokenizers over a slim "
        "numpy-stack build of the same pins and model: session, tokenizer, one "
        "inference at init; answers a tiny JSON",
    )


def own_floor_variant(slim: Variant, work_dir: Path, say: Say) -> Variant:
    """Baseline (d): a minimal ctypes handler over the slim artifact's own tree."""
    return _handler_swap(
        "d",
        slim.artifact,
        CTYPES_FLOOR,
        (),
        slim,
        work_dir,
        say,
        "minimal handler over the slim artifact's own tree: tokenizers and the "
        "runtime's ctypes binding, session, one inference at init; answers a tiny JSON",
    )


def _handler_swap(
    key: str,
    base: Path,
    handler: str,
    drop: tuple[str, ...],
    slim: Variant,
    work_dir: Path,
    say: Say,
    description: str,
) -> Variant:
    """``base`` with ``handler`` as its handler and ``drop`` globs removed.

    The new handler's bytecode comes from the target interpreter, compiled the
    way the builder compiles (``compile_tree``), and the tree is zipped with
    the builder's writer so it is served exactly as the artifact is.
    """
    from coldbrew.artifact.archive import write_zip
    from coldbrew.artifact.bytecode import compile_tree
    from coldbrew.artifact.rules import matches

    source = handler_source(handler)
    key_blob = f"{_FLOOR_LAYOUT}\n{file_sha256(base)}\n{drop}\n{source}"
    digest = hashlib.sha256(key_blob.encode()).hexdigest()[:16]
    out_dir = work_dir / f"floor-{key}" / digest
    artifact = out_dir / "floor.zip"
    meta_path = out_dir / "floor.json"
    cached = artifact.is_file() and meta_path.is_file()
    if not cached:
        say(f"building baseline ({key}): {LABELS[key]}")
        (work_dir / "tmp").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="floor-", dir=work_dir / "tmp") as tmp:
            stage = Path(tmp) / "task"
            _extract(base, stage)
            for path in sorted(stage.rglob("*")):
                if path.is_file() and matches(path.relative_to(stage).as_posix(), drop):
                    path.unlink()
            for directory in sorted((p for p in stage.rglob("*") if p.is_dir()), reverse=True):
                if not any(directory.iterdir()):
                    directory.rmdir()
            for stale in (stage / "__pycache__").glob("lambda_function.*.pyc"):
                stale.unlink()
            (stage / HANDLER_FILE).write_text(source, encoding="utf-8")
            bytecode = compile_tree(stage, slim.python_version)
            out_dir.mkdir(parents=True, exist_ok=True)
            write_zip(stage, artifact)
        meta_path.write_text(json.dumps({"bytecode": bytecode.detail}, indent=2) + "\n")
    bytecode_detail = json.loads(meta_path.read_text(encoding="utf-8"))["bytecode"]
    zipped, unzipped = zip_sizes(artifact)
    return Variant(
        key=key,
        description=description,
        artifact=artifact,
        python_version=slim.python_version,
        zipped_bytes=zipped,
        unzipped_bytes=unzipped,
        embeds=False,
        arch=slim.arch,
        notes=(f"floor handler bytecode: {bytecode_detail}",),
        built_now=not cached,
    )


def _extract(artifact: Path, dest: Path) -> None:
    # extractall drops unix modes; keep them, since the zip writer keys its
    # executable bit (0755) off them.
    with zipfile.ZipFile(artifact) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode | 0o200)
