"""Where the invocation traces the tests read are: ``tests/data/traces`` in the repository.

They ship with the project (sources and licences in that folder's README), so
the suite runs on a clone alone. ``COLDBREW_TRACES`` points at another folder
holding files of the same names. Their absence is a failure to report, never
a reason to skip.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
IN_REPOSITORY = PROJECT_ROOT / "tests" / "data" / "traces"
TRACES = Path(os.environ.get("COLDBREW_TRACES") or IN_REPOSITORY)
HUAWEI = TRACES / "huawei_region4_5min.csv"
AZURE_INVOCATIONS = TRACES / "azure2019_example_invocations.csv"
AZURE_MEMORY = TRACES / "azure2019_example_memory.csv"


def require(path: Path) -> Path:
    """``path``, asserting it exists with a message that says where traces come from."""
    assert path.is_file(), (
        f"missing trace {path}: the tests' traces are in tests/data/traces "
        "(COLDBREW_TRACES, when set, points elsewhere)"
    )
    return path
