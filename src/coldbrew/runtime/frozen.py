"""A base for small immutable value classes, in place of ``@dataclass(frozen=True)``.

Why not dataclasses: importing :mod:`dataclasses` imports :mod:`inspect`
(and with it ``ast``, ``dis``, ``opcode``, ``copy``), none of which the
Lambda runtime client or ``tokenizers`` loads, and every decorated class is
then built with ``exec``. Measured with ``-X importtime`` under Python 3.12
(medians): the modules the handler imports before it starts loading the
model took 20.3 ms, 4.7 ms with this module instead and no ``typing``
(page cache dropped: 28.6 ms, 11.5 ms); all of coldbrew's own imports, 24 ms
and 10 ms. The classes built on this one write their ``__init__`` out, so
constructing one costs what it cost before.

A subclass lists its fields in ``__slots__``, in constructor order (so
``repr`` reads like a call; hence each ``noqa: RUF023``), and
annotates each as ``Final``, so mypy refuses assignments as it did for frozen
dataclasses; at run time an assignment to a field that is already set raises
:class:`AttributeError`. Equality, hashing and ``repr`` follow the fields, as
a frozen dataclass's do.

Standard library only, and not even :mod:`typing`: shipped inside artifacts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # mypy treats this as True; nothing imports typing at run time
if TYPE_CHECKING:
    from typing import Any, ClassVar


class Frozen:
    """Fields in ``__slots__``, each set once (by ``__init__``), then read-only."""

    __slots__: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: object) -> None:
        # An unset slot is what __init__ fills; a set one is a mutation.
        if hasattr(self, name):
            raise AttributeError(f"cannot assign to field {name!r} of {type(self).__qualname__}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of {type(self).__qualname__}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frozen) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        # Like a frozen dataclass: fine for hashable fields, TypeError for a dict one.
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({fields})"
