"""Published reference rows (shipped data, never recomputed)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from amber_eval.errors import DataError, InputError
from amber_eval.registry import Registry
from amber_eval.reporting.layouts import Layout

REFERENCE_FILE = "reference_rows.json"


@dataclass(frozen=True)
class ReferenceRow:
    model: str
    values: dict[str, float]
    """Column key (``"overall.F1"``) -> the published figure."""


@dataclass(frozen=True)
class ReferenceSet:
    name: str
    title: str
    source: str
    notes: str
    columns: tuple[str, ...]
    rows: tuple[ReferenceRow, ...]

    def fills(self, layout: Layout) -> bool:
        """Whether these figures give a value for every column of ``layout``."""
        return set(layout.keys) <= set(self.columns)


def _reference_text() -> str:
    return (resources.files("amber_eval") / "resources" / REFERENCE_FILE).read_text("utf-8")


def _parse(name: str, raw: dict[str, Any]) -> ReferenceSet:
    columns = tuple(str(c) for c in raw["columns"])
    rows = []
    for row in raw["rows"]:
        values = [float(v) for v in row["values"]]
        if len(values) != len(columns):
            raise DataError(
                f"{REFERENCE_FILE}: reference set {name!r}, row {row['model']!r} has "
                f"{len(values)} values for {len(columns)} columns"
            )
        rows.append(ReferenceRow(str(row["model"]), dict(zip(columns, values, strict=True))))
    return ReferenceSet(
        name=name,
        title=str(raw["title"]),
        source=str(raw["source"]),
        notes=str(raw.get("notes", "")),
        columns=columns,
        rows=tuple(rows),
    )


def _register_shipped(registry: Registry[ReferenceSet]) -> None:
    """Register the sets of the shipped file (read on first use of :data:`REFERENCE_SETS`)."""
    data = json.loads(_reference_text())
    for name, raw in data["sets"].items():
        registry.add_lazy(name, functools.partial(_parse, name, raw), str(raw["title"]))


REFERENCE_SETS: Registry[ReferenceSet] = Registry("reference set", fill=_register_shipped)


def reference_sets() -> dict[str, ReferenceSet]:
    """All shipped reference sets by name (``amber``, ``crtnet-attr``)."""
    return dict(REFERENCE_SETS.items())


def get_reference(name: str) -> ReferenceSet:
    """The reference set ``name`` (did-you-mean on an unknown name)."""
    return REFERENCE_SETS.load(name)


def reference_for_layout(name: str, layout: Layout) -> ReferenceSet:
    """The reference set ``name``, checked to fill every column of ``layout``."""
    reference = get_reference(name)
    if not reference.fills(layout):
        fitting = [n for n, s in reference_sets().items() if s.fills(layout)]
        hint = (
            f"layout {layout.name!r} can show: {', '.join(fitting)}"
            if fitting
            else f"no reference set fills layout {layout.name!r}"
        )
        raise InputError(
            f"reference set {name!r} ({reference.title}) has no published figures for every "
            f"column of layout {layout.name!r}; {hint}"
        )
    return reference
