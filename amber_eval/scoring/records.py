"""Per-item results: one record per scored response."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from amber_eval.terms import AnswerLabel, Truth


@dataclass(frozen=True)
class DescriptionRecord:
    """How one description was scored.

    ``nouns`` are the vocabulary nouns kept (in order, repeats kept); ``skipped`` the safe-word
    nouns; ``covered`` maps a noun to the truth object it covered; ``cog`` lists the
    hallucination objects whose flag was set; ``hallucinated`` the hallucinated mentions.
    """

    id: int
    image: str
    nouns: tuple[str, ...]
    skipped: tuple[str, ...]
    covered: dict[str, str]
    cog: tuple[str, ...]
    hallucinated: tuple[str, ...]
    chair_score: int
    chair_num: int
    cover_score: int
    cover_num: int
    cog_score: int
    cog_num: int
    hallucination_free: bool
    kind: Literal["description"] = "description"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("nouns", "skipped", "cog", "hallucinated"):
            data[key] = list(data[key])
        return data


@dataclass(frozen=True)
class QuestionRecord:
    """How one Yes/No answer was read: ``parsed`` is yes/no/unknown, ``truth`` yes/no."""

    id: int
    image: str
    dimension: str
    raw: str
    parsed: AnswerLabel
    truth: Truth
    kind: Literal["question"] = "question"

    @property
    def correct(self) -> bool:
        return self.parsed == self.truth

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ItemRecord = DescriptionRecord | QuestionRecord
