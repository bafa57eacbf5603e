"""Read ``struct OrtApi`` out of ONNX Runtime's C header: each member's index and signature.

The ctypes binding (``coldbrew.runtime.ort_library``) calls ONNX Runtime through
the function table ``struct OrtApi``, by index. This module derives those
indexes from the header itself (vendored in ``tests/data/onnxruntime/``), so a
test can compare them with the binding's. It parses only what that struct
needs: comments and preprocessor lines are dropped, the struct's body is split
into declarations at top-level semicolons, and each declaration must be one of
the member forms the header uses, or parsing fails naming it:

* ``ORT_API2_STATUS(Name, params...)``: returns ``OrtStatus*``;
* ``ORT_CLASS_RELEASE(X)``: ``void ReleaseX(OrtX* input)``;
* a plain function pointer, ``RET(ORT_API_CALL* Name)(params...) NO_EXCEPTION ...``.

Each member also carries the ONNX Runtime minor version that added it, from the
``\\since Version 1.N`` of its doc comment (members without one inherit the
previous member's: the struct is append-only, one release after another).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HEADER = Path(__file__).parent / "data" / "onnxruntime" / "onnxruntime_c_api.h"

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_SINCE = re.compile(r"\\since\s+Version\s+1\.(\d+)")
# SAL annotations: _In_, _Outptr_, _In_reads_(n), _Frees_ptr_opt_...
_SAL = re.compile(r"\b_[A-Z][A-Za-z_]*_\b(\s*\([^()]*\))?")
_TRAILERS = re.compile(r"\b(NO_EXCEPTION|ORT_ALL_ARGS_NONNULL|ORT_MUST_USE_RESULT)\b")
_STATUS_MACRO = re.compile(r"^ORT_API2_STATUS\s*\(\s*(\w+)\s*,(.*)\)$", re.DOTALL)
_STATUS_MACRO_NO_ARGS = re.compile(r"^ORT_API2_STATUS\s*\(\s*(\w+)\s*\)$")
_RELEASE_MACRO = re.compile(r"^ORT_CLASS_RELEASE\s*\(\s*(\w+)\s*\)$")
_POINTER_MEMBER = re.compile(r"^(.+?)\(\s*ORT_API_CALL\s*\*\s*(\w+)\s*\)\s*\((.*)\)$", re.DOTALL)
_ENUM = re.compile(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", re.DOTALL)
_QUALIFIERS = frozenset({"const", "volatile", "struct", "enum", "unsigned", "signed"})
_API_VERSION = re.compile(r"^#define\s+ORT_API_VERSION\s+(\d+)\s*$", re.MULTILINE)


class HeaderError(ValueError):
    """The header holds something this parser does not understand."""


@dataclass(frozen=True)
class Member:
    """One function pointer of ``struct OrtApi``."""

    index: int
    name: str
    returns: str  # the C return type, annotations removed
    params: tuple[str, ...]  # each parameter's C type, its name removed
    since: int  # the ONNX Runtime minor version (1.N) that added it; 0 if unknown


@dataclass(frozen=True)
class OrtHeader:
    """What the tests need from ``onnxruntime_c_api.h``."""

    api_version: int  # ORT_API_VERSION: the newest OrtApi version the header describes
    members: tuple[Member, ...]  # struct OrtApi, in declaration order
    enums: dict[str, dict[str, int]]  # typedef'd enum -> enumerator -> value

    def member(self, name: str) -> Member:
        """The member called ``name``; :class:`KeyError` naming it when there is none."""
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(f"struct OrtApi has no member {name!r}")

    def enumerator(self, name: str) -> int:
        """The value of enumerator ``name`` in any of the header's enums."""
        for values in self.enums.values():
            if name in values:
                return values[name]
        raise KeyError(f"no enum in the header has an enumerator {name!r}")


def read_header(path: Path = HEADER) -> OrtHeader:
    """Parse the header at ``path``."""
    return parse_header(path.read_text(encoding="utf-8"))


def parse_header(text: str) -> OrtHeader:
    """Parse the text of ``onnxruntime_c_api.h``; :class:`HeaderError` on anything unexpected."""
    version = _API_VERSION.search(text)
    if version is None:
        raise HeaderError("no '#define ORT_API_VERSION N' line")
    code = _without_preprocessor(_COMMENT.sub(" ", text))
    enums = {name: _enumerators(body) for name, body, alias in _ENUM.findall(code) if name == alias}
    return OrtHeader(int(version.group(1)), _members(_struct_body(text)), enums)


def _struct_body(text: str) -> str:
    # The body with its comments kept: they carry the \since markers.
    start = re.search(r"^struct OrtApi\s*\{", text, re.MULTILINE)
    if start is None:
        raise HeaderError("no 'struct OrtApi {' in the header")
    end = re.compile(r"^\};", re.MULTILINE).search(text, start.end())
    if end is None:
        raise HeaderError("'struct OrtApi {' is never closed")
    return text[start.end() : end.start()]


def _members(body: str) -> tuple[Member, ...]:
    members: list[Member] = []
    since = 0
    pending = ""  # code since the last top-level ';'
    for piece in re.split(r"(//[^\n]*|/\*.*?\*/)", body, flags=re.DOTALL):
        if piece.startswith(("//", "/*")):
            found = _SINCE.search(piece)
            if found is not None and not pending.strip():  # a doc comment before a member
                since = max(since, int(found.group(1)))
            continue
        for line in piece.splitlines(keepends=True):
            if line.lstrip().startswith("#"):
                continue
            for char in line:
                if char == ";" and _depth(pending) == 0:
                    members.append(_member(len(members), pending, since))
                    pending = ""
                else:
                    pending += char
    if pending.strip():
        raise HeaderError(f"unterminated declaration at the end of struct OrtApi: {pending!r}")
    return tuple(members)


def _member(index: int, declaration: str, since: int) -> Member:
    text = " ".join(_TRAILERS.sub(" ", declaration).split())
    if found := _STATUS_MACRO.match(text):
        return Member(index, found.group(1), "OrtStatus*", _params(found.group(2)), since)
    if found := _STATUS_MACRO_NO_ARGS.match(text):
        return Member(index, found.group(1), "OrtStatus*", (), since)
    if found := _RELEASE_MACRO.match(text):
        kind = found.group(1)
        return Member(index, f"Release{kind}", "void", (f"Ort{kind}*",), since)
    if found := _POINTER_MEMBER.match(text):
        returns = _clean(found.group(1))
        return Member(index, found.group(2), returns, _params(found.group(3)), since)
    raise HeaderError(f"struct OrtApi member {index} has a form this parser does not know: {text}")


def _params(text: str) -> tuple[str, ...]:
    text = _clean(text)
    if text in ("", "void"):
        return ()
    return tuple(_param_type(p) for p in _split_top_level(text))


def _param_type(param: str) -> str:
    # "const char* const* keys" -> "const char* const*": the type, its name dropped.
    pointer_to_function = re.match(r"^(.*?)\(\s*\*\s*\w*\s*\)\s*\((.*)\)$", param.strip())
    if pointer_to_function is not None:  # "void (*fn)(void*, size_t)"
        returns, params = pointer_to_function.groups()
        return f"{returns.strip()} (*)({', '.join(_params(params))})"
    array = re.match(r"^(.*?\w+)\s*((?:\[[^\]]*\])+)$", param.strip())
    if array is not None:  # "T name[]" is a "T* name" parameter
        param = re.sub(r"(\w+)$", "*" * array.group(2).count("[") + r" \1", array.group(1))
    tokens = re.findall(r"\w+|\*", param)
    if not tokens:
        raise HeaderError("an empty parameter")
    type_words = [t for t in tokens[:-1] if t != "*" and t not in _QUALIFIERS]
    if tokens[-1] != "*" and tokens[-1] not in _QUALIFIERS and type_words:
        tokens = tokens[:-1]  # the last word is the parameter's name
    text = ""
    for token in tokens:
        text += token if token == "*" or not text else f" {token}"
    return text


def _clean(text: str) -> str:
    return " ".join(_SAL.sub(" ", text).split())


def _split_top_level(text: str) -> list[str]:
    parts, current = [], ""
    for char in text:
        if char == "," and _depth(current) == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _depth(text: str) -> int:
    return text.count("(") - text.count(")")


def _without_preprocessor(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("#"))


def _enumerators(body: str) -> dict[str, int]:
    # Implicit values count on from the previous one; an expression this does not
    # evaluate leaves that enumerator (and implicit ones after it) out.
    values: dict[str, int] = {}
    following: int | None = 0
    for entry in (e.strip() for e in body.split(",")):
        if not entry:
            continue
        name, _, value = (p.strip() for p in entry.partition("="))
        if value:
            if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", value):
                following = int(value, 0)
            else:
                following = values.get(value)  # an alias of an earlier enumerator, or unknown
        if following is not None:
            values[name] = following
            following += 1
    return values
