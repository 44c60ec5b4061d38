"""Discriminative scoring (Accuracy, Precision, Recall, F1; the positive class is "No")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

from amber_eval.scoring.records import QuestionRecord
from amber_eval.terms import BLOCK_DIMENSIONS, AnswerLabel

# The upstream's F1 epsilon: 0.001 for existence, 0.0001 everywhere else.
OFFICIAL_EPS = {"existence": 0.001}
DEFAULT_EPS = 0.0001


def discriminative_block_names(eval_type: str) -> tuple[str, ...]:
    """The blocks the upstream prints for ``eval_type`` (overall only for a and d)."""
    de = eval_type in ("a", "d", "de")
    da = eval_type in ("a", "d", "da")
    dr = eval_type in ("a", "d", "dr")
    names: list[str] = []
    if de and da and dr:
        names.append("overall")
    if de:
        names.append("existence")
    if da:
        names += ["attribute", "state", "number", "action"]
    if dr:
        names.append("relation")
    return tuple(names)


@dataclass
class Tally:
    """The upstream's six counters for one set of questions (``*_num`` start at ``start``)."""

    correct_num: float
    correct_score: float = 0
    no_num: float = 0
    no_score: float = 0
    ans_no_num: float = 0
    ans_no_score: float = 0
    n: int = 0
    yes: int = 0
    unknown: int = 0

    @classmethod
    def empty(cls, start: float) -> Tally:
        return cls(correct_num=start, no_num=start, ans_no_num=start)

    def add(self, parsed: AnswerLabel, truth: str) -> None:
        """One answer, counted in the upstream's order of operations."""
        self.n += 1
        self.yes += parsed == "yes"
        self.unknown += parsed == "unknown"
        self.correct_num += 1
        if truth == "yes":
            if parsed == "yes":
                self.correct_score += 1
        else:
            self.no_num += 1
            if parsed == "no":
                self.correct_score += 1
                self.no_score += 1
        if parsed == "no":
            self.ans_no_num += 1
            if truth == "no":
                self.ans_no_score += 1


TALLY_COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(Tally))
"""The counters of a :class:`Tally`, in field order."""


def tallies(records: Iterable[QuestionRecord], *, start: float) -> dict[str, Tally]:
    """One tally per dimension plus ``overall``, filled in record order."""
    result = {name: Tally.empty(start) for name in ("overall", *BLOCK_DIMENSIONS["overall"])}
    for record in records:
        result["overall"].add(record.parsed, record.truth)
        result[record.dimension].add(record.parsed, record.truth)
    return result


def official_metrics(
    correct_score: float,
    correct_num: float,
    ans_no_score: float,
    ans_no_num: float,
    no_score: float,
    no_num: float,
    eps: float,
) -> dict[str, float | None]:
    """The upstream's arithmetic: rounded percentages, F1 from the rounded P and R with eps."""
    accuracy = round(correct_score / correct_num * 100, 1)
    precision = round(ans_no_score / ans_no_num * 100, 1)
    recall = round(no_score / no_num * 100, 1)
    f1 = round(
        2 * (precision / 100) * (recall / 100) / ((precision / 100) + (recall / 100) + eps) * 100,
        1,
    )
    return {"Accuracy": accuracy, "Precision": precision, "Recall": recall, "F1": f1}


def strict_metrics(counts: Tally) -> dict[str, float | None]:
    """Unrounded percentages; an empty denominator is None (n/a); F1 per the strict rules."""
    accuracy = _percent(counts.correct_score, counts.n)
    precision = _percent(counts.ans_no_score, counts.ans_no_num)
    recall = _percent(counts.no_score, counts.no_num)
    f1: float | None
    if precision is None or recall is None:
        f1 = None
    elif precision == 0 or recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return {
        "Accuracy": accuracy,
        "Precision": precision,
        "Recall": recall,
        "F1": f1,
        "n": counts.n,
        "yes_ratio": None if counts.n == 0 else counts.yes / counts.n,
        "parse_failure_rate": None if counts.n == 0 else counts.unknown / counts.n,
    }


def _percent(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator * 100


def _pooled(parts: Sequence[Tally]) -> Tally:
    pooled = Tally.empty(0)
    for part in parts:
        for name in TALLY_COUNTERS:
            setattr(pooled, name, getattr(pooled, name) + getattr(part, name))
    return pooled


def tally_start(rules: str) -> float:
    """Where the ``*_num`` counters start: the upstream's 0.001 (official), else 0."""
    return 0.001 if rules == "official" else 0


def discriminative_blocks(
    records: Sequence[QuestionRecord], *, eval_type: str, rules: str
) -> dict[str, dict[str, float | None]]:
    """The discriminative blocks of ``eval_type`` over ``records`` (every record counts)."""
    return blocks_from_tallies(
        tallies(records, start=tally_start(rules)), eval_type=eval_type, rules=rules
    )


def blocks_from_tallies(
    counts: Mapping[str, Tally], *, eval_type: str, rules: str
) -> dict[str, dict[str, float | None]]:
    """The discriminative blocks of ``eval_type`` from the tallies of ``overall`` and of each
    dimension: the one aggregation of ``metrics.json`` and of the bootstrap's resamples."""
    official = rules == "official"
    blocks: dict[str, dict[str, float | None]] = {}
    for name in discriminative_block_names(eval_type):
        dims = BLOCK_DIMENSIONS[name]
        if name == "overall":
            tally = counts["overall"]
        elif len(dims) == 1:
            tally = counts[dims[0]]
        else:
            parts = [counts[d] for d in dims]
            if official:
                # The attribute block sums the three float counters: state + number + action.
                blocks[name] = official_metrics(
                    parts[0].correct_score + parts[1].correct_score + parts[2].correct_score,
                    parts[0].correct_num + parts[1].correct_num + parts[2].correct_num,
                    parts[0].ans_no_score + parts[1].ans_no_score + parts[2].ans_no_score,
                    parts[0].ans_no_num + parts[1].ans_no_num + parts[2].ans_no_num,
                    parts[0].no_score + parts[1].no_score + parts[2].no_score,
                    parts[0].no_num + parts[1].no_num + parts[2].no_num,
                    DEFAULT_EPS,
                )
                continue
            tally = _pooled(parts)
        if official:
            blocks[name] = official_metrics(
                tally.correct_score,
                tally.correct_num,
                tally.ans_no_score,
                tally.ans_no_num,
                tally.no_score,
                tally.no_num,
                OFFICIAL_EPS.get(name, DEFAULT_EPS),
            )
        else:
            blocks[name] = strict_metrics(tally)
    return blocks
