"""Local emulation of AWS Lambda: ``coldbrew serve ARTIFACT``.

An artifact runs in sandboxes driven by the real AWS runtime interface client
(awslambdaric) against a local Runtime API, behind an HTTP endpoint that
behaves like a function URL. The pieces:

* :class:`EmulatorConfig` - every setting, frozen, built at the CLI edge.
* :func:`resolve_artifact` - what to run (:class:`FunctionArtifact`: a zip and
  its layers) for the zip, layout part or build report the user names.
* :class:`Emulator` - sandboxes, warm reuse, timeouts; ``invoke(event)``.
* :class:`LocalFunctionUrl` - an emulator plus its HTTP front, as a context
  manager giving ``url`` and ``records``.
* :mod:`coldbrew.emulate.function_url_events` - the pure request/event and
  result/response conversions.
"""

from __future__ import annotations

from coldbrew.emulate.emulator import Emulator, InvocationResult
from coldbrew.emulate.function_url import FunctionUrlServer, LocalFunctionUrl
from coldbrew.emulate.report import InvocationRecord, Status
from coldbrew.emulate.resolve import FunctionArtifact, resolve_artifact
from coldbrew.emulate.runtime_env import RuntimeEnvironment, check_arch, ensure_runtime
from coldbrew.emulate.settings import EmulatorConfig

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "FunctionArtifact",
    "FunctionUrlServer",
    "InvocationRecord",
    "InvocationResult",
    "LocalFunctionUrl",
    "RuntimeEnvironment",
    "Status",
    "check_arch",
    "ensure_runtime",
    "resolve_artifact",
]
