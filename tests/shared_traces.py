"""Where the real invocation traces are: ``../shared/traces`` beside the project.

They are read in place, never copied into the project. ``COLDBREW_TRACES``
points elsewhere. Their absence is a failure to report, never a reason to skip.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRACES = Path(os.environ.get("COLDBREW_TRACES", PROJECT_ROOT.parent / "shared" / "traces"))
HUAWEI = TRACES / "huawei_region4_5min.csv"


def require(path: Path) -> Path:
    """``path``, asserting it exists with a message that says where traces come from."""
    assert path.is_file(), (
        f"missing shared trace {path}: the traces live in ../shared/traces beside the project "
        "(or set COLDBREW_TRACES)"
    )
    return path
