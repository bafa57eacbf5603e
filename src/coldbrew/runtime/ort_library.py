"""ONNX Runtime's C API table: loading ``libonnxruntime.so`` and calling ``struct OrtApi``.

The C API is one struct of function pointers, ``struct OrtApi``, obtained from
``OrtGetApiBase()->GetApi(version)``. This module holds the indices of the
members coldbrew calls, their C signatures, and :class:`OrtLibrary`, which
loads the library and calls members by index. Every call returns an
``OrtStatus*``: NULL on success, otherwise an error :meth:`OrtLibrary.check`
turns into a coldbrew error carrying ONNX Runtime's message (and then
releases). The session built on it is :mod:`coldbrew.runtime.ort_capi`.
Standard library only: this is imported on every cold start.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_uint32, c_void_p

from coldbrew.errors import ColdbrewError, ConfigurationError

TYPE_CHECKING = False  # typing for mypy only: imported before the session starts loading
if TYPE_CHECKING:
    from typing import Any

#: The OrtApi version requested. API 13 is served by ONNX Runtime 1.13 and
#: later (members are only ever appended), so the artifact's 1.20 and a newer
#: build host both accept it.
ORT_API_VERSION = 13

# Indices into ``struct OrtApi``, counted member by member (ORT_API2_STATUS,
# ORT_CLASS_RELEASE and the plain function pointers alike) from
# ``struct OrtApi {`` in include/onnxruntime/core/session/onnxruntime_c_api.h
# (microsoft/onnxruntime). Members are only ever appended, never reordered.
# tests/unit/test_ort_api_table.py derives each index, arity and parameter kind
# again from that header (vendored in tests/data/onnxruntime/).
GET_ERROR_CODE = 1  # after CreateStatus (0)
GET_ERROR_MESSAGE = 2
CREATE_ENV = 3
CREATE_SESSION = 7  # after CreateEnvWithCustomLogger, Enable/DisableTelemetryEvents
RUN = 9  # after CreateSessionFromArray
CREATE_SESSION_OPTIONS = 10
SET_SESSION_EXECUTION_MODE = 13  # after SetOptimizedModelFilePath, CloneSessionOptions
SET_SESSION_GRAPH_OPTIMIZATION_LEVEL = 23  # after profiling, mem pattern/arena, log settings
SET_INTRA_OP_NUM_THREADS = 24
SET_INTER_OP_NUM_THREADS = 25
SESSION_GET_INPUT_COUNT = 30  # after the four custom-op functions (26-29)
SESSION_GET_OUTPUT_COUNT = 31
SESSION_GET_INPUT_NAME = 36  # after the overridable-initializer count and type infos
SESSION_GET_OUTPUT_NAME = 37
CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49  # after RunOptions (39-47), CreateTensorAsOrtValue
GET_TENSOR_MUTABLE_DATA = 51  # after IsTensor
GET_TENSOR_ELEMENT_TYPE = 60  # after string tensors, type-info casts, SetDimensions
GET_DIMENSIONS_COUNT = 61
GET_DIMENSIONS = 62
GET_TENSOR_TYPE_AND_SHAPE = 65  # after GetSymbolicDimensions, GetTensorShapeElementCount
CREATE_CPU_MEMORY_INFO = 69  # after GetTypeInfo, GetValueType, CreateMemoryInfo
ALLOCATOR_FREE = 76  # after CompareMemoryInfo, the MemoryInfoGet* four, AllocatorAlloc
GET_ALLOCATOR_WITH_DEFAULT_OPTIONS = 78  # after AllocatorGetInfo
RELEASE_ENV = 92  # after AddFreeDimensionOverride, map/sequence/opaque values, kernel info
RELEASE_STATUS = 93
RELEASE_MEMORY_INFO = 94
RELEASE_SESSION = 95
RELEASE_VALUE = 96
RELEASE_TENSOR_TYPE_AND_SHAPE_INFO = 99  # after ReleaseRunOptions, ReleaseTypeInfo
RELEASE_SESSION_OPTIONS = 100
ADD_SESSION_CONFIG_ENTRY = 130  # after model metadata, threading options, string elements

# Enum values from the same header.
ORT_LOGGING_LEVEL_WARNING = 2  # OrtLoggingLevel: the Python binding's default
ORT_SEQUENTIAL = 0  # ExecutionMode
ORT_ENABLE_ALL = 99  # GraphOptimizationLevel: the Python binding's default
ORT_ARENA_ALLOCATOR = 1  # OrtAllocatorType
ORT_MEM_TYPE_DEFAULT = 0  # OrtMemType
ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1  # ONNXTensorElementDataType
ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 = 7

_STATUS = c_void_p  # OrtStatus*: NULL is success
_OUT = POINTER(c_void_p)
# index -> (return type, argument types), as declared in the header.
_SIGNATURES: dict[int, tuple[Any, tuple[Any, ...]]] = {
    GET_ERROR_CODE: (c_int, (c_void_p,)),
    GET_ERROR_MESSAGE: (c_char_p, (c_void_p,)),
    CREATE_ENV: (_STATUS, (c_int, c_char_p, _OUT)),
    CREATE_SESSION: (_STATUS, (c_void_p, c_char_p, c_void_p, _OUT)),
    RUN: (
        _STATUS,
        (c_void_p, c_void_p, POINTER(c_char_p), _OUT, c_size_t, POINTER(c_char_p), c_size_t, _OUT),
    ),
    CREATE_SESSION_OPTIONS: (_STATUS, (_OUT,)),
    SET_SESSION_EXECUTION_MODE: (_STATUS, (c_void_p, c_int)),
    SET_SESSION_GRAPH_OPTIMIZATION_LEVEL: (_STATUS, (c_void_p, c_int)),
    SET_INTRA_OP_NUM_THREADS: (_STATUS, (c_void_p, c_int)),
    SET_INTER_OP_NUM_THREADS: (_STATUS, (c_void_p, c_int)),
    SESSION_GET_INPUT_COUNT: (_STATUS, (c_void_p, POINTER(c_size_t))),
    SESSION_GET_OUTPUT_COUNT: (_STATUS, (c_void_p, POINTER(c_size_t))),
    SESSION_GET_INPUT_NAME: (_STATUS, (c_void_p, c_size_t, c_void_p, _OUT)),
    SESSION_GET_OUTPUT_NAME: (_STATUS, (c_void_p, c_size_t, c_void_p, _OUT)),
    CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE: (
        _STATUS,
        (c_void_p, c_void_p, c_size_t, POINTER(c_int64), c_size_t, c_int, _OUT),
    ),
    GET_TENSOR_MUTABLE_DATA: (_STATUS, (c_void_p, _OUT)),
    GET_TENSOR_ELEMENT_TYPE: (_STATUS, (c_void_p, POINTER(c_int))),
    GET_DIMENSIONS_COUNT: (_STATUS, (c_void_p, POINTER(c_size_t))),
    GET_DIMENSIONS: (_STATUS, (c_void_p, POINTER(c_int64), c_size_t)),
    GET_TENSOR_TYPE_AND_SHAPE: (_STATUS, (c_void_p, _OUT)),
    CREATE_CPU_MEMORY_INFO: (_STATUS, (c_int, c_int, _OUT)),
    ALLOCATOR_FREE: (_STATUS, (c_void_p, c_void_p)),
    GET_ALLOCATOR_WITH_DEFAULT_OPTIONS: (_STATUS, (_OUT,)),
    ADD_SESSION_CONFIG_ENTRY: (_STATUS, (c_void_p, c_char_p, c_char_p)),
}
#: The signature of every ORT_CLASS_RELEASE(X) member: ``void ReleaseX(OrtX* input)``.
RELEASE_SIGNATURE: tuple[Any, tuple[Any, ...]] = (None, (c_void_p,))
#: The ORT_CLASS_RELEASE members coldbrew calls, by the X they free.
RELEASES = {
    "Env": RELEASE_ENV,
    "Status": RELEASE_STATUS,
    "MemoryInfo": RELEASE_MEMORY_INFO,
    "Session": RELEASE_SESSION,
    "Value": RELEASE_VALUE,
    "TensorTypeAndShapeInfo": RELEASE_TENSOR_TYPE_AND_SHAPE_INFO,
    "SessionOptions": RELEASE_SESSION_OPTIONS,
}
_LIBRARY_DIR = ("onnxruntime", "capi")
_LIBRARY_PREFIX = "libonnxruntime.so"


class _OrtApiBase(ctypes.Structure):
    # struct OrtApiBase { const OrtApi* GetApi(uint32_t); const char* GetVersionString(void); }
    _fields_ = (
        ("GetApi", ctypes.CFUNCTYPE(c_void_p, c_uint32)),
        ("GetVersionString", ctypes.CFUNCTYPE(c_char_p)),
    )


def find_library(search_path: Iterable[str] | None = None) -> str:
    """``onnxruntime/capi/libonnxruntime.so*`` from the first ``sys.path`` entry holding one.

    In an artifact that is the task root; on a build host, the installed
    onnxruntime wheel. Raises :class:`ConfigurationError` naming every place looked.
    """
    looked = []
    for entry in sys.path if search_path is None else search_path:
        directory = os.path.join(entry or ".", *_LIBRARY_DIR)
        looked.append(directory)
        try:
            names = sorted(n for n in os.listdir(directory) if n.startswith(_LIBRARY_PREFIX))
        except OSError:
            continue
        if names:
            return os.path.join(directory, names[0])
    raise ConfigurationError(
        f"ONNX Runtime's C library ({_LIBRARY_PREFIX}*) not found; looked in: "
        + (", ".join(looked) or "nothing (empty search path)")
    )


class OrtLibrary:
    """A loaded ``libonnxruntime.so``, its ``OrtApi`` table and one ``OrtEnv``.

    ONNX Runtime keeps one environment per process; every session created
    through this object shares it. :meth:`close` (or garbage collection)
    releases the environment.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = os.fspath(path) if path is not None else find_library()
        try:
            self._dll = ctypes.CDLL(self.path)
            get_api_base = self._dll.OrtGetApiBase
        except (OSError, AttributeError) as exc:
            raise ConfigurationError(f"cannot load ONNX Runtime from {self.path}: {exc}") from None
        get_api_base.restype = POINTER(_OrtApiBase)
        get_api_base.argtypes = ()
        base = get_api_base().contents
        raw_version = base.GetVersionString()
        self.version = raw_version.decode() if raw_version else "unknown"
        api = base.GetApi(ORT_API_VERSION)
        if not api:
            raise ConfigurationError(
                f"ONNX Runtime {self.version} at {self.path} does not serve C API version "
                f"{ORT_API_VERSION} (ONNX Runtime 1.{ORT_API_VERSION} or later needed)"
            )
        self._table = ctypes.cast(api, POINTER(c_void_p))
        self._functions: dict[int, Any] = {}
        self._env: int | None = None
        env = c_void_p()
        self.check(
            self.call(CREATE_ENV, ORT_LOGGING_LEVEL_WARNING, b"coldbrew", ctypes.byref(env)),
            ConfigurationError,
            "creating the ONNX Runtime environment",
        )
        self._env = env.value

    @property
    def env(self) -> int:
        """The ``OrtEnv*`` sessions are created in."""
        if self._env is None:
            raise ConfigurationError("the ONNX Runtime library object was closed")
        return self._env

    def function(self, index: int) -> Any:
        """The callable at ``index`` of the ``OrtApi`` table, typed as the header declares it."""
        function = self._functions.get(index)
        if function is None:
            if index in RELEASES.values():
                restype, argtypes = RELEASE_SIGNATURE
            else:
                restype, argtypes = _SIGNATURES[index]
            address = self._table[index]
            if not address:
                raise ConfigurationError(f"OrtApi entry {index} is NULL in {self.path}")
            function = ctypes.CFUNCTYPE(restype, *argtypes)(address)
            self._functions[index] = function
        return function

    def call(self, index: int, *args: Any) -> Any:
        """Call ``OrtApi`` entry ``index`` with ``args``; returns what it returns."""
        return self.function(index)(*args)

    def check(self, status: int | None, error: type[ColdbrewError], context: str) -> None:
        """Raise ``error`` with ONNX Runtime's message if ``status`` is not NULL (success)."""
        if not status:
            return
        try:
            code = int(self.call(GET_ERROR_CODE, status))
            raw = self.call(GET_ERROR_MESSAGE, status)
            message = raw.decode("utf-8", "replace") if raw else "no message"
        finally:
            self.release("Status", status)
        raise error(f"{context}: ONNX Runtime error {code}: {message}")

    def release(self, kind: str, handle: int | None) -> None:
        """Free an object with ``OrtApi::Release<kind>``; NULL is ignored."""
        if handle:
            self.call(RELEASES[kind], handle)

    def close(self) -> None:
        """Release the environment (sessions created from it must be closed first)."""
        env, self._env = self._env, None
        if env is not None:
            self.release("Env", env)

    def __del__(self) -> None:
        # At interpreter exit, module globals may already be gone: nothing to report.
        try:  # noqa: SIM105 (contextlib may already be torn down at exit)
            self.close()
        except Exception:
            pass
