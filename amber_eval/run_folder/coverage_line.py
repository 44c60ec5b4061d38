"""One line of a run folder's ``coverage.jsonl``: an image's description scored under a rule set.

The run writes each image's caption description twice, scored under the strict rules and under
the official ones, and every reader (the bootstrap, compare, the HTML report) reads the file
through :func:`amber_eval.run_folder.files.read_coverage_lines`. A line keeps all of scoring's
:class:`~amber_eval.scoring.records.DescriptionRecord` (nouns, covered objects ...) plus
``description`` and ``rules``; readers take the counts behind CHAIR, Cover, Hal and Cog and
ignore the fields they do not use. A line without ``rules`` was written before the rules were
recorded and counts as strict (a field that a line lacks takes its default). A line that lacks
a count, or holds a wrong type, is an :class:`~amber_eval.errors.InputError` naming the file,
the image and the field.

>>> line = CoverageLine(image="AMBER_1.jpg", chair_score=1, chair_num=4, cover_score=2,
...                     cover_num=3, cog_score=0, cog_num=2, hallucination_free=False,
...                     rules="official", description="a dog, grass.")
>>> CoverageLine.from_json(line.to_json(), where="coverage.jsonl") == line
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError
from amber_eval.terms import RULES, Rules

if TYPE_CHECKING:
    from amber_eval.scoring.records import DescriptionRecord

#: The counts of one description that its metrics are summed from.
DESCRIPTION_COUNTS = (
    "chair_score",
    "chair_num",
    "cover_score",
    "cover_num",
    "cog_score",
    "cog_num",
)


@dataclass(frozen=True)
class CoverageLine:
    """The counts of one image's description under ``rules`` (see :class:`DescriptionRecord`)."""

    image: str
    chair_score: int
    chair_num: int
    cover_score: int
    cover_num: int
    cog_score: int
    cog_num: int
    hallucination_free: bool
    rules: Rules = "strict"
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str) -> CoverageLine:
        """Read one line; ``where`` names the file in errors."""
        image = data.get("image")
        if not isinstance(image, str):
            raise InputError(
                f"{where}: a coverage line without a string 'image' field: {data!r:.80}"
            )
        place = f"{where}: image {image}"
        values: dict[str, Any] = {"image": image}
        for name in DESCRIPTION_COUNTS:
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{place}: field {name!r} must be an integer, not {value!r:.40}")
            values[name] = value
        free = data.get("hallucination_free")
        if not isinstance(free, bool):
            raise InputError(f"{place}: field 'hallucination_free' must be true or false")
        values["hallucination_free"] = free
        rules = data.get("rules", "strict")
        if rules not in RULES:
            raise InputError(
                f"{place}: field 'rules' is {rules!r}; expected one of strict, official"
            )
        values["rules"] = rules
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            raise InputError(f"{place}: field 'description' must be a string")
        values["description"] = description
        return cls(**values)


def coverage_json(record: DescriptionRecord, *, rules: Rules, description: str) -> dict[str, Any]:
    """The line written for ``record``: all of the record, its description and its rules."""
    return {**record.to_json(), "description": description, "rules": rules}
