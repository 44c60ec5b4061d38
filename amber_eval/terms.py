"""The words every part of amber-eval shares, defined once.

- Answer labels (:data:`AnswerLabel`) and the truth labels of AMBER's Yes/No questions.
- The two answer grammars and their one entry point, :func:`parse_answer`.
- Question dimensions (:class:`Dimension`) and the blocks they pool into, derived from the
  dimensions (:data:`BLOCK_DIMENSIONS`, :data:`DIMENSION_BLOCKS`).
- Metric names.
- Two settings that the command line calls ``--mode``, under distinct names here: the judge's
  **answer mode** (:data:`AnswerMode`: ``score`` compares the Yes/No logits, ``generate``
  decodes and parses) and scoring's **rules** (:data:`Rules`: ``strict`` or ``official``).

>>> parse_answer("**Yes**"), parse_answer("No, there is not."), parse_answer("yes", "official")
('yes', 'no', 'unknown')
>>> DIMENSION_BLOCKS["attribute-number"]
('attribute', 'number')
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Literal, get_args

AnswerLabel = Literal["yes", "no", "unknown"]
"""How an answer reads: yes, no, or neither (a parse failure)."""
ANSWER_LABELS: tuple[AnswerLabel, ...] = ("yes", "no", "unknown")
Truth = Literal["yes", "no"]
"""The correct answer of a Yes/No question."""
TRUTH_LABELS: tuple[Truth, ...] = ("yes", "no")

AnswerMode = Literal["score", "generate"]
"""The judge's answer mode: ``score`` (the Yes/No token logits decide) or ``generate``."""
ANSWER_MODES: tuple[AnswerMode, ...] = get_args(AnswerMode)
Rules = Literal["strict", "official"]
"""Scoring's rules: ``strict`` (fixed rules) or ``official`` (the upstream scorer's)."""
RULES: tuple[Rules, ...] = get_args(Rules)
UnknownPolicy = Literal["wrong", "exclude"]
"""The parse policy of strict Yes/No metrics: an unparsed answer counts as wrong (``wrong``, the
default and the rule of ``metrics.json``'s blocks) or is left out (``exclude``)."""
UNKNOWN_POLICIES: tuple[UnknownPolicy, ...] = get_args(UnknownPolicy)

# Strict grammar: the first word decides, case-insensitively, after any non-word characters.
STRICT_ANSWER = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def parse_official(raw: object) -> AnswerLabel:
    """Exactly ``Yes`` or exactly ``No`` (case-sensitive, no stripping); anything else unknown.

    Takes any value, so a missing or non-string answer of a stored record reads as unknown.
    """
    if raw == "Yes":
        return "yes"
    if raw == "No":
        return "no"
    return "unknown"


def parse_strict(raw: object) -> AnswerLabel:
    """``^\\W*(yes|no)\\b`` case-insensitive: ``yes.``, ``**Yes**``, `` No, there is not``."""
    match = STRICT_ANSWER.match(raw) if isinstance(raw, str) else None
    if match is None:
        return "unknown"
    return "yes" if match.group(1).lower() == "yes" else "no"


def decision_text(parsed: object, raw: str) -> str:
    """The response a judge's answer stands for: exactly ``Yes`` or ``No`` when it was read as a
    decision, else the raw text (which official rules then count as the upstream does, and
    strict rules report as a parse failure).

    So a run's responses do not depend on how the judge was asked: a generated ``"No."`` and a
    scored ``No`` token are the same response.

    >>> decision_text("no", "No."), decision_text("unknown", "Maybe")
    ('No', 'Maybe')
    """
    if parsed == "yes":
        return "Yes"
    if parsed == "no":
        return "No"
    return raw


def parse_answer(raw: object, rules: Rules = "strict") -> AnswerLabel:
    """How ``raw`` reads under ``rules``: the judge and the scorer both read answers here."""
    return parse_official(raw) if rules == "official" else parse_strict(raw)


class Dimension(str, Enum):
    """The dimension of a Yes/No question."""

    EXISTENCE = "existence"
    STATE = "attribute-state"
    NUMBER = "attribute-number"
    ACTION = "attribute-action"
    RELATION = "relation"

    @property
    def is_attribute(self) -> bool:
        return self in (Dimension.STATE, Dimension.NUMBER, Dimension.ACTION)

    @property
    def block(self) -> str:
        """The block of this dimension alone: ``existence``, ``state``, ... ``relation``."""
        return self.value.removeprefix("attribute-")

    @property
    def blocks(self) -> tuple[str, ...]:
        """Every block but ``overall`` that counts this dimension's questions."""
        return ("attribute", self.block) if self.is_attribute else (self.block,)


DIMENSION_NAMES: tuple[str, ...] = tuple(d.value for d in Dimension)
DIMENSION_BLOCKS: dict[str, tuple[str, ...]] = {d.value: d.blocks for d in Dimension}
"""Dimension -> the blocks (besides ``overall``) its questions count in."""


def _block_dimensions() -> dict[str, tuple[str, ...]]:
    blocks: dict[str, tuple[str, ...]] = {"overall": DIMENSION_NAMES}
    for dimension in Dimension:
        for block in dimension.blocks:
            blocks[block] = (*blocks.get(block, ()), dimension.value)
    return blocks


BLOCK_DIMENSIONS: dict[str, tuple[str, ...]] = _block_dimensions()
"""Block name -> the question dimensions it pools, in the upstream's print order."""
QUESTION_BLOCKS: tuple[str, ...] = tuple(BLOCK_DIMENSIONS)
BLOCK_ORDER: tuple[str, ...] = ("generative", *QUESTION_BLOCKS)
"""Every block, in the upstream's print order."""

GENERATIVE_METRICS = ("CHAIR", "Cover", "Hal", "Cog")
DISCRIMINATIVE_METRICS = ("Accuracy", "Precision", "Recall", "F1")
STRICT_EXTRA_METRICS = ("n", "yes_ratio", "parse_failure_rate")
"""What strict blocks add: the item count, the Yes-ratio and the parse-failure rate."""
FRACTION_METRICS = frozenset({"yes_ratio", "parse_failure_rate"})
"""Metrics the score JSON holds as fractions (0..1); tables show them as percentages."""
AMBER_SCORE = "AMBER"
