"""Handlers for the bench's baselines, copied into their task roots as
``lambda_function.py``. They import nothing from coldbrew and are never
imported by it: :func:`handler_source` reads them as text.
"""

from __future__ import annotations

from pathlib import Path

FLOOR = "floor_handler.py"
SENTENCE_TRANSFORMERS = "st_handler.py"


def handler_source(name: str) -> str:
    """The source text of the baseline handler file ``name``."""
    return (Path(__file__).parent / name).read_text(encoding="utf-8")
