"""The runtime's own settings: the environment variables the function reads, and the
frozen objects they become.

Ships inside every artifact (``runtime/*.py``), so it imports nothing beyond the
standard library, and not even pathlib: every module a cold start imports is
paid for on every cold start. The CLI's many option variables live with the
CLI (:mod:`coldbrew.config`), not here. Precedence: an explicit argument, then
the environment variable, then the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from coldbrew.errors import ConfigurationError
from coldbrew.runtime.frozen import Frozen

# The handler imports this module before it starts loading the ONNX session,
# so it imports neither dataclasses nor typing (mypy alone reads these):
# see coldbrew.runtime.frozen for the measurement.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

MODEL_DIR = "COLDBREW_MODEL_DIR"
MAX_INPUTS = "COLDBREW_MAX_INPUTS"
MAX_INPUT_CHARS = "COLDBREW_MAX_INPUT_CHARS"
MAX_BODY_BYTES = "COLDBREW_MAX_BODY_BYTES"
BATCH_SIZE = "COLDBREW_BATCH_SIZE"
CACHE_SIZE = "COLDBREW_CACHE_SIZE"
INTRA_OP_THREADS = "COLDBREW_INTRA_OP_THREADS"
#: The async (SQS) path writes each message's embeddings to this S3 bucket.
RESULT_BUCKET = "COLDBREW_RESULT_BUCKET"
#: Key prefix for those results (default ``results/``).
RESULT_PREFIX = "COLDBREW_RESULT_PREFIX"
# Set by Lambda itself: "on-demand", "provisioned-concurrency" or "snap-start".
LAMBDA_INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"
#: The value of ``LAMBDA_INITIALIZATION_TYPE`` when init ends in a SnapStart snapshot.
SNAP_START = "snap-start"
#: Where results go when ``RESULT_PREFIX`` is not set.
DEFAULT_RESULT_PREFIX = "results/"

# --- Lambda's own variables, read at the edge --------------------------------
LAMBDA_TASK_ROOT = "LAMBDA_TASK_ROOT"
LAMBDA_MEMORY_MB = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
#: Lambda gives a function one full vCPU per 1,769 MB of memory.
MB_PER_VCPU = 1769


#: The contract's default body limit: AWS Lambda's synchronous payload limit
#: (coldbrew.deployment.aws_lambda.PAYLOAD_BYTES, which the runtime cannot import:
#: deployment/ does not ship; a test keeps the two equal).
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024


class RuntimeConfig(Frozen):
    """What the runtime core needs to serve requests.

    Limits are enforced before any tokenization, so an oversized request costs
    nothing but its parsing.
    """

    __slots__ = (  # noqa: RUF023
        "model_dir",
        "max_inputs",
        "max_input_chars",
        "max_body_bytes",
        "batch_size",
        "cache_size",
        "intra_op_threads",
    )
    model_dir: Final[str]
    max_inputs: Final[int]
    max_input_chars: Final[int]
    max_body_bytes: Final[int]
    batch_size: Final[int]
    cache_size: Final[int]
    intra_op_threads: Final[int]

    def __init__(
        self,
        model_dir: str,
        max_inputs: int = 64,
        max_input_chars: int = 10_000,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        batch_size: int = 1,
        cache_size: int = 1024,
        intra_op_threads: int = 0,  # 0: let ONNX Runtime pick
    ) -> None:
        self.model_dir = model_dir
        self.max_inputs = max_inputs
        self.max_input_chars = max_input_chars
        self.max_body_bytes = max_body_bytes
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.intra_op_threads = intra_op_threads
        for name in ("max_inputs", "max_input_chars", "max_body_bytes", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("cache_size", "intra_op_threads"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{name} must be 0 or more, got {getattr(self, name)}")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        default_model_dir: str | os.PathLike[str] | None = None,
        **explicit: Any,
    ) -> RuntimeConfig:
        """Build from explicit arguments, then ``environ``, then defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        model_dir = explicit.pop("model_dir", None) or env.get(MODEL_DIR)
        if model_dir is None:
            task_root = env.get(LAMBDA_TASK_ROOT)
            if default_model_dir is not None:
                model_dir = default_model_dir
            elif task_root:
                model_dir = os.path.join(task_root, "model")
            else:
                raise ConfigurationError(
                    f"no model directory: set {MODEL_DIR} or run inside a task root"
                )
        values["model_dir"] = os.fspath(model_dir)
        env_names = {
            "max_inputs": MAX_INPUTS,
            "max_input_chars": MAX_INPUT_CHARS,
            "max_body_bytes": MAX_BODY_BYTES,
            "batch_size": BATCH_SIZE,
            "cache_size": CACHE_SIZE,
            "intra_op_threads": INTRA_OP_THREADS,
        }
        for field_name, env_name in env_names.items():
            if field_name in explicit:
                values[field_name] = int(explicit.pop(field_name))
            elif env.get(env_name, "") != "":
                values[field_name] = env_int(env, env_name)
        if "intra_op_threads" not in values and env.get(LAMBDA_MEMORY_MB, "") != "":
            values["intra_op_threads"] = lambda_threads(env_int(env, LAMBDA_MEMORY_MB))
        if explicit:
            known = ", ".join(cls.__slots__)
            raise ConfigurationError(f"unknown settings {sorted(explicit)}; known: {known}")
        return cls(**values)

    def with_changes(self, **changes: Any) -> RuntimeConfig:
        """A copy with some fields replaced (validated again, like a new one)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)  # an unknown name is a TypeError from __init__
        return type(self)(**values)


class AsyncConfig(Frozen):
    """Where the async (SQS) path writes its results.

    ``result_bucket`` None means not configured: the SQS path then fails every
    message (see :mod:`coldbrew.platforms.aws_sqs`) rather than drop results.
    The function URL path never looks at it.
    """

    __slots__ = ("result_bucket", "result_prefix")
    result_bucket: Final[str | None]
    result_prefix: Final[str]

    def __init__(
        self, result_bucket: str | None = None, result_prefix: str = DEFAULT_RESULT_PREFIX
    ) -> None:
        self.result_bucket = result_bucket
        self.result_prefix = result_prefix
        if self.result_bucket is not None and not self.result_bucket.strip():
            raise ConfigurationError(f"{RESULT_BUCKET} must not be blank")
        if self.result_prefix.startswith("/"):
            # S3 keeps the slash as part of the key: "/results/x.json" is not "results/x.json".
            raise ConfigurationError(
                f"{RESULT_PREFIX} must not start with '/', got {self.result_prefix!r}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AsyncConfig:
        """Read ``RESULT_BUCKET`` and ``RESULT_PREFIX``; an empty variable counts as unset."""
        env = os.environ if environ is None else environ
        return cls(
            result_bucket=env.get(RESULT_BUCKET) or None,
            result_prefix=env.get(RESULT_PREFIX) or DEFAULT_RESULT_PREFIX,
        )


def initialization_type(environ: Mapping[str, str] | None = None) -> str:
    """How Lambda is initialising this sandbox (``SNAP_START`` before a snapshot).

    Outside Lambda the variable is unset, which counts as ``"on-demand"``.
    """
    env = os.environ if environ is None else environ
    return env.get(LAMBDA_INITIALIZATION_TYPE) or "on-demand"


def env_int(environ: Mapping[str, str], name: str) -> int:
    """Read an integer environment variable, naming it when it is not one."""
    raw = environ[name]
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None


def lambda_threads(memory_mb: int) -> int:
    """ONNX Runtime threads for a Lambda function of ``memory_mb``: its whole vCPUs, at least 1.

    Below 1,769 MB a function has less than one vCPU of CPU time: a second
    thread only spins against the quota. Measured here (2 cores, page cache
    dropped): one thread instead of ORT's default cut the cold start by ~15 ms.
    """
    return max(1, round(memory_mb / MB_PER_VCPU))
