"""Strip symbols from shared libraries, skipping the ones auditwheel bundled.

``strip --strip-unneeded`` drops symbol tables the dynamic loader never reads
(tokenizers' extension loses 30%). Libraries that auditwheel vendored into
``<package>.libs/`` are left alone: stripping numpy's breaks them ("ELF load
command address/offset not page-aligned"). Each library is stripped into a new
file that replaces the original, so hard links into the wheel cache stay intact.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from coldbrew.artifact.rules import matches

#: auditwheel's vendored libraries, and anything a rules file adds.
NEVER_STRIP = ("*.libs/**", "**/*.libs/**")


@dataclass
class StripResult:
    """Which libraries were stripped (path, before, after) and which skipped, why."""

    stripped: list[tuple[str, int, int]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def saved_bytes(self) -> int:
        """Bytes removed in total."""
        return sum(before - after for _, before, after in self.stripped)


def _is_shared_library(path: Path) -> bool:
    name = path.name
    return name.endswith(".so") or ".so." in name


def strip_libraries(root: Path, *, tool: str | None = None) -> StripResult:
    """Strip every shared library under ``root`` except auditwheel's."""
    result = StripResult()
    strip = tool or shutil.which("strip")
    libraries = sorted(p for p in root.rglob("*") if p.is_file() and _is_shared_library(p))
    for library in libraries:
        relative = library.relative_to(root).as_posix()
        if matches(relative, NEVER_STRIP):
            result.skipped.append((relative, "bundled by auditwheel"))
            continue
        if strip is None:
            result.skipped.append((relative, "no `strip` on PATH (install binutils)"))
            continue
        stripped = library.with_name(library.name + ".stripped")
        done = subprocess.run(
            [strip, "--strip-unneeded", "-o", str(stripped), str(library)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            stripped.unlink(missing_ok=True)
            result.skipped.append(
                (
                    relative,
                    done.stderr.strip().splitlines()[-1:][0]
                    if done.stderr.strip()
                    else "strip failed",
                )
            )
            continue
        before, after = library.stat().st_size, stripped.stat().st_size
        if after >= before:
            stripped.unlink()
            continue
        os.chmod(stripped, library.stat().st_mode)
        os.replace(stripped, library)
        result.stripped.append((relative, before, after))
    return result
