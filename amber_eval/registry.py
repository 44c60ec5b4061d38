"""A small generic registry: name -> factory, with lazy imports and did-you-mean errors.

Used for LLM presets, mask sources, captioners and report formats. Factories import their
heavy dependencies when called, never when registered.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from amber_eval.errors import UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered name."""

    name: str
    factory: Callable[..., T]
    description: str


class Registry(Generic[T]):
    """Maps names to factories. ``kind`` names what is registered, for error messages."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self, name: str, description: str = ""
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that registers ``factory`` under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(name, factory, description)
            return factory

        return decorate

    def add(self, name: str, factory: Callable[..., T], description: str = "") -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, factory, description)

    def get(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def create(self, name: str, /, *args: object, **kwargs: object) -> T:
        return self.get(name).factory(*args, **kwargs)

    def unknown_message(self, name: str) -> str:
        return unknown_name_message(self.kind, name, list(self._entries))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries.values())

    def names(self) -> list[str]:
        return list(self._entries)


def unknown_name_message(kind: str, name: str, known: list[str]) -> str:
    """``unknown <kind> 'x'; did you mean 'y'? Known: a, b, c``."""
    message = f"unknown {kind} {name!r}"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    if close:
        message += f"; did you mean {close[0]!r}?"
    if known:
        message += f" Known: {', '.join(sorted(known))}."
    return message
