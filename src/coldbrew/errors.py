"""The one error tree of coldbrew.

Every failure coldbrew reports on purpose is a :class:`ColdbrewError`. The
request-facing ones carry the HTTP status they map to; the mapping to an HTTP
response happens in exactly one place, :mod:`coldbrew.platforms.http_errors`.

::

    ColdbrewError
    ├── RequestError                  a caller sent something we refuse (4xx)
    │   ├── InvalidRequestError       400: bad JSON, wrong shape or types
    │   ├── PayloadTooLargeError      413: too many inputs, an input too long
    │   ├── NotFoundError             404: unknown path
    │   └── MethodNotAllowedError     405: known path, wrong method
    ├── InferenceError                500: the model failed on valid input
    ├── ConfigurationError            bad settings, env vars or CLI flags
    ├── ModelError                    model recipe, export or manifest problems
    │   └── AccuracyGateError         the quantized model drifted too far
    ├── BuildError                    the slimming builder could not finish
    │   ├── ResolveError              wheels for the target could not be found
    │   ├── InterpreterNotFoundError  no interpreter for the target Python
    │   └── LambdaLimitError          the artifact breaks Lambda's size limits
    ├── ArtifactError                 an artifact zip is corrupt, unsafe or unzips too big
    ├── EmulationError                the local emulator could not run a sandbox
    │   └── InvocationTimeoutError    an invocation ran past its timeout
    ├── TrafficDataError              a trace file or metric series is malformed
    └── DeployError                   coldbrew deploy could not plan or make its calls

This module is imported by the runtime inside artifacts: it must stay free of
third-party imports.
"""

from __future__ import annotations


class ColdbrewError(Exception):
    """Base of every error coldbrew raises on purpose."""

    #: HTTP status used when this error reaches a caller over HTTP.
    status_code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RequestError(ColdbrewError):
    """The caller sent a request we refuse; maps to a 4xx response."""

    status_code = 400


class InvalidRequestError(RequestError):
    """Malformed body: invalid JSON, wrong shape or wrong types."""

    status_code = 400


class PayloadTooLargeError(RequestError):
    """Too many inputs, an input too long, or a body too big; names the limit."""

    status_code = 413


class NotFoundError(RequestError):
    """No route for this path."""

    status_code = 404


class MethodNotAllowedError(RequestError):
    """The path exists but does not accept this method."""

    status_code = 405

    def __init__(self, message: str, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allowed = allowed


class InferenceError(ColdbrewError):
    """The model failed on input that passed validation."""

    status_code = 500


class ConfigurationError(ColdbrewError):
    """A setting, environment variable or CLI flag has a bad value."""


class ModelError(ColdbrewError):
    """A model recipe, export, quantization or manifest problem."""


class AccuracyGateError(ModelError):
    """The optimized model's embeddings drifted past the recipe's thresholds."""


class BuildError(ColdbrewError):
    """The slimming builder could not produce an artifact."""


class ResolveError(BuildError):
    """Wheels for the target Python and architecture could not be resolved."""


class InterpreterNotFoundError(BuildError):
    """No interpreter for the requested target Python version was found."""


class LambdaLimitError(BuildError):
    """The artifact is over one of Lambda's deployment package limits."""


class ArtifactError(ColdbrewError):
    """An artifact zip is unreadable, unsafe to unpack, or unzips past Lambda's limit.

    The message names the zip, the member and the problem, and the fix.
    """


class EmulationError(ColdbrewError):
    """The local emulator could not start or talk to a sandbox."""

    status_code = 502


class InvocationTimeoutError(EmulationError):
    """An invocation ran past the function timeout; the sandbox was killed."""

    status_code = 504


class TrafficDataError(ColdbrewError):
    """A trace file or metric series is malformed; names the file and line."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None) -> None:
        where = (
            f"{source}:{line}: "
            if source and line is not None
            else (f"{source}: " if source else "")
        )
        super().__init__(where + message)
        self.source = source
        self.line = line


class DeployError(ColdbrewError):
    """``coldbrew deploy`` could not plan or make its AWS calls; names the fix."""
