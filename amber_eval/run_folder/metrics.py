"""``metrics.json``: the typed record of a run's scores, written by the run, read by every report.

The file holds ``strict`` and ``official`` (each scoring's ``ScoreResult.to_json()``: the score
blocks, ``AMBER``, ``always_no`` ...), ``coverage`` (the selected captions scored as each image's
description, ``{"strict": ..., "official": ...}``, or ``{"available": false, "reason": ...}``
when no spaCy pipeline was at hand) and ``warnings`` (the useless-judge alarm's findings, each a
:class:`JudgeWarning`). Fields this version does not know are kept in ``extra``.

>>> metrics = RunMetrics(strict={"overall": {"F1": 80.0}}, official={},
...                      coverage={"available": False, "reason": "no spaCy pipeline"})
>>> RunMetrics.from_json(metrics.to_json(), where="metrics.json") == metrics
True
>>> metrics.coverage_available, metrics.coverage_reason
(False, 'no spaCy pipeline')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from amber_eval.errors import InputError
from amber_eval.terms import Rules


@dataclass(frozen=True)
class JudgeWarning:
    """One reason the run's judge looks useless (see :mod:`amber_eval.runs.judge_alarm`)."""

    code: str
    block: str
    figures: Mapping[str, float | int | None] = field(default_factory=dict)
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "block": self.block,
            "figures": dict(self.figures),
            "message": self.message,
        }

    @property
    def short(self) -> str:
        """A few words for a table's footnote."""
        figures = self.figures
        if self.code.startswith("yes-ratio"):
            return f"Yes to {float(figures.get('yes_ratio') or 0.0):.1%} of {self.block}"
        if self.code == "not-above-always-no":
            return (
                f"accuracy {float(figures.get('accuracy') or 0.0):.1f} not above always-No "
                f"{float(figures.get('always_no_accuracy') or 0.0):.1f}"
            )
        return self.code

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JudgeWarning:
        figures = data.get("figures")
        return cls(
            code=str(data.get("code", "")),
            block=str(data.get("block", "")),
            figures=dict(figures) if isinstance(figures, Mapping) else {},
            message=str(data.get("message", "")),
        )


def warnings_of(metrics: Mapping[str, Any]) -> list[JudgeWarning]:
    """The judge warnings a ``metrics.json`` object carries (none for runs written before them)."""
    listed = metrics.get("warnings")
    if not isinstance(listed, Sequence) or isinstance(listed, str):
        return []
    return [JudgeWarning.from_json(w) for w in listed if isinstance(w, Mapping)]


@dataclass(frozen=True)
class RunMetrics:
    """The content of ``metrics.json``; a score set the file lacks is None."""

    strict: Mapping[str, Any] | None = None
    official: Mapping[str, Any] | None = None
    coverage: Mapping[str, Any] | None = None
    """``{"strict": ..., "official": ...}``, or ``{"available": false, "reason": ...}``."""
    warnings: tuple[JudgeWarning, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Fields this version does not know (kept when the record is written again)."""

    def score(self, rules: Rules, *, where: str = "metrics.json") -> Mapping[str, Any]:
        """The ``strict`` or ``official`` scores; an :class:`InputError` when the file has none."""
        found = self.strict if rules == "strict" else self.official
        if found is None:
            raise InputError(f"{where}: no {rules!r} scores")
        return found

    @property
    def coverage_available(self) -> bool:
        coverage = self.coverage
        return coverage is not None and coverage.get("available", True) is not False

    @property
    def coverage_reason(self) -> str | None:
        """Why caption coverage was not scored (None when it was)."""
        coverage = self.coverage
        if coverage is not None and coverage.get("available") is False:
            return str(coverage.get("reason", "not computed"))
        return None

    def coverage_score(self, rules: Rules) -> Mapping[str, Any] | None:
        """The captions' coverage scores under ``rules`` (None when not available)."""
        if not self.coverage_available or self.coverage is None:
            return None
        found = self.coverage.get(rules)
        return found if isinstance(found, Mapping) else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in ("strict", "official", "coverage"):
            value = getattr(self, name)
            if value is not None:
                data[name] = dict(value)
        data["warnings"] = [warning.to_json() for warning in self.warnings]
        for name, value in self.extra.items():
            data.setdefault(name, value)
        return data

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> RunMetrics:
        """Read ``metrics.json``'s object; ``where`` names the file in errors."""
        if not isinstance(data, Mapping):
            raise InputError(f"{where}: must hold a JSON object")
        values: dict[str, Any] = {}
        for name in ("strict", "official", "coverage"):
            value = data.get(name)
            if value is not None and not isinstance(value, Mapping):
                raise InputError(f"{where}: field {name!r} must be an object")
            values[name] = value
        known = ("strict", "official", "coverage", "warnings")
        return cls(
            **values,
            warnings=tuple(warnings_of(data)),
            extra={k: v for k, v in data.items() if k not in known},
        )
