"""Strip, prune by trace, and verify: the steps that may only ship if proven safe.

1. Probe the unslimmed tree in the target interpreter (the reference run). If
   it cannot serve, the build fails: the artifact would be broken anyway. Its
   embeddings of the model's gate sentences are scored against the original
   model's (``gate.json``): the artifact's own ONNX Runtime must clear the
   recipe's accuracy thresholds too.
2. Copy the tree, strip its libraries, remove every file the reference run
   never touched (except what ``[prune] keep`` protects), and remove what
   ``[prune] remove`` names.
3. Probe the slimmed copy. Only if it answers every smoke event exactly as the
   reference did is it shipped; otherwise the unslimmed tree ships and the
   report says why.

A target this host cannot run (arm64 here) is neither probed nor slimmed.
A Cloud Functions source is probed through functions-framework (installed
outside the tree) with the smoke events an HTTP function can receive.
"""

from __future__ import annotations

import json
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coldbrew.artifact.inventory import take_inventory
from coldbrew.artifact.plan import Plan, Removal
from coldbrew.artifact.prune import plan_prune
from coldbrew.artifact.resolve import link_tree
from coldbrew.artifact.rules import Rules, matches
from coldbrew.artifact.smoke import http_requests, smoke_events
from coldbrew.artifact.strip import StripResult, strip_libraries
from coldbrew.artifact.target import Target
from coldbrew.artifact.trace import FunctionsFramework, run_probe
from coldbrew.artifact.verify import artifact_accuracy, first_difference
from coldbrew.errors import AccuracyGateError, BuildError, InterpreterNotFoundError
from coldbrew.interpreters import Interpreter, find_interpreter

FORCED_REASON = "named by the rules' [prune] remove"


@dataclass
class SlimOutcome:
    """Which tree ships, and what was done and proven on the way."""

    root: Path
    plan: Plan = field(default_factory=lambda: Plan(()))
    stripped: StripResult = field(default_factory=StripResult)
    verification: str = ""
    accuracy: str = ""


def _remove(root: Path, plan: Plan) -> None:
    for removal in plan.removals:
        (root / removal.path).unlink()
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def _gate(gate_file: Path | None) -> tuple[list[str], dict[str, Any]]:
    if gate_file is None or not gate_file.is_file():
        return ["a sentence to embed", "another, slightly longer sentence to embed"], {}
    gate = json.loads(gate_file.read_text(encoding="utf-8"))
    return list(gate["sentences"]), gate


def slim_and_verify(
    stage: Path,
    work: Path,
    rules: Rules,
    target: Target,
    *,
    gate_file: Path | None,
    prune: bool,
    strip: bool,
    say: Callable[[str], None],
    step_done: Callable[[str, Path], object],
    framework_for: Callable[[Interpreter], FunctionsFramework] | None = None,
) -> SlimOutcome:
    """Run the probe, slim a copy, verify it; return the tree to ship.

    ``framework_for`` makes the probe a Cloud Functions one: it gives the
    functions-framework install for the target interpreter.
    """
    if not target.runs_on_host:
        return SlimOutcome(
            stage,
            verification=(
                f"not verified: this {platform.machine()} host cannot run {target.arch} code, "
                "so the artifact was neither probed, stripped nor pruned"
            ),
        )
    try:
        interpreter = find_interpreter(target.python)
    except InterpreterNotFoundError as exc:
        return SlimOutcome(stage, verification=(f"not verified, stripped or pruned: {exc.message}"))
    sentences, gate = _gate(gate_file)
    events: list[Any] = smoke_events(sentences)
    framework = None if framework_for is None else framework_for(interpreter)
    kind = "events"
    if framework is not None:
        events, kind = http_requests(events), "requests through functions-framework"
    say(f"smoke invocation of the handler under Python {interpreter.version}")
    reference = run_probe(stage, events, interpreter, framework)
    failure = reference.failure()
    if failure is not None:
        raise BuildError(f"the artifact does not serve its smoke invocation: {failure}")
    outcome = SlimOutcome(stage)
    accuracy = artifact_accuracy(reference, gate)
    if accuracy is not None:
        outcome.accuracy = f"artifact runtime vs original model: {accuracy.describe()}"
        if not accuracy.passed:
            raise AccuracyGateError(
                f"the artifact's runtime fails the accuracy gate: {accuracy.describe()}"
            )
    if not (prune or strip):
        outcome.verification = (
            f"served all {len(events)} smoke {kind}; not stripped or pruned (disabled)"
        )
        return outcome

    candidate = work / "slim"
    link_tree(stage, candidate)
    if strip:
        say("stripping shared libraries")
        outcome.stripped = strip_libraries(candidate)
        step_done("strip", candidate)
    if prune:
        say("pruning what the smoke invocation never touched")
        sizes = take_inventory(candidate).sizes
        traced = plan_prune(
            sizes,
            reference.touched,
            rules.prune_keep,
            python_tag=f"cpython-{target.abi.removeprefix('cp')}",
        )
        forced = [
            Removal(p, s, FORCED_REASON)
            for p, s in sorted(sizes.items())
            if matches(p, rules.prune_remove) and p not in traced.paths
        ]
        outcome.plan = Plan(traced.removals + tuple(forced))
        _remove(candidate, outcome.plan)
        step_done("trace prune", candidate)
    say("verifying the slimmed tree answers exactly as the unslimmed one")
    difference = first_difference(reference, run_probe(candidate, events, interpreter, framework))
    if difference is None:
        outcome.root = candidate
        outcome.verification = (
            f"slimmed tree answered all {len(events)} smoke {kind} exactly as the unslimmed "
            f"one (Python {interpreter.version})"
        )
    else:
        shutil.rmtree(candidate)
        outcome.plan, outcome.stripped = Plan(()), StripResult()
        outcome.verification = (
            f"slimming rejected, unslimmed tree shipped: verification failed ({difference})"
        )
    return outcome
