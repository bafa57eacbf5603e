"""coldbrew: turn an ML model into the smallest, fastest-starting serverless deployment.

The public API is curated here and loaded lazily, so ``import coldbrew`` costs
almost nothing and never pulls in boto3, aws_cdk or onnxruntime. The same
package ships inside artifacts, where only the runtime and platform modules
are present.
"""

from __future__ import annotations

import importlib

# typing is for mypy only: the Lambda handler imports this package before it
# starts loading the model, and typing costs ~2.6 ms to import there.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "ColdbrewError": "coldbrew.errors",
    "RequestError": "coldbrew.errors",
    "InvalidRequestError": "coldbrew.errors",
    "PayloadTooLargeError": "coldbrew.errors",
    "NotFoundError": "coldbrew.errors",
    "MethodNotAllowedError": "coldbrew.errors",
    "InferenceError": "coldbrew.errors",
    "ConfigurationError": "coldbrew.errors",
    "ModelError": "coldbrew.errors",
    "AccuracyGateError": "coldbrew.errors",
    "BuildError": "coldbrew.errors",
    "ResolveError": "coldbrew.errors",
    "InterpreterNotFoundError": "coldbrew.errors",
    "LambdaLimitError": "coldbrew.errors",
    "EmulationError": "coldbrew.errors",
    "InvocationTimeoutError": "coldbrew.errors",
    "TrafficDataError": "coldbrew.errors",
    "RuntimeConfig": "coldbrew.runtime.settings",
}

__all__ = [
    "AccuracyGateError",
    "BuildError",
    "ColdbrewError",
    "ConfigurationError",
    "EmulationError",
    "InferenceError",
    "InterpreterNotFoundError",
    "InvalidRequestError",
    "InvocationTimeoutError",
    "LambdaLimitError",
    "MethodNotAllowedError",
    "ModelError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RequestError",
    "ResolveError",
    "RuntimeConfig",
    "TrafficDataError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'coldbrew' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
