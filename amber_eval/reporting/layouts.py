"""Table layouts: which metric columns a table shows, grouped under which headers.

A column is named by its key ``"<block>.<metric>"``: the block and metric names of a
``ScoreResult`` (``overall.F1``, ``generative.CHAIR``, ...), plus ``score.AMBER`` for the AMBER
score, which the score JSON keeps at its top level.
"""

from __future__ import annotations

from dataclasses import dataclass

from amber_eval.registry import Registry
from amber_eval.terms import DISCRIMINATIVE_METRICS, GENERATIVE_METRICS, QUESTION_BLOCKS

#: Metrics where a lower value is better (bold marks the minimum).
LOWER_IS_BETTER = frozenset({"CHAIR", "Hal", "Cog"})
#: Metrics that describe a run rather than rank it (never bold).
DESCRIPTIVE = frozenset({"n", "yes_ratio", "parse_failure_rate"})

SHORT_HEADERS = {
    "Accuracy": "Acc",
    "Precision": "P",
    "Recall": "R",
    "F1": "F1",
    "CHAIR": "CHAIR",
    "Cover": "Cover",
    "Hal": "Hal",
    "Cog": "Cog",
    "AMBER": "AMBER",
    "n": "n",
    "yes_ratio": "Yes%",
    "parse_failure_rate": "Unparsed%",
}

BLOCK_TITLES = {
    "generative": "Generative",
    "overall": "Overall",
    "existence": "Existence",
    "attribute": "Attribute",
    "state": "State",
    "number": "Number",
    "action": "Action",
    "relation": "Relation",
    "score": "AMBER",
}

PRF = ("Precision", "Recall", "F1")
APRF = DISCRIMINATIVE_METRICS


@dataclass(frozen=True)
class Column:
    """One metric column of a table."""

    block: str
    metric: str
    group: str
    """Grouped header above the column; empty when the column stands alone."""

    @property
    def key(self) -> str:
        return f"{self.block}.{self.metric}"

    @property
    def header(self) -> str:
        return SHORT_HEADERS.get(self.metric, self.metric)

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    @property
    def ranked(self) -> bool:
        """Whether a best value exists (bold) for this column."""
        return self.metric not in DESCRIPTIVE

    @property
    def is_count(self) -> bool:
        return self.metric == "n"


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)


def _group(block: str, metrics: tuple[str, ...], title: str | None = None) -> list[Column]:
    group = BLOCK_TITLES[block] if title is None else title
    return [Column(block, metric, group) for metric in metrics]


def _build() -> tuple[Layout, ...]:
    attribute = Layout(
        "attribute",
        "the CRTNet supplement's Table 1: Attribute, State, Number, Action P/R/F1",
        tuple(
            column
            for block in ("attribute", "state", "number", "action")
            for column in _group(block, PRF)
        ),
    )
    expressiveness = Layout(
        "expressiveness",
        "Cover, Existence P/R/F1, Attribute P/R/F1",
        (
            Column("generative", "Cover", ""),
            *_group("existence", PRF),
            *_group("attribute", PRF),
        ),
    )
    amber = Layout(
        "amber",
        "the AMBER paper's main table: CHAIR, Cover, Hal, Cog, Acc, P, R, F1, AMBER score",
        (
            *_group("generative", GENERATIVE_METRICS),
            *_group("overall", APRF, "Discriminative"),
            Column("score", "AMBER", ""),
        ),
    )
    full = Layout(
        "full",
        "generative metrics, AMBER score, and every dimension with Acc/P/R/F1, n, "
        "Yes-ratio and parse failures",
        (
            *_group("generative", GENERATIVE_METRICS),
            Column("score", "AMBER", ""),
            *(
                column
                for block in QUESTION_BLOCKS
                for column in _group(block, (*APRF, "n", "yes_ratio", "parse_failure_rate"))
            ),
        ),
    )
    return (attribute, expressiveness, amber, full)


LAYOUTS: Registry[Layout] = Registry("layout")
for _layout in _build():
    LAYOUTS.add(_layout.name, _layout, _layout.description)
LAYOUT_NAMES = tuple(LAYOUTS.names())


def get_layout(name: str) -> Layout:
    """The layout ``name`` (did-you-mean on an unknown name)."""
    return LAYOUTS.load(name)
