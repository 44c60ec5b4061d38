"""``amber-eval judge-check``: the judge's ceiling, measured on the oracle captions.

The oracle captions are built from AMBER's annotations, so a perfect judge would answer every
question right; whatever the judge gets wrong on them is the judge's own error. The check is a
normal run (same pipeline, same answer store) with ``--captions oracle``, and its judge card
(``judge-card.json`` and ``judge-card.md`` in the run folder) gives per block: accuracy, P/R/F1,
Yes-ratio, parse failures, the share of flagged answers and, in score mode, the ROC AUC of
P(yes) and its expected calibration error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError
from amber_eval.reporting.run_data import RunData, load_run
from amber_eval.run_folder.config import ORACLE, RunConfig
from amber_eval.scoring.records import question_record
from amber_eval.statistics.calibration import expected_calibration_error, roc_auc
from amber_eval.terms import BLOCK_DIMENSIONS

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine

CARD_FORMAT = "amber-eval/judge-card"
CARD_VERSION = 1
CARD_JSON = "judge-card.json"
CARD_MARKDOWN = "judge-card.md"


@dataclass(frozen=True)
class BlockCard:
    """The judge's figures on one block of questions."""

    block: str
    n: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    yes_ratio: float | None
    parse_failures: int
    flagged: float | None
    """The share of answers the judge flagged (no Yes/No start, or a near-tie)."""
    auc: float | None
    """ROC AUC of P(yes) for the truth Yes (score mode; None when undefined)."""
    ece: float | None
    """Expected calibration error of P(yes), 10 bins (score mode)."""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class JudgeCard:
    """What ``judge-check`` measured for one judge."""

    judge: str
    identity: Mapping[str, Any]
    mode: str
    images: int
    questions: int
    run: str
    """The run folder the card was computed from."""
    blocks: tuple[BlockCard, ...]
    warnings: tuple[str, ...] = ()

    def block(self, name: str) -> BlockCard:
        for card in self.blocks:
            if card.block == name:
                return card
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CARD_FORMAT,
            "version": CARD_VERSION,
            "judge": self.judge,
            "identity": dict(self.identity),
            "mode": self.mode,
            "images": self.images,
            "questions": self.questions,
            "run": self.run,
            "blocks": {card.block: card.to_json() for card in self.blocks},
            "warnings": list(self.warnings),
        }


def _block_card(
    name: str, lines: Sequence[AnswerLine], strict: Mapping[str, Any], mode: str
) -> BlockCard:
    dimensions = BLOCK_DIMENSIONS[name]
    inside = [line for line in lines if line.dimension in dimensions]
    read = [question_record(line, "strict") for line in inside]
    n = len(inside)
    p_yes = [line.p_yes for line in inside if line.p_yes is not None]
    use_p = mode == "score" and bool(p_yes) and len(p_yes) == n
    truth = [record.truth == "yes" for record in read]
    found = strict.get(name)
    block: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    return BlockCard(
        block=name,
        n=n,
        accuracy=block.get("Accuracy"),
        precision=block.get("Precision"),
        recall=block.get("Recall"),
        f1=block.get("F1"),
        yes_ratio=None if n == 0 else sum(record.parsed == "yes" for record in read) / n,
        parse_failures=sum(record.parsed == "unknown" for record in read),
        flagged=None if n == 0 else sum(line.flagged for line in inside) / n,
        auc=roc_auc(p_yes, truth) if use_p else None,
        ece=expected_calibration_error(p_yes, truth) if use_p else None,
    )


def judge_card(run: RunData) -> JudgeCard:
    """The judge card of a finished run on the oracle captions."""
    captions = run.record.config.captions
    if captions != ORACLE:
        raise InputError(
            f"{run.path}: judged captions {captions}, not the oracle captions; the judge's "
            "ceiling needs a run with --captions oracle (amber-eval judge-check makes one)"
        )
    lines = run.answers()
    if not lines:
        raise InputError(f"{run.path}: no answers in answers.jsonl")
    strict: Mapping[str, Any] = run.metrics.strict or {}
    mode = run.record.config.answer_mode
    fingerprint = run.record.fingerprint
    return JudgeCard(
        judge=run.llm,
        identity={} if fingerprint is None else dict(fingerprint.judge_identity),
        mode=mode,
        images=len({line.image for line in lines}),
        questions=len(lines),
        run=str(run.path),
        blocks=tuple(_block_card(name, lines, strict, mode) for name in BLOCK_DIMENSIONS),
        warnings=tuple(w.message for w in run.judge_warnings()),
    )


def _cell(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "--" if value is None else f"{value * scale:.{digits}f}"


def card_markdown(card: JudgeCard) -> str:
    """The card as Markdown: one row per block."""
    from amber_eval.reporting.formats import markdown_escape

    lines = [
        f"# Judge card: {markdown_escape(card.judge)}",
        "",
        f"The judge's answers on the oracle captions (built from AMBER's annotations: a perfect "
        f"judge is right on every question), {card.questions} questions on {card.images} "
        f"images, {card.mode} mode. Accuracy, P/R/F1 (class No) and Yes% in percent; AUC and "
        "ECE of P(yes) (score mode only; `--` where undefined).",
        "",
        "| Block | n | Acc | P | R | F1 | Yes% | Unparsed | Flagged% | AUC | ECE |",
        "| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for b in card.blocks:
        lines.append(
            f"| {b.block} | {b.n} | {_cell(b.accuracy)} | {_cell(b.precision)} | "
            f"{_cell(b.recall)} | {_cell(b.f1)} | {_cell(b.yes_ratio, 100)} | "
            f"{b.parse_failures} | {_cell(b.flagged, 100)} | {_cell(b.auc, digits=3)} | "
            f"{_cell(b.ece, digits=3)} |"
        )
    if card.warnings:
        lines += ["", "**Warning: this judge looks useless.**", ""]
        lines += [f"- {markdown_escape(message)}" for message in card.warnings]
    return "\n".join(lines) + "\n"


def write_card(card: JudgeCard, folder: Path) -> tuple[Path, Path]:
    """``judge-card.json`` and ``judge-card.md`` in ``folder``, atomically."""
    from amber_eval.io import atomic_write_text

    paths = (folder / CARD_JSON, folder / CARD_MARKDOWN)
    atomic_write_text(paths[0], json.dumps(card.to_json(), indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(paths[1], card_markdown(card))
    return paths


def judge_check(config: RunConfig, *, judge: Any = None) -> JudgeCard:
    """Run (or resume) ``config``'s judge on the oracle captions and write its judge card."""
    from amber_eval.reporting.run_outputs import write_run_outputs
    from amber_eval.runs.pipeline import run_evaluation

    oracle = replace(config, captions=ORACLE, model=config.model or ORACLE)
    result = run_evaluation(oracle, judge=judge)
    write_run_outputs(result.folder)
    card = judge_card(load_run(result.folder))
    write_card(card, result.folder)
    return card


def ceiling_run(path: str | Path) -> RunData:
    """The judge-check run of a judge card file or a run folder (for ``--with-ceiling``)."""
    given = Path(path)
    folder = given.parent if given.is_file() else given
    if given.is_file():
        try:
            data = json.loads(given.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{given}: not a judge card ({exc})") from exc
        if not isinstance(data, Mapping) or data.get("format") != CARD_FORMAT:
            raise InputError(
                f"{given}: not a judge card (its format is not {CARD_FORMAT!r}); give the "
                "judge-card.json that amber-eval judge-check wrote, or its run folder"
            )
    run = load_run(folder)
    judge_card(run)  # refuses a run on other captions
    return run
