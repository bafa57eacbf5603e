"""The slimming rules, read from ``packaging/*.toml`` (data, not code).

A rules file says which runtime requirements to install, which coldbrew
modules ship, and which files to remove and *why*: each ``[[remove]]`` table
carries a ``reason`` that reaches the build report next to every file it
removed. ``[keep]`` globs win over every removal.

Globs are matched against POSIX paths relative to the task root. ``*`` stays
within one path segment; ``**/`` spans any number of directories.

A rules file may start from another: ``extends = "aws-lambda.toml"`` (a path
relative to the file) reads that one first. The child's ``[runtime]`` and
``[ship]``, when given, replace the base's; its removals, ``[keep]`` and
``[prune]`` globs are added to the base's. So a second target states only
how it differs, and a shared removal is written once.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from coldbrew.errors import ConfigurationError


@dataclass(frozen=True)
class RemoveRule:
    """Files to remove, by glob or by whole installed distribution, with the reason."""

    reason: str
    paths: tuple[str, ...] = ()
    distributions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    """A parsed rules file."""

    source: Path
    requirements: tuple[str, ...]
    ship: tuple[str, ...]
    remove: tuple[RemoveRule, ...]
    keep: tuple[str, ...]
    #: Never removed by trace-guided pruning, touched or not.
    prune_keep: tuple[str, ...] = ()
    #: Removed by trace-guided pruning even when touched (verification decides).
    prune_remove: tuple[str, ...] = ()
    #: The files this one extends, nearest first (their content is a build input too).
    bases: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file these rules were read from: this one, then its bases."""
        return (self.source, *self.bases)


def normalize_distribution(name: str) -> str:
    """PEP 503 normalisation: ``Huggingface_Hub`` -> ``huggingface-hub``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a ``**``-aware glob to a regular expression."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(path: str, patterns: tuple[str, ...]) -> bool:
    """True when ``path`` matches any of the globs."""
    return any(glob_regex(p).match(path) for p in patterns)


def _strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def parse_rules(text: str, source: Path, *, base: Rules | None = None) -> Rules:
    """Parse and validate a rules file's text; errors name the file and key.

    ``base`` is the parsed file an ``extends`` key names (:func:`load_rules`
    reads it); a file with ``extends`` and no ``base`` is an error.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
    if "extends" in data and base is None:
        raise ConfigurationError(f"{source}: 'extends' needs the base rules: use load_rules")
    data.pop("extends", None)
    known = {"runtime", "ship", "remove", "keep", "prune"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigurationError(
            f"{source}: unknown table(s) {unknown}; allowed: {', '.join(sorted(known))}"
        )
    runtime = data.get("runtime", {})
    requirements = _strings(runtime, "requirements", f"{source} [runtime]")
    if not requirements and base is not None:
        requirements = base.requirements
    if not requirements:
        raise ConfigurationError(f"{source} [runtime]: 'requirements' must list the wheels to ship")
    ship = _strings(data.get("ship", {}), "coldbrew", f"{source} [ship]")
    if not ship and base is not None:
        ship = base.ship
    removes = []
    for index, table in enumerate(data.get("remove", [])):
        where = f"{source} [[remove]] #{index + 1}"
        reason = table.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigurationError(f"{where}: every removal needs a 'reason'")
        extra = sorted(set(table) - {"reason", "paths", "distributions"})
        if extra:
            raise ConfigurationError(f"{where}: unknown key(s) {extra}")
        rule = RemoveRule(
            reason=reason.strip(),
            paths=_strings(table, "paths", where),
            distributions=tuple(
                normalize_distribution(d) for d in _strings(table, "distributions", where)
            ),
        )
        if not rule.paths and not rule.distributions:
            raise ConfigurationError(f"{where}: give 'paths' or 'distributions'")
        removes.append(rule)
    keep = _strings(data.get("keep", {}), "paths", f"{source} [keep]")
    prune = data.get("prune", {})
    extra = sorted(set(prune) - {"keep", "remove"})
    if extra:
        raise ConfigurationError(f"{source} [prune]: unknown key(s) {extra}; allowed: keep, remove")
    rules = Rules(
        source,
        requirements,
        ship,
        tuple(removes),
        keep,
        prune_keep=_strings(prune, "keep", f"{source} [prune]"),
        prune_remove=_strings(prune, "remove", f"{source} [prune]"),
    )
    if base is None:
        return rules
    return Rules(
        source,
        requirements,
        ship,
        base.remove + rules.remove,
        base.keep + rules.keep,
        prune_keep=base.prune_keep + rules.prune_keep,
        prune_remove=base.prune_remove + rules.prune_remove,
        bases=base.files,
    )


def load_rules(path: Path, *, _seen: tuple[Path, ...] = ()) -> Rules:
    """Read a rules file (and the file it ``extends``), naming it when it is missing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = f" (extended by {_seen[-1]})" if _seen else ""
        raise ConfigurationError(f"rules file not found: {path}{where}") from None
    try:
        extends = tomllib.loads(text).get("extends")
    except tomllib.TOMLDecodeError:
        extends = None  # parse_rules reports it, naming the file
    if extends is None:
        return parse_rules(text, path)
    if not isinstance(extends, str) or not extends:
        raise ConfigurationError(f"{path}: 'extends' must be a rules file name")
    base_path = path.parent / extends
    if base_path.resolve() in {p.resolve() for p in (*_seen, path)}:
        raise ConfigurationError(f"{path}: 'extends' makes a cycle through {base_path}")
    base = load_rules(base_path, _seen=(*_seen, path))
    return parse_rules(text, path, base=base)
