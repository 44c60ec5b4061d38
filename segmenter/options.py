"""Typed settings for mask sources and captioners, built from ``KEY=VALUE`` strings or kwargs.

Each component declares a frozen dataclass of settings; :func:`build_settings` converts
user-supplied values to the declared types and reports unknown keys with a did-you-mean hint.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from amber_eval.errors import InputError
from amber_eval.registry import unknown_name_message

S = TypeVar("S")


def parse_pairs(pairs: Iterable[str], *, flag: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a pair without ``=`` is an error."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"{flag} {pair!r}: expected KEY=VALUE, for example {flag} threshold=0.2"
            )
        options[key.strip().replace("-", "_")] = value
    return options


def build_settings(cls: type[S], options: Mapping[str, Any], *, component: str) -> S:
    """An instance of the settings dataclass ``cls`` from ``options`` (strings are converted)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    values: dict[str, Any] = {}
    for key, raw in options.items():
        if key not in fields:
            raise InputError(
                unknown_name_message(f"option of {component}", key, list(fields))
                + " (list them with `amber-eval segmenters`)"
            )
        try:
            values[key] = _convert(raw, hints[key])
        except (TypeError, ValueError) as exc:
            raise InputError(f"{component} option {key}={raw!r}: {exc}") from None
    missing = [
        name
        for name, f in fields.items()
        if name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise InputError(f"{component} needs the option(s) {', '.join(missing)} (KEY=VALUE)")
    try:
        return cls(**values)
    except ValueError as exc:  # __post_init__ validation
        raise InputError(f"{component}: {exc}") from None


def describe_settings(cls: type) -> list[tuple[str, str, str]]:
    """``(name, type, default)`` for each setting, for ``amber-eval segmenters``."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            default = json.dumps(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = json.dumps(f.default_factory())
        else:
            default = "(required)"
        rows.append((f.name, _type_name(hints[f.name]), default))
    return rows


def _type_name(hint: Any) -> str:
    args = typing.get_args(hint)
    if _is_union(hint):
        return " | ".join(_type_name(a) for a in args)
    if typing.get_origin(hint) is typing.Literal:
        return "|".join(str(a) for a in args)
    if hint is type(None):
        return "none"
    return getattr(hint, "__name__", str(hint))


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _convert(raw: Any, hint: Any) -> Any:
    if _is_union(hint):
        args = typing.get_args(hint)
        if type(None) in args and (
            raw is None or (isinstance(raw, str) and raw.lower() in ("", "none", "null"))
        ):
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(raw, arg)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValueError("; ".join(errors))
    if typing.get_origin(hint) is typing.Literal:
        allowed = typing.get_args(hint)
        if raw not in allowed:
            raise ValueError(f"expected one of {', '.join(map(str, allowed))}")
        return raw
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if hint is int:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError("expected an integer")
        try:
            return int(raw)
        except ValueError:
            raise ValueError("expected an integer") from None
    if hint is float:
        if isinstance(raw, bool):
            raise ValueError("expected a number")
        try:
            return float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
    if hint is str:
        if not isinstance(raw, str | int | float):
            raise ValueError("expected a string")
        return str(raw)
    raise TypeError(f"unsupported setting type {hint!r}")
