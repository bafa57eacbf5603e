"""A minimal ctypes binding of ONNX Runtime's C API: sessions, int64 inputs, float outputs.

Why not the ``onnxruntime`` Python package: its binding needs numpy, and
importing numpy plus the binding costs ~190 ms of a cold start, while loading
``libonnxruntime.so`` (shipped in the same wheel) costs ~14 ms. This module
loads that library with :mod:`ctypes` and calls the handful of C functions an
embedding model needs. Standard library only.

The C API is one struct of function pointers, ``struct OrtApi``: loading the
library and calling that table's members (whose errors become coldbrew
errors carrying ONNX Runtime's message) is :mod:`coldbrew.runtime.ort_library`.
This module is the session built on it, and re-exports :class:`OrtLibrary`
and :func:`find_library`.
"""

from __future__ import annotations

import ctypes
import os
from array import array
from collections.abc import Mapping, Sequence
from ctypes import c_char_p, c_int, c_int64, c_size_t, c_void_p

from coldbrew.errors import ConfigurationError, InferenceError
from coldbrew.runtime.ort_library import (
    ADD_SESSION_CONFIG_ENTRY,
    ALLOCATOR_FREE,
    CREATE_CPU_MEMORY_INFO,
    CREATE_SESSION,
    CREATE_SESSION_OPTIONS,
    CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE,
    GET_ALLOCATOR_WITH_DEFAULT_OPTIONS,
    GET_DIMENSIONS,
    GET_DIMENSIONS_COUNT,
    GET_TENSOR_ELEMENT_TYPE,
    GET_TENSOR_MUTABLE_DATA,
    GET_TENSOR_TYPE_AND_SHAPE,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64,
    ORT_API_VERSION,
    ORT_ARENA_ALLOCATOR,
    ORT_ENABLE_ALL,
    ORT_MEM_TYPE_DEFAULT,
    ORT_SEQUENTIAL,
    RUN,
    SESSION_GET_INPUT_COUNT,
    SESSION_GET_INPUT_NAME,
    SESSION_GET_OUTPUT_COUNT,
    SESSION_GET_OUTPUT_NAME,
    SET_INTER_OP_NUM_THREADS,
    SET_INTRA_OP_NUM_THREADS,
    SET_SESSION_EXECUTION_MODE,
    SET_SESSION_GRAPH_OPTIMIZATION_LEVEL,
    OrtLibrary,
    find_library,
)

TYPE_CHECKING = False  # typing for mypy only: imported before the session starts loading
if TYPE_CHECKING:
    from typing import Any

# The library and its lookup are re-exported: the embedder, the loader, the
# bench's floor handler and the tests import them from here.
__all__ = ["EXACT_INT8", "ORT_API_VERSION", "OrtLibrary", "Session", "find_library"]

#: Session config every session gets (ONNX Runtime's kOrtSessionOptionsAvx2PrecisionMode).
#: On x86 CPUs without VNNI (AVX2, AVX-512 without VNNI) the default uint8 x int8
#: kernels add pairs of products in saturating 16-bit arithmetic (VPMADDUBSW), so an
#: int8 model's vectors depend on the host: MiniLM's gate fell from min cosine 0.986
#: to 0.966 on such a CPU. "1" makes ONNX Runtime convert int8 weights to uint8 when
#: the session is created (+60 ms for MiniLM), so every CPU computes exact products.
#: coldbrew's model builds do that conversion once instead
#: (:mod:`coldbrew.models.exact_int8`), so for them this costs nothing; it stays as the
#: guard for an int8 model built elsewhere. (ORT 1.20-1.25 assert on a MatMulInteger
#: without a weight zero point under this option; ONNX Runtime's quantizer always
#: writes one.)
EXACT_INT8: Mapping[str, str] = {"session.x64quantprecision": "1"}


class Session:
    """An ``OrtSession`` on the CPU: int64 tensors in, one float32 tensor out.

    ``intra_op_threads=0`` lets ONNX Runtime choose; execution is sequential
    and the graph fully optimised, as the Python binding does by default.
    ``config`` holds session config entries (``session.intra_op.allow_spinning``...),
    on top of :data:`EXACT_INT8`.
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
            for key, entry in {**EXACT_INT8, **(config or {})}.items():
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
