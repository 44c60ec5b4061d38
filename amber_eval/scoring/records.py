"""Per-item results: one record per scored response."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from amber_eval.terms import AnswerLabel, Rules, Truth

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine


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


def question_record(line: AnswerLine, rules: Rules) -> QuestionRecord:
    """How a run's answer line reads under ``rules``, with the facts the line carries.

    The id, image, dimension and truth are the line's own (the prompt's, carried from AMBER's
    question); ``raw`` is the response written for it and ``parsed`` its reading under
    ``rules`` (:meth:`AnswerLine.reading`). The run's scores, the bootstrap, the useless-judge
    alarm and the judge checks all read answer lines through here.

    >>> from amber_eval.run_folder.answer_line import AnswerLine
    >>> line = AnswerLine(id=1005, image="AMBER_1.jpg", dimension="existence", truth="no",
    ...                   prompt="Is there a dog?", answer="No, there is not.", parsed="no")
    >>> record = question_record(line, "official")
    >>> record.raw, record.parsed, record.truth, record.correct
    ('No', 'no', 'no', True)
    """
    return QuestionRecord(
        id=line.id,
        image=line.image,
        dimension=line.dimension,
        raw=line.response,
        parsed=line.reading(rules),
        truth=line.truth,
    )
