"""The ctypes binding's ``OrtApi`` indexes and signatures, checked against ONNX Runtime's header.

``coldbrew.runtime.ort_library`` calls ONNX Runtime by position in its function
table, ``struct OrtApi``: an index off by one would call a different function
with the wrong arguments, silently. Here every index the binding uses is
derived again from ``onnxruntime_c_api.h`` itself (vendored with its licence in
``tests/data/onnxruntime/``, read by ``tests/ort_c_header.py``), together with
each member's parameter count and kinds, the enum values the binding passes,
and the API version the members need. The negative cases prove the check
fails: a shifted table, a header with a member removed or added, a wrong
arity or type, a name the header does not have.
"""

from __future__ import annotations

import ctypes
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from coldbrew.runtime import ort_library
from ort_c_header import HEADER, HeaderError, OrtHeader, parse_header, read_header

ROOT = Path(__file__).resolve().parents[2]

#: The binding's enum constants -> the header's enumerator of the same meaning.
ENUM_CONSTANTS = {
    "ORT_LOGGING_LEVEL_WARNING": "ORT_LOGGING_LEVEL_WARNING",
    "ORT_SEQUENTIAL": "ORT_SEQUENTIAL",
    "ORT_ENABLE_ALL": "ORT_ENABLE_ALL",
    "ORT_ARENA_ALLOCATOR": "OrtArenaAllocator",
    "ORT_MEM_TYPE_DEFAULT": "OrtMemTypeDefault",
    "ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT": "ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT",
    "ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64": "ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64",
}
_NOT_AN_INDEX = {"ORT_API_VERSION", *ENUM_CONSTANTS}

Signature = tuple[Any, tuple[Any, ...]]


@dataclass(frozen=True)
class Binding:
    """What the binding declares about the table: indexes, signatures, API version."""

    indexes: dict[str, int]  # constant name (CREATE_SESSION) -> index
    signatures: dict[int, Signature]  # index -> (restype, argtypes)
    releases: dict[str, int]  # X of ReleaseX -> index
    release_signature: Signature
    api_version: int


def binding_of(module: ModuleType) -> Binding:
    """Every upper-case int constant of ``module`` that is not an enum value is an index."""
    indexes = {
        name: value
        for name, value in vars(module).items()
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", name)
        and type(value) is int
        and name not in _NOT_AN_INDEX
    }
    return Binding(
        indexes,
        dict(module._SIGNATURES),
        dict(module.RELEASES),
        module.RELEASE_SIGNATURE,
        module.ORT_API_VERSION,
    )


def _key(name: str) -> str:
    # CREATE_CPU_MEMORY_INFO and CreateCpuMemoryInfo are the same member.
    return name.replace("_", "").lower()


def header_kind(c_type: str, header: OrtHeader) -> str:
    """A C type's kind as ctypes must declare it (ABI-wise), on a 64-bit Linux."""
    if "(*)" in c_type:
        return "pointer"  # a pointer to a function
    words = c_type.replace("*", " ").split()
    base = " ".join(w for w in words if w not in ("const", "struct", "enum"))
    stars = c_type.count("*")
    if base in header.enums or base in ("int", "int32_t", "uint32_t"):
        scalar = "int32"
    else:
        scalar = {"size_t": "size_t", "int64_t": "int64", "void": "void", "char": "char"}.get(
            base, "opaque"
        )
    if base == "ORTCHAR_T":  # char on every platform but Windows
        scalar = "char"
    if stars == 0:
        return scalar
    if stars >= 2:
        return "pointer*"
    return {"char": "char*", "void": "pointer", "opaque": "pointer"}.get(scalar, f"{scalar}*")


def ctypes_kind(c_type: Any) -> str:
    """The kind of a ctypes type, in :func:`header_kind`'s terms."""
    if c_type is None:
        return "void"
    scalars = {
        ctypes.c_int: "int32",
        ctypes.c_size_t: "size_t",
        ctypes.c_int64: "int64",
        ctypes.c_char_p: "char*",
        ctypes.c_void_p: "pointer",
    }
    for scalar, kind in scalars.items():
        if c_type is scalar:
            return kind
    pointee = getattr(c_type, "_type_", None)
    if isinstance(pointee, type) and issubclass(c_type, ctypes._Pointer):
        inner = ctypes_kind(pointee)
        return "pointer*" if inner in ("pointer", "char*") else f"{inner}*"
    raise AssertionError(f"the binding declares a ctypes type this check does not know: {c_type}")


def table_problems(header: OrtHeader, binding: Binding) -> list[str]:
    """Every way the binding disagrees with the header; empty when it agrees."""
    problems = []
    by_key = {_key(m.name): m for m in header.members}
    named: dict[int, str] = {}
    for constant, index in sorted(binding.indexes.items()):
        member = by_key.get(_key(constant))
        if member is None:
            problems.append(f"{constant}: struct OrtApi has no member of that name")
            continue
        named[index] = member.name
        if member.index != index:
            problems.append(
                f"{constant} = {index}, but the header puts {member.name} at index {member.index}"
            )
    for kind, index in binding.releases.items():
        if named.get(index) != f"Release{kind}":
            problems.append(f"RELEASES[{kind!r}] = {index}, which is {named.get(index)}")
    used = {**dict.fromkeys(binding.signatures), **dict.fromkeys(binding.releases.values())}
    for index in used:
        if index not in named:
            problems.append(f"OrtApi[{index}] is called, but no constant names it after a member")
            continue
        if index >= len(header.members):
            continue  # already reported: a constant's index disagrees with the header
        member = header.members[index]
        if member.since > binding.api_version:
            problems.append(
                f"{member.name} is OrtApi version {member.since}, but the binding asks "
                f"GetApi({binding.api_version}), whose table may not have it"
            )
        restype, argtypes = binding.signatures.get(index, binding.release_signature)
        problems += _signature_problems(header, member.name, member, restype, argtypes)
    return problems


def _signature_problems(
    header: OrtHeader, name: str, member: Any, restype: Any, argtypes: tuple[Any, ...]
) -> list[str]:
    if len(argtypes) != len(member.params):
        return [
            f"{name} takes {len(member.params)} parameters ({', '.join(member.params)}), "
            f"the binding declares {len(argtypes)}"
        ]
    problems = []
    returns = header_kind(member.returns, header)
    if ctypes_kind(restype) != returns:
        problems.append(f"{name} returns {member.returns}, declared {restype}")
    for position, (c_type, declared) in enumerate(zip(member.params, argtypes, strict=True)):
        if header_kind(c_type, header) != ctypes_kind(declared):
            problems.append(f"{name} parameter {position} is {c_type}, declared {declared}")
    return problems


@pytest.fixture(scope="module")
def header() -> OrtHeader:
    return read_header()


@pytest.fixture(scope="module")
def binding() -> Binding:
    return binding_of(ort_library)


def _pinned_onnxruntime() -> tuple[int, int]:
    rules = tomllib.loads((ROOT / "packaging" / "aws-lambda.toml").read_text())
    (pin,) = [r for r in rules["runtime"]["requirements"] if r.startswith("onnxruntime==")]
    major, minor = pin.removeprefix("onnxruntime==").split(".")[:2]
    return int(major), int(minor)


def test_the_binding_agrees_with_onnx_runtimes_header(header: OrtHeader, binding: Binding) -> None:
    assert table_problems(header, binding) == []
    # Not vacuous: every function the binding can call was compared.
    assert len(binding.signatures) + len(binding.releases) >= 30
    assert set(binding.indexes.values()) == {*binding.signatures, *binding.releases.values()}


def test_the_vendored_header_describes_the_pinned_library(header: OrtHeader) -> None:
    # The header is 1.21's (Debian ships no 1.20); OrtApi is append-only, and
    # no member in it is newer than 1.20: its table is the pinned 1.20.1's.
    major, minor = _pinned_onnxruntime()
    assert major == 1
    assert header.api_version >= minor  # 21 for the vendored 1.21.0
    assert max(m.since for m in header.members) <= minor
    versions = [m.since for m in header.members if m.since]
    assert versions == sorted(versions), "members are appended in version order"
    # The binding's GetApi(version) is served by the pinned library.
    assert minor >= ort_library.ORT_API_VERSION
    assert "MIT License" in (HEADER.parent / "LICENSE").read_text()


def test_the_enum_values_the_binding_passes_match_the_header(header: OrtHeader) -> None:
    for constant, enumerator in ENUM_CONSTANTS.items():
        assert getattr(ort_library, constant) == header.enumerator(enumerator), constant


# --- the check can fail --------------------------------------------------------


def _shifted(binding: Binding, by: int) -> Binding:
    return replace(
        binding,
        indexes={k: v + by for k, v in binding.indexes.items()},
        signatures={k + by: v for k, v in binding.signatures.items()},
        releases={k: v + by for k, v in binding.releases.items()},
    )


def _with_signature(binding: Binding, constant: str, change: Any) -> Binding:
    index = binding.indexes[constant]
    restype, argtypes = binding.signatures[index]
    return replace(binding, signatures={**binding.signatures, index: change(restype, argtypes)})


_P = ctypes.POINTER
# Each mutation, and a problem it must be reported with.
_BINDING_MUTATIONS: dict[str, tuple[Any, str]] = {
    "table shifted up by one": (lambda b: _shifted(b, 1), "RUN = 10, but the header puts Run"),
    "table shifted down by one": (lambda b: _shifted(b, -1), "CREATE_ENV = 2, but"),
    "one index off by one": (
        lambda b: replace(b, indexes={**b.indexes, "RUN": 10}),
        "RUN = 10, but the header puts Run at index 9",
    ),
    "a name the header lacks": (
        lambda b: replace(b, indexes={**b.indexes, "GET_TENSOR_DATA": 51}),
        "GET_TENSOR_DATA: struct OrtApi has no member of that name",
    ),
    "a release of another kind": (
        lambda b: replace(b, releases={**b.releases, "Value": 95}),
        "RELEASES['Value'] = 95, which is ReleaseSession",
    ),
    "an argument missing": (
        lambda b: _with_signature(b, "RUN", lambda r, a: (r, a[:-1])),
        "Run takes 8 parameters",
    ),
    "size_t declared as int": (
        lambda b: _with_signature(b, "GET_DIMENSIONS", lambda r, a: (r, (*a[:2], ctypes.c_int))),
        "GetDimensions parameter 2 is size_t",
    ),
    "int64_t* declared as int*": (
        lambda b: _with_signature(
            b, "GET_DIMENSIONS", lambda r, a: (r, (a[0], _P(ctypes.c_int), a[2]))
        ),
        "GetDimensions parameter 1 is int64_t*",
    ),
    "a status returned as int": (
        lambda b: _with_signature(b, "CREATE_ENV", lambda r, a: (ctypes.c_int, a)),
        "CreateEnv returns OrtStatus*",
    ),
    "a member newer than the API asked for": (
        lambda b: replace(
            b,
            indexes={**b.indexes, "SET_EP_DYNAMIC_OPTIONS": 284},
            signatures={
                **b.signatures,
                284: (
                    ctypes.c_void_p,
                    (ctypes.c_void_p, _P(ctypes.c_char_p), _P(ctypes.c_char_p), ctypes.c_size_t),
                ),
            },
        ),
        "SetEpDynamicOptions is OrtApi version 20, but the binding asks GetApi(13)",
    ),
}


@pytest.mark.parametrize("mutation", list(_BINDING_MUTATIONS))
def test_a_wrong_binding_is_reported(header: OrtHeader, binding: Binding, mutation: str) -> None:
    change, expected = _BINDING_MUTATIONS[mutation]
    problems = table_problems(header, change(binding))
    assert any(p.startswith(expected) for p in problems), problems


_CUSTOM_LOGGER = re.compile(r"\n  ORT_API2_STATUS\(CreateEnvWithCustomLogger,.*?\);", re.DOTALL)
_HEADER_MUTATIONS = {
    "a member removed": lambda text: _CUSTOM_LOGGER.sub("", text, count=1),
    "a member inserted": lambda text: text.replace(
        "  ORT_API2_STATUS(CreateEnv,", "  ORT_CLASS_RELEASE(Extra);\n  ORT_API2_STATUS(CreateEnv,"
    ),
}


@pytest.mark.parametrize("mutation", list(_HEADER_MUTATIONS))
def test_a_header_that_shifts_the_table_is_reported(binding: Binding, mutation: str) -> None:
    text = HEADER.read_text(encoding="utf-8")
    changed = _HEADER_MUTATIONS[mutation](text)
    assert changed != text
    problems = table_problems(parse_header(changed), binding)
    # Every member after the change moved: CreateSession (7) onwards.
    assert any(p.startswith("CREATE_SESSION = 7, but") for p in problems), problems
    assert any(p.startswith("ADD_SESSION_CONFIG_ENTRY = 130, but") for p in problems)
    assert not any("GET_ERROR_CODE" in p for p in problems), "members before it did not move"


@pytest.mark.parametrize(
    "declaration",
    ["  int unexpected_field;", "  ORT_API_T(OrtStatus*, Future, int x);", "  OrtApi() = delete;"],
)
def test_a_member_form_the_parser_does_not_know_fails_loudly(declaration: str) -> None:
    text = HEADER.read_text(encoding="utf-8").replace(
        "  ORT_API2_STATUS(CreateEnv,", f"{declaration}\n  ORT_API2_STATUS(CreateEnv,", 1
    )
    with pytest.raises(HeaderError, match="form this parser does not know"):
        parse_header(text)


def test_the_parser_reads_each_member_form(header: OrtHeader) -> None:
    # One of each form, with the parameter names dropped.
    assert header.member("CreateStatus").params == ("OrtErrorCode", "const char*")
    assert header.member("GetErrorMessage").returns == "const char*"
    assert header.member("ReleaseEnv").params == ("OrtEnv*",)
    assert header.member("Run").params[2:4] == ("const char* const*", "const OrtValue* const*")
    assert header.member("KernelContext_ParallelFor").params[1] == "void (*)(void*, size_t)"
    assert [m.index for m in header.members] == list(range(len(header.members)))
    with pytest.raises(KeyError, match="NoSuchMember"):
        header.member("NoSuchMember")
