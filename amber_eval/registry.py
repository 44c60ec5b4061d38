"""The one registry: names -> values, imported on first use, with did-you-mean errors.

Every named, selectable thing is registered here the same way: CLI commands, judge presets and
backends, mask sources and captioners, report formats, table layouts, reference sets and
prompt templates. An entry holds its value, or defers it: a ``"package.module:attribute"``
string is imported, a zero-argument callable is called, the first time the entry is loaded.
Registering therefore imports nothing heavy; listing names and descriptions loads nothing.
A registry whose names come from data (templates in a folder, reference sets in a JSON file)
takes a ``fill`` function that registers them on first access.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from amber_eval.errors import UnknownNameError

T = TypeVar("T")

Deferred = str | Callable[[], Any]
"""``"package.module:attribute"`` (imported) or a zero-argument callable (called)."""


def import_target(target: str) -> Any:
    """The attribute named by ``"package.module:attribute"`` (the module is imported)."""
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"{target!r} is not of the form 'package.module:attribute'")
    value = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


class Entry(Generic[T]):
    """One registered name: its description and its value, loaded once on demand."""

    __slots__ = ("_deferred", "_loaded", "_value", "description", "name")

    def __init__(
        self, name: str, description: str, *, value: Any = None, deferred: Deferred | None = None
    ) -> None:
        self.name = name
        self.description = description
        self._deferred = deferred
        self._value = value
        self._loaded = deferred is None

    @property
    def target(self) -> str | None:
        """The ``module:attribute`` string of a deferred entry (None otherwise)."""
        return self._deferred if isinstance(self._deferred, str) else None

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> T:
        """The value (imported or built the first time)."""
        if not self._loaded:
            deferred = self._deferred
            if isinstance(deferred, str):
                self._value = import_target(deferred)
            elif deferred is not None:
                self._value = deferred()
            self._loaded = True
        value: T = self._value
        return value

    def __repr__(self) -> str:
        return f"Entry({self.name!r})"


class Registry(Generic[T]):
    """Names -> values of one ``kind`` (the word used in error messages).

    ``fill``, if given, registers entries the first time the registry is read.
    """

    def __init__(self, kind: str, *, fill: Callable[[Registry[T]], None] | None = None) -> None:
        self.kind = kind
        self._fill = fill
        self._entries: dict[str, Entry[T]] = {}

    def add(self, name: str, value: T, description: str = "") -> None:
        """Register ``value`` under ``name``."""
        self._put(Entry(name, description, value=value))

    def add_lazy(self, name: str, deferred: Deferred, description: str = "") -> None:
        """Register a value to import (``"module:attribute"``) or build (a callable) on use."""
        self._put(Entry(name, description, deferred=deferred))

    def register(self, name: str, description: str = "") -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def decorate(value: T) -> T:
            self.add(name, value, description)
            return value

        return decorate

    def _put(self, entry: Entry[T]) -> None:
        entries = self._filled()
        if entry.name in entries:
            raise ValueError(f"{self.kind} {entry.name!r} is already registered")
        entries[entry.name] = entry

    def _filled(self) -> dict[str, Entry[T]]:
        fill, self._fill = self._fill, None
        if fill is not None:
            fill(self)
        return self._entries

    def get(self, name: str) -> Entry[T]:
        """The entry ``name``; an unknown name raises :class:`UnknownNameError` (did-you-mean)."""
        try:
            return self._filled()[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def load(self, name: str) -> T:
        """The value registered as ``name`` (see :meth:`get`)."""
        return self.get(name).load()

    def __getitem__(self, name: str) -> T:
        return self.load(name)

    def unknown_message(self, name: str) -> str:
        """``unknown <kind> 'x'; did you mean 'y'? Known: ...``."""
        return unknown_name_message(self.kind, name, self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._filled()

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(list(self._filled().values()))

    def __len__(self) -> int:
        return len(self._filled())

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._filled())

    def items(self) -> list[tuple[str, T]]:
        """``(name, value)`` pairs; loads every entry."""
        return [(entry.name, entry.load()) for entry in self]


def unknown_name_message(kind: str, name: str, known: list[str]) -> str:
    """``unknown <kind> 'x'; did you mean 'y'? Known: a, b, c``."""
    message = f"unknown {kind} {name!r}"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    if close:
        message += f"; did you mean {close[0]!r}?"
    if known:
        message += f" Known: {', '.join(sorted(known))}."
    return message
