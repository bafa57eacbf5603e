"""Model recipes and ``coldbrew model build``: export, fuse, quantize, gate, cache.

``import coldbrew.models`` is cheap: torch, transformers, onnx and onnxruntime
are imported only inside the functions that use them, when a build runs.
"""

from __future__ import annotations

from coldbrew.models.builder import DIST_DIR, BuiltModel, build_model
from coldbrew.models.recipe import Recipe, list_recipes, load_recipe

__all__ = ["DIST_DIR", "BuiltModel", "Recipe", "build_model", "list_recipes", "load_recipe"]
