"""One line of an ``answers.jsonl`` file: a rendered prompt and the judge's answer to it.

``amber-eval ask`` and ``amber-eval run`` write the same line, and every reader (the run's
resume, reports, the bootstrap, the HTML report) reads it through :func:`read_answer_lines`.
A line may grow optional fields later without a format change: readers ignore fields they do
not know, and a field that a line lacks takes its default. A line that lacks a required field,
or holds a wrong type, is an :class:`~amber_eval.errors.InputError` naming the file, the answer
id and the field.

>>> line = AnswerLine(id=1005, image="AMBER_1.jpg", dimension="existence", truth="no",
...                   prompt="Is there a dog?", answer="No", parsed="no")
>>> AnswerLine.from_json(line.to_json(), where="answers.jsonl") == line
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError
from amber_eval.terms import (
    ANSWER_LABELS,
    DIMENSION_NAMES,
    TRUTH_LABELS,
    AnswerLabel,
    Rules,
    Truth,
    decision_text,
    parse_official,
)

if TYPE_CHECKING:
    from amber_eval.judge.base import Answer
    from amber_eval.prompting import PromptRecord


@dataclass(frozen=True)
class AnswerLine:
    """A question as the judge saw it and what the judge answered.

    ``answer`` is the raw answer (the upstream response), ``parsed`` its reading by the strict
    grammar; ``p_yes``, ``margin``, ``token`` and ``flagged`` are the judge's evidence (see
    :class:`amber_eval.judge.Answer`).
    """

    id: int
    image: str
    dimension: str
    truth: Truth
    prompt: str
    answer: str
    parsed: AnswerLabel
    p_yes: float | None = None
    margin: float | None = None
    token: str | None = None
    flagged: bool = False

    @property
    def response(self) -> str:
        """The response this answer stands for in AMBER's format (``{"id", "response"}``): the
        decision, exactly ``Yes`` or ``No``, whatever the answer mode; an answer that reads as
        neither is the raw text (see :func:`amber_eval.terms.decision_text`)."""
        return decision_text(self.parsed, self.answer)

    def reading(self, rules: Rules) -> AnswerLabel:
        """How the answer reads under ``rules``: strict is the stored ``parsed``, official the
        upstream grammar (exactly ``Yes`` or ``No``) of the response written for it."""
        return parse_official(self.response) if rules == "official" else self.parsed

    @classmethod
    def of(cls, prompt: PromptRecord, answer: Answer) -> AnswerLine:
        """The line of ``prompt`` answered by ``answer``."""
        return cls(
            id=prompt.id,
            image=prompt.image,
            dimension=prompt.dimension,
            truth=prompt.truth,  # type: ignore[arg-type]
            prompt=prompt.prompt,
            answer=answer.text,
            parsed=answer.parsed,
            p_yes=answer.p_yes,
            margin=answer.margin,
            token=answer.token,
            flagged=answer.flagged,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str) -> AnswerLine:
        """Read one line; ``where`` names the file in errors."""
        item = data.get("id")
        if isinstance(item, bool) or not isinstance(item, int):
            raise InputError(f"{where}: an answer line without an integer 'id' field: {data!r:.80}")
        place = f"{where}: answer id {item}"
        if "answer" not in data and "text" in data:
            raise InputError(
                f"{place}: field 'answer' is missing (this line has 'text', as amber-eval "
                "versions before answers-line format 1 wrote it); answer the prompts again "
                "with this version"
            )
        values: dict[str, Any] = {"id": item}
        for name, kinds in _FIELD_TYPES.items():
            if name not in data:
                if name in _REQUIRED:
                    raise InputError(f"{place}: required field {name!r} is missing")
                continue
            value = data[name]
            if value is not None and name in ("p_yes", "margin") and isinstance(value, int):
                value = float(value)
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise InputError(f"{place}: field {name!r} has the wrong type ({value!r:.40})")
            values[name] = value
        for name, allowed in (
            ("dimension", DIMENSION_NAMES),
            ("truth", TRUTH_LABELS),
            ("parsed", ANSWER_LABELS),
        ):
            if values[name] not in allowed:
                raise InputError(
                    f"{place}: field {name!r} is {values[name]!r}; expected one of "
                    f"{', '.join(allowed)}"
                )
        return cls(**values)


_NONE = type(None)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "image": (str,),
    "dimension": (str,),
    "truth": (str,),
    "prompt": (str,),
    "answer": (str,),
    "parsed": (str,),
    "p_yes": (float, _NONE),
    "margin": (float, _NONE),
    "token": (str, _NONE),
    "flagged": (bool,),
}
_REQUIRED = frozenset(("image", "dimension", "truth", "prompt", "answer", "parsed"))
ANSWER_FIELDS = tuple(f.name for f in fields(AnswerLine))


def read_answer_lines(path: str | os.PathLike[str], *, repair: bool = False) -> list[AnswerLine]:
    """The complete lines of an ``answers.jsonl`` file, the first line of each id.

    A torn last line (a process killed mid-write) is left out, and with ``repair`` cut off the
    file (only the process that appends may repair); see :func:`amber_eval.io.read_jsonl`.
    """
    from amber_eval.io import read_jsonl

    where = str(Path(path))
    lines: dict[int, AnswerLine] = {}
    for data in read_jsonl(path, repair=repair):
        line = AnswerLine.from_json(data, where=where)
        lines.setdefault(line.id, line)
    return list(lines.values())
