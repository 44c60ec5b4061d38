"""``amber-eval agree``: how much runs that judged the same questions agree.

Runs over different question sets are compared on the questions every run judged, with a note
of what was left out (as ``compare`` takes the shared images).

For every block (overall, existence, attribute, state, number, action, relation): raw
agreement, Cohen's kappa and Krippendorff's alpha of each pair of runs, and for three or more
runs Fleiss' kappa, Krippendorff's alpha of all runs and the share of questions on which all
agree; each with a bootstrap interval over images (all statistics under the same image
resamples). Then the questions with the most disagreement. Kappa compares the answers as Yes,
No and unparsed; alpha takes an unparsed answer as missing. A statistic that is undefined
(every answer the same category) is reported as undefined.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from amber_eval.amber_images import image_sort_key
from amber_eval.errors import InputError
from amber_eval.registry import Registry
from amber_eval.reporting.run_data import RunData
from amber_eval.scoring.records import question_record
from amber_eval.statistics.agreement import (
    UNDEFINED_SAME,
    alpha_undefined,
    category_index,
    cohen_from_counts,
    coincidence_counts,
    fleiss_counts,
    fleiss_from_counts,
    krippendorff_from_counts,
    pair_counts,
    raw_agreement_from_counts,
)
from amber_eval.statistics.image_bootstrap import (
    DEFAULT_RESAMPLES,
    Interval,
    image_weights,
    interval_over_images,
)
from amber_eval.terms import BLOCK_DIMENSIONS

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine

DEFAULT_TOP = 10


@dataclass(frozen=True)
class Statistic:
    """One agreement figure: its estimate and interval, or the reason it is undefined."""

    interval: Interval
    undefined: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.interval.to_json(), "undefined": self.undefined}


@dataclass(frozen=True)
class PairAgreement:
    a: int
    b: int
    raw: Statistic
    kappa: Statistic
    alpha: Statistic
    """Krippendorff's alpha (nominal; unparsed answers missing)."""


@dataclass(frozen=True)
class BlockAgreement:
    block: str
    n: int
    pairs: tuple[PairAgreement, ...]
    fleiss: Statistic | None
    all_agree: Statistic | None
    alpha: Statistic | None = None
    """Krippendorff's alpha of all runs (three or more)."""


@dataclass(frozen=True)
class Disagreement:
    id: int
    image: str
    dimension: str
    truth: str
    prompt: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class AgreementReport:
    labels: tuple[str, ...]
    images: int
    questions: int
    level: float
    resamples: int
    seed: int | None
    blocks: tuple[BlockAgreement, ...]
    disagreements: tuple[Disagreement, ...]
    disagreed: int = 0
    """Questions not answered alike by every run (``disagreements`` lists the top ones)."""
    notes: tuple[str, ...] = ()
    """Questions left out (not judged by every run), the judges' notes (the alarm)."""


def _statistic(interval: Interval) -> Statistic:
    if interval.estimate is None:
        return Statistic(interval, UNDEFINED_SAME)
    return Statistic(interval)


def shared_answer_sets(
    runs: Sequence[RunData], labels: Sequence[str]
) -> tuple[list[dict[int, AnswerLine]], list[int]]:
    """Each run's answers to the questions every run judged, by id, and how many questions of
    each run are left out (judged by some runs only), as ``compare`` takes the shared images."""
    answers = [{line.id: line for line in run.answers()} for run in runs]
    for run, found in zip(runs, answers, strict=True):
        if not found:
            raise InputError(f"{run.path}: no answers in answers.jsonl")
    shared = set.intersection(*(set(found) for found in answers))
    if not shared:
        raise InputError(
            f"{', '.join(labels)}: no question was judged by every run (different "
            "--limit-images or question sets); agreement needs shared questions"
        )
    left_out = [len(found) - len(shared) for found in answers]
    return [{i: found[i] for i in sorted(shared)} for found in answers], left_out


def agree_runs(
    runs: Sequence[RunData],
    *,
    labels: Sequence[str] | None = None,
    level: float = 95.0,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    top: int = DEFAULT_TOP,
) -> AgreementReport:
    """Agreement of two or more runs over the same questions, per block."""
    if len(runs) < 2:
        raise InputError("agreement needs at least two runs")
    names = list(labels) if labels is not None else [run.default_label for run in runs]
    answers, left_out = shared_answer_sets(runs, names)
    return agreement_of(
        answers,
        names,
        level=level,
        resamples=resamples,
        seed=seed,
        top=top,
        notes=_notes(runs, names, left_out),
    )


def agreement_of(
    answers: Sequence[Mapping[int, AnswerLine]],
    names: Sequence[str],
    *,
    level: float = 95.0,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    top: int = DEFAULT_TOP,
    notes: Sequence[str] = (),
) -> AgreementReport:
    """Agreement of answer sets keyed by question id (each with the same ids), per block;
    ``notes`` go with the report (what was left out, judges that differ)."""
    ids = sorted(answers[0])
    base = answers[0]
    images = sorted({base[i].image for i in ids}, key=image_sort_key)
    position = {image: k for k, image in enumerate(images)}
    weights = image_weights(len(images), resamples, seed)
    labels_by_run = [[question_record(run[i], "strict").parsed for i in ids] for run in answers]
    raters = len(answers)
    pairs = list(itertools.combinations(range(raters), 2))
    disagreements, disagreed = _most_disagreed(ids, answers, labels_by_run, top)
    blocks = []
    for block, dimensions in BLOCK_DIMENSIONS.items():
        chosen = [k for k, i in enumerate(ids) if base[i].dimension in dimensions]
        if not chosen:
            continue
        rows = np.array([position[base[ids[k]].image] for k in chosen])

        def per_image(values: list[np.ndarray], rows: np.ndarray = rows) -> np.ndarray:
            out = np.zeros((len(images), len(values[0])))
            np.add.at(out, rows, np.array(values))
            return out

        pair_results = []
        for a, b in pairs:
            counts = per_image(
                [pair_counts([labels_by_run[a][k]], [labels_by_run[b][k]]) for k in chosen]
            )
            pair_results.append(
                PairAgreement(
                    a,
                    b,
                    _statistic(
                        interval_over_images(
                            counts, raw_agreement_from_counts, weights, level=level
                        )
                    ),
                    _statistic(
                        interval_over_images(counts, cohen_from_counts, weights, level=level)
                    ),
                    _alpha(
                        per_image(
                            [
                                coincidence_counts([[labels_by_run[a][k]], [labels_by_run[b][k]]])
                                for k in chosen
                            ]
                        ),
                        weights,
                        level,
                    ),
                )
            )
        fleiss = all_agree = alpha = None
        if raters >= 3:
            counts = per_image(
                [fleiss_counts([[labels_by_run[r][k]] for r in range(raters)]) for k in chosen]
            )
            fleiss = _statistic(
                interval_over_images(
                    counts, partial(fleiss_from_counts, raters=raters), weights, level=level
                )
            )
            same = per_image(
                [
                    np.array([1.0, float(len({labels_by_run[r][k] for r in range(raters)}) == 1)])
                    for k in chosen
                ]
            )
            all_agree = _statistic(interval_over_images(same, _share, weights, level=level))
            alpha = _alpha(
                per_image(
                    [coincidence_counts([[labels[k]] for labels in labels_by_run]) for k in chosen]
                ),
                weights,
                level,
            )
        blocks.append(
            BlockAgreement(block, len(chosen), tuple(pair_results), fleiss, all_agree, alpha)
        )
    return AgreementReport(
        labels=tuple(names),
        images=len(images),
        questions=len(ids),
        level=level,
        resamples=resamples,
        seed=seed,
        blocks=tuple(blocks),
        disagreements=tuple(disagreements),
        disagreed=disagreed,
        notes=tuple(notes),
    )


def _notes(runs: Sequence[RunData], labels: Sequence[str], left_out: Sequence[int]) -> list[str]:
    from amber_eval.reporting.cautions import judge_notes, left_out_note

    left = left_out_note("questions", left_out, labels)
    return ([left] if left else []) + judge_notes(runs, labels)


def _alpha(counts: np.ndarray, weights: np.ndarray, level: float) -> Statistic:
    """Krippendorff's alpha of per-image coincidence sums, with its interval over images."""
    interval = interval_over_images(counts, krippendorff_from_counts, weights, level=level)
    if interval.estimate is None:
        return Statistic(interval, alpha_undefined(counts.sum(axis=0)))
    return Statistic(interval)


def _share(sums: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            sums[..., 0] > 0, sums[..., 1] / np.where(sums[..., 0] > 0, sums[..., 0], 1), np.nan
        )


def _most_disagreed(
    ids: Sequence[int],
    answers: Sequence[Mapping[int, AnswerLine]],
    labels_by_run: Sequence[Sequence[str]],
    top: int,
) -> tuple[list[Disagreement], int]:
    """The ``top`` questions where the fewest runs share the most common answer, and how many
    questions were not answered alike."""
    scored = []
    for k, question in enumerate(ids):
        column = [labels[k] for labels in labels_by_run]
        counts = np.bincount([category_index(a) for a in column], minlength=3)
        if counts.max() == len(column):
            continue
        scored.append((int(counts.max()), question, k))
    scored.sort()
    out = []
    for _, question, _k in scored[:top]:
        line = answers[0][question]
        out.append(
            Disagreement(
                id=question,
                image=line.image,
                dimension=line.dimension,
                truth=line.truth,
                prompt=line.prompt,
                answers=tuple(run[question].answer for run in answers),
            )
        )
    return out, len(scored)


# --- rendering ------------------------------------------------------------------------------


def _figure(stat: Statistic | None, *, percent: bool = False) -> str:
    if stat is None:
        return "--"
    if stat.undefined is not None:
        return "undefined"
    scale, digits = (100.0, 1) if percent else (1.0, 3)
    estimate = stat.interval.estimate or 0.0
    text = f"{estimate * scale:.{digits}f}"
    if stat.interval.low is not None and stat.interval.high is not None:
        text += (
            f" [{stat.interval.low * scale:.{digits}f}, {stat.interval.high * scale:.{digits}f}]"
        )
    return text


def _rows(report: AgreementReport) -> list[tuple[str, str, str, str, str, str]]:
    """(block, statistic: Cohen or Fleiss, runs, agreement %, kappa, alpha) per table row."""
    rows = []
    for block in report.blocks:
        for pair in block.pairs:
            rows.append(
                (
                    block.block,
                    "Cohen",
                    f"{report.labels[pair.a]} / {report.labels[pair.b]}",
                    _figure(pair.raw, percent=True),
                    _figure(pair.kappa),
                    _figure(pair.alpha),
                )
            )
        if block.fleiss is not None:
            rows.append(
                (
                    block.block,
                    "Fleiss",
                    f"all {len(report.labels)}",
                    _figure(block.all_agree, percent=True),
                    _figure(block.fleiss),
                    _figure(block.alpha),
                )
            )
    return rows


def _note(report: AgreementReport) -> str:
    return (
        f"{report.questions} questions on {report.images} images; brackets: "
        f"{report.level:g}% bootstrap percentile intervals over images ({report.resamples} "
        f"resamples, seed {report.seed}). Agreement: the share of questions answered alike "
        "(for Fleiss: by all runs). Kappa: Yes, No and unparsed answers as three categories; "
        "alpha: Krippendorff's alpha (nominal), an unparsed answer counted as missing. "
        "Undefined: every answer was the same category, so there is no chance agreement to "
        "correct for (alpha: or no question has two readable answers)."
    ) + "".join(f" {note}" for note in report.notes)


def agreement_markdown(report: AgreementReport) -> str:
    from amber_eval.reporting.formats import markdown_escape

    lines = [
        "| Block | Statistic | Runs | Agreement % | Kappa | Alpha |",
        "| :--- | :--- | :--- | ---: | ---: | ---: |",
    ]
    for row in _rows(report):
        lines.append("| " + " | ".join(markdown_escape(cell) for cell in row) + " |")
    lines += ["", markdown_escape(_note(report))]
    if report.disagreements:
        header = " | ".join(markdown_escape(label) for label in report.labels)
        lines += [
            "",
            "Questions with the most disagreement:",
            "",
            f"| id | image | dimension | truth | prompt | {header} |",
            "| ---: | :--- | :--- | :--- | :--- |" + " :--- |" * len(report.labels),
        ]
        for d in report.disagreements:
            cells = [str(d.id), d.image, d.dimension, d.truth, d.prompt, *d.answers]
            lines.append("| " + " | ".join(markdown_escape(c) for c in cells) + " |")
    elif report.disagreed:
        lines += ["", f"{report.disagreed} question(s) were answered differently (none listed)."]
    else:
        lines += ["", "No question was answered differently."]
    return "\n".join(lines) + "\n"


def agreement_latex(report: AgreementReport) -> str:
    from amber_eval.reporting.formats import booktabs_table, tex_escape

    return booktabs_table(
        "agree",
        "lllrrr",
        r"Block & Statistic & Runs & Agreement (\%) & $\kappa$ & $\alpha$",
        [" & ".join(tex_escape(cell) for cell in row) for row in _rows(report)],
        _note(report),
    )


def agreement_json(report: AgreementReport) -> str:
    def stat(value: Statistic | None) -> dict[str, Any] | None:
        return None if value is None else value.to_json()

    data = {
        "runs": list(report.labels),
        "images": report.images,
        "questions": report.questions,
        "ci": {"level": report.level, "resamples": report.resamples, "seed": report.seed},
        "blocks": {
            block.block: {
                "n": block.n,
                "pairs": [
                    {
                        "a": report.labels[pair.a],
                        "b": report.labels[pair.b],
                        "agreement": stat(pair.raw),
                        "cohen_kappa": stat(pair.kappa),
                        "krippendorff_alpha": stat(pair.alpha),
                    }
                    for pair in block.pairs
                ],
                "fleiss_kappa": stat(block.fleiss),
                "all_agree": stat(block.all_agree),
                "krippendorff_alpha": stat(block.alpha),
            }
            for block in report.blocks
        },
        "most_disagreed": [
            {
                "id": d.id,
                "image": d.image,
                "dimension": d.dimension,
                "truth": d.truth,
                "prompt": d.prompt,
                "answers": dict(zip(report.labels, d.answers, strict=True)),
            }
            for d in report.disagreements
        ],
        "disagreed": report.disagreed,
        "notes": list(report.notes),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


AGREEMENT_RENDERERS: Registry[Callable[[AgreementReport], str]] = Registry("format")
AGREEMENT_RENDERERS.add("markdown", agreement_markdown, "Markdown")
AGREEMENT_RENDERERS.add("json", agreement_json, "JSON")
AGREEMENT_RENDERERS.add("latex", agreement_latex, "LaTeX (booktabs)")


def render_agreement(report: AgreementReport, fmt: str) -> str:
    """``report`` in the registered format ``fmt`` (did-you-mean on an unknown name)."""
    return AGREEMENT_RENDERERS.load(fmt)(report)
