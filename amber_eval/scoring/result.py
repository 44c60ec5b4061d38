"""The result of scoring a response file, its JSON form and the upstream's printed text."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from amber_eval.scoring.records import ItemRecord
from amber_eval.terms import BLOCK_ORDER

Block = dict[str, float | None]
UNKNOWN_EXCLUDED = "unknown_excluded"
"""The key of the strict Yes/No blocks without the unparsed answers (``--unknown exclude``)."""

# The headings the upstream prints, misspellings included.
UPSTREAM_HEADINGS = {
    "generative": "Generative Task",
    "overall": "Descriminative Task",
    "existence": "Exsitence",
    "attribute": "Attribute",
    "state": "State",
    "number": "Number",
    "action": "Action",
    "relation": "Relation",
}


def amber_score(chair: float | None, f1: float | None) -> float | None:
    """(100 - CHAIR + F1) / 2, rounded half up to one decimal; None when either is n/a."""
    if chair is None or f1 is None:
        return None
    value = (Decimal(100) - Decimal(repr(chair)) + Decimal(repr(f1))) / 2
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Coverage:
    """How many of the selected type's ids a (partial) response file answers."""

    expected: int
    scored: int
    missing: int

    @property
    def fraction(self) -> float | None:
        return None if self.expected == 0 else self.scored / self.expected

    def to_json(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "scored": self.scored,
            "missing": self.missing,
            "fraction": self.fraction,
        }


@dataclass(frozen=True)
class ScoreResult:
    """Blocks of metrics (in the upstream's print order), per-item records and warnings."""

    rules: str
    """``strict`` or ``official``: the scoring rules."""
    eval_type: str
    blocks: dict[str, Block]
    items: tuple[ItemRecord, ...]
    warnings: tuple[str, ...] = ()
    always_no: dict[str, Block] | None = None
    coverage: Coverage | None = None
    unknown_excluded: dict[str, Block] | None = None
    """Strict: the Yes/No blocks with the unparsed answers left out (``n``: what remains)."""

    @property
    def amber(self) -> float | None:
        """The AMBER score, when the generative and overall blocks are both present."""
        if "generative" not in self.blocks or "overall" not in self.blocks:
            return None
        return amber_score(self.blocks["generative"]["CHAIR"], self.blocks["overall"]["F1"])

    def to_json(self) -> dict[str, Any]:
        """What ``--json`` writes: official = exactly the printed blocks; strict adds more."""
        data: dict[str, Any] = {name: dict(block) for name, block in self.blocks.items()}
        if self.rules == "official":
            return data
        if self.unknown_excluded is not None:
            data[UNKNOWN_EXCLUDED] = {
                name: dict(block) for name, block in self.unknown_excluded.items()
            }
        if "generative" in self.blocks and "overall" in self.blocks:
            data["AMBER"] = self.amber
        if self.always_no is not None:
            data["always_no"] = {name: dict(block) for name, block in self.always_no.items()}
        if self.coverage is not None:
            data["coverage"] = self.coverage.to_json()
        return data

    def upstream_text(self) -> str:
        """The upstream script's printed output for these blocks, byte for byte (official)."""
        return format_upstream(self.blocks)


def format_upstream(blocks: dict[str, Block]) -> str:
    """Format blocks as the upstream's ``print`` calls do (tabs, trailing spaces and all)."""
    lines: list[str] = []
    for name in BLOCK_ORDER:
        if name not in blocks:
            continue
        block = blocks[name]
        lines.append(f"{UPSTREAM_HEADINGS[name]}:\n")
        if name == "generative":
            lines.append(f"CHAIR:\t\t {block['CHAIR']}\n")
            lines.append(f"Cover:\t\t {block['Cover']}\n")
            lines.append(f"Hal:\t\t {block['Hal']}\n")
            lines.append(f"Cog:\t\t {block['Cog']} \n\n")
            continue
        lines.append(f"Accuracy:\t {block['Accuracy']}\n")
        lines.append(f"Precision:\t {block['Precision']}\n")
        lines.append(f"Recall:\t\t {block['Recall']}\n")
        # print("F1:", F1, "\n") everywhere but the last (relation) block.
        tail = "\n" if name == "relation" else " \n\n"
        lines.append(f"F1:\t\t {block['F1']}{tail}")
    return "".join(lines)
