"""A minimal ctypes binding of ONNX Runtime's C API: sessions, int64 inputs, float outputs.

Why not the ``onnxruntime`` Python package: its binding needs numpy, and
importing numpy plus the binding costs ~190 ms of a cold start, while loading
``libonnxruntime.so`` (shipped in the same wheel) costs ~14 ms. This module
loads that library with :mod:`ctypes` and calls the handful of C functions an
embedding model needs. Standard library only.

The C API is one struct of function pointers, ``struct OrtApi``, obtained from
``OrtGetApiBase()->GetApi(version)``. Every call returns an ``OrtStatus*``:
NULL on success, otherwise an error this module turns into a coldbrew error
carrying ONNX Runtime's message (and then releases).
"""

from __future__ import annotations

import ctypes
import os
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_uint32, c_void_p

from coldbrew.errors import ColdbrewError, ConfigurationError, InferenceError

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
#: ORT_CLASS_RELEASE(X) members: ``void ReleaseX(OrtX*)``, by the X they free.
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
                restype, argtypes = None, (c_void_p,)
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


class Session:
    """An ``OrtSession`` on the CPU: int64 tensors in, one float32 tensor out.

    ``intra_op_threads=0`` lets ONNX Runtime choose; execution is sequential
    and the graph fully optimised, as the Python binding does by default.
    ``config`` holds session config entries (``session.intra_op.allow_spinning``...).
    """

    def __init__(
        self,
        library: OrtLibrary,
        model_path: str | os.PathLike[str],
        *,
        intra_op_threads: int = 0,
        inter_op_threads: int = 1,
        config: Mapping[str, str] | None = None,
    ) -> None:
        self._lib = library
        self._session: int | None = None
        self._memory_info: int | None = None
        path = os.fspath(model_path)
        options = self._out(CREATE_SESSION_OPTIONS, "creating session options")
        try:
            settings = [
                (SET_INTRA_OP_NUM_THREADS, intra_op_threads),
                (SET_INTER_OP_NUM_THREADS, inter_op_threads),
                (SET_SESSION_EXECUTION_MODE, ORT_SEQUENTIAL),
                (SET_SESSION_GRAPH_OPTIMIZATION_LEVEL, ORT_ENABLE_ALL),
            ]
            for index, value in settings:
                self._check(library.call(index, options, value), "setting session options")
            for key, entry in (config or {}).items():
                status = library.call(
                    ADD_SESSION_CONFIG_ENTRY, options, key.encode(), entry.encode()
                )
                self._check(status, f"setting session option {key}={entry}")
            self._session = self._out(
                CREATE_SESSION, f"loading model {path}", library.env, os.fsencode(path), options
            )
        finally:
            library.release("SessionOptions", options)
        self._memory_info = self._out(
            CREATE_CPU_MEMORY_INFO,
            "describing CPU memory",
            ORT_ARENA_ALLOCATOR,
            ORT_MEM_TYPE_DEFAULT,
        )
        self.input_names = self._names(SESSION_GET_INPUT_COUNT, SESSION_GET_INPUT_NAME)
        self.output_names = self._names(SESSION_GET_OUTPUT_COUNT, SESSION_GET_OUTPUT_NAME)

    def run(
        self, output_name: str, inputs: Mapping[str, tuple[array[int], Sequence[int]]]
    ) -> tuple[array[float], tuple[int, ...]]:
        """Run the model on int64 ``inputs`` (name -> (data, shape)); return ``output_name``.

        Returns the output's float32 values, flat, and its shape. Errors
        (a wrong input, a failed kernel) raise :class:`InferenceError`.
        """
        session = self._handle()
        names = list(inputs)
        values = (c_void_p * len(names))()
        outputs = (c_void_p * 1)()
        try:
            for i, name in enumerate(names):
                values[i] = self._tensor(name, *inputs[name])
            input_names = (c_char_p * len(names))(*(n.encode() for n in names))
            output_names = (c_char_p * 1)(output_name.encode())
            status = self._lib.call(
                RUN, session, None, input_names, values, len(names), output_names, 1, outputs
            )
            self._lib.check(status, InferenceError, "running the model")
            return self._read_float_tensor(outputs[0])
        finally:
            for value in (*values, outputs[0]):
                self._lib.release("Value", value)

    def close(self) -> None:
        """Release the session and its memory description; safe to call twice."""
        session, self._session = self._session, None
        memory_info, self._memory_info = self._memory_info, None
        self._lib.release("Session", session)
        self._lib.release("MemoryInfo", memory_info)

    def __del__(self) -> None:
        # Session.__init__ may have failed before setting anything; at
        # interpreter exit, module globals may be gone: nothing to report.
        try:  # noqa: SIM105 (contextlib may already be torn down at exit)
            self.close()
        except Exception:
            pass

    def _handle(self) -> int:
        if self._session is None:
            raise InferenceError("the ONNX Runtime session was closed")
        return self._session

    def _check(self, status: int | None, context: str) -> None:
        self._lib.check(status, ConfigurationError, context)

    def _out(self, index: int, context: str, *args: Any) -> int:
        # The many C functions whose last argument is an `OrtX** out`.
        out = c_void_p()
        self._check(self._lib.call(index, *args, ctypes.byref(out)), context)
        if not out.value:
            raise ConfigurationError(f"{context}: ONNX Runtime returned NULL")
        return out.value

    def _names(self, count_index: int, name_index: int) -> tuple[str, ...]:
        count = c_size_t()
        self._check(self._lib.call(count_index, self._session, ctypes.byref(count)), "names")
        allocator = self._out(GET_ALLOCATOR_WITH_DEFAULT_OPTIONS, "getting the allocator")
        names = []
        for i in range(count.value):
            raw = self._out(name_index, "reading the model's names", self._session, i, allocator)
            try:
                names.append(ctypes.string_at(raw).decode())
            finally:
                # The name was allocated by the default allocator and is ours to free.
                self._check(self._lib.call(ALLOCATOR_FREE, allocator, raw), "freeing a name")
        return tuple(names)

    def _tensor(self, name: str, data: array[int], shape: Sequence[int]) -> int:
        if data.typecode != "q":
            raise InferenceError(f"input {name!r} must be int64 (array typecode 'q')")
        dims = (c_int64 * len(shape))(*shape)
        address, length = data.buffer_info()
        out = c_void_p()
        # ORT does not copy `data`: the caller's array must outlive the run.
        status = self._lib.call(
            CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE,
            self._memory_info,
            address,
            length * data.itemsize,
            dims,
            len(shape),
            ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64,
            ctypes.byref(out),
        )
        self._lib.check(status, InferenceError, f"creating input tensor {name!r}")
        return int(out.value or 0)

    def _read_float_tensor(self, value: int | None) -> tuple[array[float], tuple[int, ...]]:
        lib = self._lib
        info = c_void_p()
        lib.check(
            lib.call(GET_TENSOR_TYPE_AND_SHAPE, value, ctypes.byref(info)),
            InferenceError,
            "reading the output's shape",
        )
        try:
            element, rank = c_int(), c_size_t()
            for index, out in ((GET_TENSOR_ELEMENT_TYPE, element), (GET_DIMENSIONS_COUNT, rank)):
                lib.check(lib.call(index, info, ctypes.byref(out)), InferenceError, "output type")
            dims = (c_int64 * rank.value)()
            lib.check(lib.call(GET_DIMENSIONS, info, dims, rank.value), InferenceError, "shape")
        finally:
            lib.release("TensorTypeAndShapeInfo", info.value)
        if element.value != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
            raise InferenceError(f"model output is element type {element.value}, not float32")
        shape = tuple(int(d) for d in dims)
        count = 1
        for d in shape:
            count *= d
        result = array("f", bytes(4 * count))
        if count:
            data = c_void_p()
            lib.check(
                lib.call(GET_TENSOR_MUTABLE_DATA, value, ctypes.byref(data)),
                InferenceError,
                "reading the output",
            )
            ctypes.memmove(result.buffer_info()[0], data, 4 * count)
        return result, shape
