"""Reading typed values out of CDK context, collecting every error instead of stopping.

Context values arrive in two shapes: JSON values from ``cdk.json`` (numbers,
booleans, lists) and text from ``cdk synth -c key=value``. Each reader accepts
both, and on a bad value records a message naming the key and what it accepts,
then returns a placeholder, so that :class:`ContextReader.raise_errors` can
report every bad key at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from coldbrew.deployment.description import format_problems
from coldbrew.deployment.limits import IntRange
from coldbrew.errors import ConfigurationError

_INT = re.compile(r"\s*[0-9]+\s*")
_NUMBER = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*")
# Deliberately loose: AWS confirms the address by mail; this only catches typos
# such as a missing @ or domain.
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


def text(raw: object) -> object:
    """A JSON number where text is expected (``"coldbrew:python": 3.12``) as text."""
    return str(raw) if isinstance(raw, float) else raw


def parse_int(raw: object) -> int | None:
    """A whole number from JSON or ``-c`` text; ``None`` if it is not one."""
    # bool is an int subclass: `true` in cdk.json must not mean 1 MB.
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and _INT.fullmatch(raw):
        return int(raw)
    return None


def parse_number(raw: object) -> float | None:
    """A non-negative decimal number from JSON or text; ``None`` if it is not one."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str) and _NUMBER.fullmatch(raw):
        return float(raw)
    return None


class ContextReader:
    """The ``coldbrew:`` context, read key by key, with every error kept.

    ``None`` and the empty string mean "not given", so a script can pass
    ``-c coldbrew:arch=$ARCH`` with ``ARCH`` unset.
    """

    def __init__(self, context: Mapping[str, object]) -> None:
        self.given: dict[str, object] = {
            k: v for k, v in context.items() if v is not None and v != ""
        }
        self.errors: list[str] = []

    def has(self, key: str) -> bool:
        """Whether ``key`` was given a value."""
        return key in self.given

    def error(self, message: str) -> None:
        """Record one problem; it should start with the key it is about."""
        self.errors.append(message)

    def raise_errors(self) -> None:
        """Raise one :class:`ConfigurationError` listing every recorded problem."""
        if self.errors:
            # The Deployment description's format, so both paths refuse alike.
            raise ConfigurationError(format_problems(self.errors))

    def choice(self, key: str, allowed: Sequence[str], default: str) -> str:
        """One of ``allowed``."""
        if key not in self.given:
            return default
        return self.check_choice(key, self.given[key], allowed)

    def check_choice(self, key: str, raw: object, allowed: Sequence[str]) -> str:
        """``raw`` if it is one of ``allowed``; else an error and ``allowed[0]``."""
        value = text(raw)
        if not isinstance(value, str) or value not in allowed:
            self.error(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
            return allowed[0]
        return value

    def int_in_range(self, key: str, bounds: tuple[int, int] | IntRange, default: int) -> int:
        """A whole number within ``bounds`` (inclusive)."""
        value = self.optional_int(key, bounds)
        return default if value is None else value

    def optional_int(
        self, key: str, bounds: tuple[int, int] | IntRange, unit: str = ""
    ) -> int | None:
        """A whole number within ``bounds``, or ``None`` when the key is not given."""
        if key not in self.given:
            return None
        raw = self.given[key]
        value = parse_int(raw)
        low, high = (bounds.low, bounds.high) if isinstance(bounds, IntRange) else bounds
        if value is None or not low <= value <= high:
            self.error(f"{key} must be a whole number from {low} to {high}{unit}, got {raw!r}")
            return None
        return value

    def whole_number(self, key: str, default: int, allowed: IntRange) -> int:
        """A whole number; its range is the Deployment description's to check.

        Text that is no number at all is refused here, naming ``allowed``.
        """
        if key not in self.given:
            return default
        raw = self.given[key]
        value = parse_int(raw)
        if value is None:
            self.error(f"{key} must be a whole number, {allowed}, got {raw!r}")
            return default
        return value

    def int_choice(self, key: str, allowed: Sequence[int], default: int, unit: str) -> int:
        """One of the whole numbers ``allowed``."""
        raw = self.given.get(key, default)
        value = parse_int(raw)
        if value is None or value not in allowed:
            self.error(f"{key} must be one of {', '.join(map(str, allowed))} ({unit}), got {raw!r}")
            return default
        return value

    def optional_number(
        self, key: str, bounds: tuple[float, float], what: str = "a number"
    ) -> float | None:
        """A decimal number within ``bounds``, or ``None`` when not given."""
        if key not in self.given:
            return None
        raw = self.given[key]
        value = parse_number(raw)
        low, high = bounds
        if value is None or not low <= value <= high:
            self.error(f"{key} must be {what} from {low:g} to {high:g}, got {raw!r}")
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """``true``/``false`` (JSON) or ``true``/``false``/``yes``/``no``/``1``/``0`` (text)."""
        if key not in self.given:
            return default
        raw = self.given[key]
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
            return raw.strip().lower() in _TRUE
        self.error(f"{key} must be true or false, got {raw!r}")
        return default

    def text_list(self, key: str) -> tuple[str, ...] | None:
        """A JSON list of strings, or ``-c`` text: a JSON list or comma-separated items.

        ``None`` when the key is not given; an empty list is returned as ``()``.
        """
        if key not in self.given:
            return None
        raw = self.given[key]
        if isinstance(raw, str):
            if raw.lstrip().startswith("["):
                try:
                    raw = json.loads(raw)
                except json.JSONDecodeError:
                    self.error(f"{key} must be a JSON list or comma-separated values, got {raw!r}")
                    return None
            else:
                raw = [item.strip() for item in raw.split(",") if item.strip()]
        if not isinstance(raw, list) or not all(
            isinstance(item, (str, int)) and not isinstance(item, bool) for item in raw
        ):
            self.error(f"{key} must be a list of values, got {raw!r}")
            return None
        return tuple(str(item) for item in raw)

    def email(self, key: str) -> str | None:
        """An e-mail address, or ``None`` when not given."""
        if key not in self.given:
            return None
        raw = self.given[key]
        if not isinstance(raw, str) or not _EMAIL.fullmatch(raw.strip()):
            self.error(f"{key} must be one e-mail address (name@example.com), got {raw!r}")
            return None
        return raw.strip()

    def only_with(self, keys: Sequence[str], condition: str, fix: str) -> None:
        """An error for each of ``keys`` given although ``condition`` does not hold.

        A setting that would be silently ignored is a mistake the user should hear about.
        """
        for key in keys:
            if key in self.given:
                self.error(f"{key} applies only when {condition}; {fix}")
