"""Handlers for the bench's baselines, copied into their task roots as
``lambda_function.py``. They are never imported by coldbrew:
:func:`handler_source` reads them as text. Only the floor of coldbrew's own
stack (d) imports from coldbrew, the ONNX Runtime binding its artifact ships.
"""

from __future__ import annotations

from pathlib import Path

FLOOR = "floor_handler.py"
CTYPES_FLOOR = "ctypes_floor_handler.py"
SENTENCE_TRANSFORMERS = "st_handler.py"


def handler_source(name: str) -> str:
    """The source text of the baseline handler file ``name``."""
    return (Path(__file__).parent / name).read_text(encoding="utf-8")
