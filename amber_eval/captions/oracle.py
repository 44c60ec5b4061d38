"""The ``oracle`` captioner: region captions built from AMBER's own annotations.

It needs no images, so the whole pipeline runs anywhere, and it measures the judge's own error:
with captions that state the truth, every wrong answer is the judge's. Per image, in this
order, exact duplicates dropped:

1. ``a <obj>`` for each object of the image's generative truth list;
2. in question-id order, one caption per Yes/No question whose truth is "yes", by template:

   ============  ======================================================  ==========================
   dimension     question                                                caption
   ============  ======================================================  ==========================
   state         ``Is the <obj> <state> in this image?``                 ``the <obj> is <state>``
   number        ``Are there <n> <objs> in this image?``                 ``<n> <objs>``
   number        ``Is there one <obj> in this image?``                   ``one <obj>``
   action        ``Does the <obj> <verb phrase> in this image?``         ``the <obj> does <verb
                                                                         phrase>``
   relation      ``Is there direct contact between the <a> and <b>?``    ``the <a> is in direct
                                                                         contact with the <b>``
   ============  ======================================================  ==========================

A yes-question that matches no template is counted and listed in the :class:`OracleReport`,
never silently dropped. Existence questions are all "no", so they add nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amber_eval.captions.records import (
    ORACLE,
    CaptionDump,
    CaptionerInfo,
    DumpHeader,
    ImageCaptions,
    Region,
)
from amber_eval.data.benchmark import Dimension

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark, Question

ORACLE_VERSION = "1"
MAX_EXAMPLES = 10


@dataclass(frozen=True)
class OracleTemplate:
    """A question pattern of one dimension and the caption it becomes."""

    dimension: Dimension
    pattern: re.Pattern[str]
    caption: str  # str.format template over the pattern's named groups

    def apply(self, question: str) -> str | None:
        match = self.pattern.fullmatch(question)
        return None if match is None else self.caption.format(**match.groupdict())


# Objects are single words in AMBER's questions (plurals in number questions).
TEMPLATES: tuple[OracleTemplate, ...] = (
    OracleTemplate(
        Dimension.STATE,
        re.compile(r"Is the (?P<obj>\S+) (?P<state>.+) in this image\?"),
        "the {obj} is {state}",
    ),
    OracleTemplate(
        Dimension.NUMBER,
        re.compile(r"Are there (?P<n>\S+) (?P<objs>\S+) in this image\?"),
        "{n} {objs}",
    ),
    OracleTemplate(
        Dimension.NUMBER,
        re.compile(r"Is there one (?P<obj>\S+) in this image\?"),
        "one {obj}",
    ),
    OracleTemplate(
        Dimension.ACTION,
        re.compile(r"Does the (?P<obj>\S+) (?P<verb>.+) in this image\?"),
        "the {obj} does {verb}",
    ),
    OracleTemplate(
        Dimension.RELATION,
        re.compile(r"Is there direct contact between the (?P<a>\S+) and (?P<b>\S+)\?"),
        "the {a} is in direct contact with the {b}",
    ),
)


def caption_for(question: Question) -> str | None:
    """The oracle caption of a yes-question, or None when no template of its dimension fits."""
    text = question.text.strip()
    for template in TEMPLATES:
        if template.dimension is question.dimension:
            caption = template.apply(text)
            if caption is not None:
                return caption
    return None


@dataclass(frozen=True)
class UnmatchedQuestion:
    id: int
    image: str
    dimension: str
    text: str


@dataclass(frozen=True)
class OracleReport:
    """How many yes-questions matched a template, per dimension, with unmatched examples."""

    yes_questions: int
    matched: int
    by_dimension: dict[str, tuple[int, int]]  # dimension -> (matched, yes-questions)
    unmatched: tuple[UnmatchedQuestion, ...]
    truth_captions: int
    question_captions: int
    duplicates_dropped: int

    @property
    def unmatched_count(self) -> int:
        return self.yes_questions - self.matched

    def to_json(self, max_examples: int = MAX_EXAMPLES) -> dict[str, Any]:
        return {
            "yes_questions": self.yes_questions,
            "matched": self.matched,
            "unmatched": self.unmatched_count,
            "by_dimension": {
                name: {"matched": m, "yes_questions": n}
                for name, (m, n) in self.by_dimension.items()
            },
            "unmatched_examples": [
                {"id": q.id, "image": q.image, "dimension": q.dimension, "question": q.text}
                for q in self.unmatched[:max_examples]
            ],
            "captions": {
                "truth_objects": self.truth_captions,
                "from_questions": self.question_captions,
                "duplicates_dropped": self.duplicates_dropped,
            },
        }

    def summary(self) -> str:
        lines = [
            f"oracle templates matched {self.matched} of {self.yes_questions} yes-questions"
            + ("" if not self.unmatched_count else f" ({self.unmatched_count} unmatched)")
        ]
        for name, (matched, total) in self.by_dimension.items():
            lines.append(f"  {name}: {matched}/{total}")
        for q in self.unmatched[:MAX_EXAMPLES]:
            lines.append(f"  unmatched {q.id} ({q.dimension}, {q.image}): {q.text}")
        return "\n".join(lines)


def oracle_header() -> DumpHeader:
    from amber_eval import __version__
    from amber_eval.data.manifest import UPSTREAM_COMMIT

    return DumpHeader(
        CaptionerInfo(
            name=ORACLE,
            version=ORACLE_VERSION,
            settings={
                "source": "AMBER annotations",
                "amber_commit": UPSTREAM_COMMIT,
                "amber_eval": __version__,
            },
        )
    )


def _add(regions: dict[str, Region], caption: str, label: str | None) -> bool:
    """Add a caption unless the image already has it; True when added."""
    if caption in regions:
        return False
    regions[caption] = Region(caption=caption, label=label)
    return True


def oracle_dump(benchmark: Benchmark) -> tuple[CaptionDump, OracleReport]:
    """The oracle captions of all 1,004 images and the template-match report."""
    by_dimension: dict[str, list[int]] = {}
    unmatched: list[UnmatchedQuestion] = []
    entries: list[ImageCaptions] = []
    truth_captions = question_captions = duplicates = 0
    questions_by_image = benchmark.questions_by_image
    for item in benchmark.generative.values():
        regions: dict[str, Region] = {}
        for obj in item.truth:
            if _add(regions, f"a {obj}", obj):
                truth_captions += 1
            else:
                duplicates += 1
        for question in questions_by_image.get(item.image, ()):
            if not question.truth:
                continue
            counts = by_dimension.setdefault(question.dimension.value, [0, 0])
            counts[1] += 1
            caption = caption_for(question)
            if caption is None:
                unmatched.append(
                    UnmatchedQuestion(
                        question.id, question.image, question.dimension.value, question.text
                    )
                )
                continue
            counts[0] += 1
            if _add(regions, caption, None):
                question_captions += 1
            else:
                duplicates += 1
        entries.append(ImageCaptions(item.image, None, None, tuple(regions.values())))
    ordered = {d.value: by_dimension[d.value] for d in Dimension if d.value in by_dimension}
    report = OracleReport(
        yes_questions=sum(n for _, n in ordered.values()),
        matched=sum(m for m, _ in ordered.values()),
        by_dimension={name: (m, n) for name, (m, n) in ordered.items()},
        unmatched=tuple(unmatched),
        truth_captions=truth_captions,
        question_captions=question_captions,
        duplicates_dropped=duplicates,
    )
    return CaptionDump(header=oracle_header(), images=tuple(entries)), report
