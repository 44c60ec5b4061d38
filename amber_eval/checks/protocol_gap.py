"""``amber-eval protocol-gap``: the CRTNet protocol's own error, measured on an MLLM.

A region-caption model is scored through a text-only judge, while the MLLMs it is compared with
answer AMBER's Yes/No questions themselves. Running the protocol on an MLLM's own descriptions
(its generative responses, cut into captions) and comparing, question by question, with the
same MLLM's direct answers measures what the protocol adds: the same model, the same questions,
two ways of answering.

:func:`protocol_gap` imports the descriptions as a caption dump
(:func:`amber_eval.segmenter.importing.import_descriptions`), judges them through the normal run
machinery and answer store (:func:`amber_eval.runs.pipeline.run_evaluation`), scores the direct
answers into a run folder of their own (:func:`amber_eval.runs.response_run.score_response_run`),
and compares the two runs with :func:`gap_of_runs`: per block, both sides' strict Accuracy,
Precision, Recall and F1 on the questions both answered, their paired difference (protocol -
direct) with a bootstrap interval over images (both resampled with the same images, through
scoring's own aggregation), the agreement, kappa and alpha between the two
(:func:`amber_eval.checks.agreement_report.agreement_of`), and the questions they answer
differently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from amber_eval.checks.agreement_report import (
    DEFAULT_TOP,
    AgreementReport,
    agreement_json,
    agreement_latex,
    agreement_markdown,
    agreement_of,
)
from amber_eval.errors import InputError
from amber_eval.registry import Registry
from amber_eval.reporting.bootstrap import (
    DEFAULT_RESAMPLES,
    Interval,
    image_counts,
    paired_difference,
)
from amber_eval.terms import BLOCK_DIMENSIONS, QUESTION_BLOCKS

if TYPE_CHECKING:
    from amber_eval.judge.base import Judge
    from amber_eval.reporting.run_data import RunData
    from amber_eval.run_folder.config import RunConfig

GAP_METRICS = ("Accuracy", "Precision", "Recall", "F1")
PROTOCOL, DIRECT = "protocol", "direct"


@dataclass(frozen=True)
class GapRow:
    """One block's metric: the protocol's figure, the direct answers', and protocol - direct."""

    block: str
    metric: str
    protocol: float | None
    direct: float | None
    difference: Interval


@dataclass(frozen=True)
class ProtocolGap:
    model: str
    judge: str
    protocol_run: str
    direct_run: str
    images: int
    questions: int
    only_protocol: int
    """Questions only the protocol run answered (left out)."""
    only_direct: int
    """Questions only the direct answers hold (left out)."""
    level: float
    resamples: int
    seed: int | None
    rows: tuple[GapRow, ...]
    agreement: AgreementReport
    alarm: tuple[str, ...] = ()
    """The useless-judge alarm's short notes for the protocol run (empty when silent)."""


def descriptions_dump(out: Path, model: str, descriptions: Path, split: str) -> Path:
    """The caption dump of ``descriptions`` in ``<out>/<model>/descriptions-<split>.jsonl``:
    imported once, and imported again only when the descriptions file changed (so the same
    descriptions give the same dump, and the same run folder)."""
    from amber_eval.captions.dump import read_dump
    from amber_eval.io import sha256_file
    from amber_eval.run_folder.files import model_results_dir
    from amber_eval.segmenter.importing import import_descriptions

    target = model_results_dir(out, model) / f"descriptions-{split}.jsonl"
    if target.is_file():
        try:
            settings = read_dump(target).header.captioner.settings
        except InputError:  # a damaged earlier import: made again below
            settings = {}
        if settings.get("source_sha256") == sha256_file(descriptions) and (
            settings.get("split") == split
        ):
            return target
    import_descriptions(descriptions, target, split=split, name=model)  # type: ignore[arg-type]
    return target


def protocol_gap(
    descriptions: str | Path,
    answers: str | Path,
    config: RunConfig,
    *,
    judge: Judge | None = None,
    split: str = "sentence",
    level: float = 95.0,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    top: int = DEFAULT_TOP,
) -> ProtocolGap:
    """Run the protocol on ``descriptions`` (the MLLM's generative response file) with
    ``config``'s judge and compare it with ``answers`` (its Yes/No response file).

    ``config.model`` names the MLLM (the model folder of both runs); ``config.captions`` is
    replaced by the imported descriptions. ``judge`` (a loaded judge, e.g. a mock) overrides
    ``config.llm``'s loading.
    """
    from amber_eval.reporting.run_data import load_run
    from amber_eval.runs.pipeline import run_evaluation
    from amber_eval.runs.response_run import score_response_run

    if not config.model:
        raise InputError("protocol-gap needs the MLLM's name (--model NAME)")
    # both files are read before the judge runs: a bad one fails before any judge work
    dump = descriptions_dump(Path(config.out), config.model, Path(descriptions), split)
    direct = score_response_run(
        [answers],
        model=config.model,
        out=config.out,
        spacy_model=config.spacy_model,
        data_dir=config.data_dir,
        allow_partial=True,
    )
    protocol = run_evaluation(replace(config, captions=str(dump)), judge=judge)
    return gap_of_runs(
        load_run(protocol.folder),
        load_run(direct.folder),
        level=level,
        resamples=resamples,
        seed=seed,
        top=top,
    )


def gap_of_runs(
    protocol: RunData,
    direct: RunData,
    *,
    level: float = 95.0,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    top: int = DEFAULT_TOP,
) -> ProtocolGap:
    """The gap between a protocol run and a run of the same model's direct answers, on the
    questions both answered (strict rules)."""
    by_protocol = {line.id: line for line in protocol.answers()}
    by_direct = {line.id: line for line in direct.answers()}
    shared = sorted(set(by_protocol) & set(by_direct))
    if not shared:
        raise InputError(
            f"{protocol.path} and {direct.path} share no question: the direct answers must "
            "cover the images the protocol judged"
        )
    sides = [{i: by_protocol[i] for i in shared}, {i: by_direct[i] for i in shared}]
    counts = [image_counts(side.values(), rules="strict") for side in sides]
    comparison = paired_difference(
        counts[0], counts[1], resamples=resamples, seed=seed, level=level
    )
    rows = tuple(
        GapRow(
            block=block,
            metric=metric,
            protocol=comparison.a.get(f"{block}.{metric}"),
            direct=comparison.b.get(f"{block}.{metric}"),
            difference=comparison.difference[f"{block}.{metric}"],
        )
        for block in QUESTION_BLOCKS
        for metric in GAP_METRICS
        if any(line.dimension in BLOCK_DIMENSIONS[block] for line in sides[0].values())
    )
    agreement = agreement_of(
        sides, (PROTOCOL, DIRECT), level=level, resamples=resamples, seed=seed, top=top
    )
    return ProtocolGap(
        model=direct.model,
        judge=protocol.llm,
        protocol_run=str(protocol.path),
        direct_run=str(direct.path),
        images=comparison.images,
        questions=len(shared),
        only_protocol=len(by_protocol) - len(shared),
        only_direct=len(by_direct) - len(shared),
        level=level,
        resamples=resamples,
        seed=seed,
        rows=rows,
        agreement=agreement,
        alarm=tuple(warning.short for warning in protocol.judge_warnings()),
    )


# --- rendering ------------------------------------------------------------------------------


def _number(value: float | None, sign: str = "") -> str:
    return "n/a" if value is None else f"{value:{sign}.1f}"


def _difference(interval: Interval) -> str:
    text = _number(interval.estimate, "+")
    if interval.low is not None and interval.high is not None:
        text += f" [{interval.low:+.1f}, {interval.high:+.1f}]"
    return text


def _cells(gap: ProtocolGap) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            row.block,
            row.metric,
            _number(row.protocol),
            _number(row.direct),
            _difference(row.difference),
        )
        for row in gap.rows
    ]


def _note(gap: ProtocolGap) -> str:
    left = ""
    if gap.only_protocol or gap.only_direct:
        left = (
            f" Left out: {gap.only_protocol} questions only the protocol run answered, "
            f"{gap.only_direct} only the direct answers hold."
        )
    return (
        f"{gap.model}: the CRTNet protocol on its own descriptions (judge {gap.judge}) against "
        f"its direct Yes/No answers, on the {gap.questions} questions of {gap.images} images "
        f"both answered; strict scores, unparsed answers counted wrong. Protocol - direct with "
        f"{gap.level:g}% bootstrap percentile intervals over images ({gap.resamples} "
        f"resamples, seed {gap.seed}); both sides resampled with the same images.{left}"
        + (
            f" The judge raised the useless-judge alarm ({'; '.join(gap.alarm)}): this gap "
            "is the judge's bias, not the protocol's."
            if gap.alarm
            else ""
        )
    )


def gap_markdown(gap: ProtocolGap) -> str:
    from amber_eval.reporting.formats import markdown_escape

    lines = [
        "| Block | Metric | Protocol | Direct | Protocol - direct |",
        "| :--- | :--- | ---: | ---: | ---: |",
    ]
    for cells in _cells(gap):
        lines.append("| " + " | ".join(markdown_escape(cell) for cell in cells) + " |")
    lines += [
        "",
        markdown_escape(_note(gap)),
        "",
        "Agreement between the protocol's and the direct answers:",
        "",
        agreement_markdown(gap.agreement).rstrip("\n"),
        "",
        f"Protocol run: {markdown_escape(gap.protocol_run)}  ",
        f"Direct answers: {markdown_escape(gap.direct_run)}",
    ]
    return "\n".join(lines) + "\n"


def gap_latex(gap: ProtocolGap) -> str:
    from amber_eval.reporting.formats import booktabs_table, tex_escape

    table = booktabs_table(
        "protocolgap",
        "llrrr",
        r"Block & Metric & Protocol & Direct & Protocol $-$ direct",
        [" & ".join(tex_escape(cell) for cell in cells) for cells in _cells(gap)],
        _note(gap),
    )
    return table + "\n" + agreement_latex(gap.agreement)


def gap_json(gap: ProtocolGap) -> str:
    data = {
        "model": gap.model,
        "judge": gap.judge,
        "protocol_run": gap.protocol_run,
        "direct_run": gap.direct_run,
        "images": gap.images,
        "questions": gap.questions,
        "left_out": {"only_protocol": gap.only_protocol, "only_direct": gap.only_direct},
        "judge_alarm": list(gap.alarm),
        "mode": "strict",
        "ci": {"level": gap.level, "resamples": gap.resamples, "seed": gap.seed},
        "blocks": {
            block: {
                row.metric: {
                    PROTOCOL: row.protocol,
                    DIRECT: row.direct,
                    "difference": row.difference.to_json(),
                }
                for row in gap.rows
                if row.block == block
            }
            for block in dict.fromkeys(row.block for row in gap.rows)
        },
        "agreement": json.loads(agreement_json(gap.agreement)),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


GAP_RENDERERS: Registry[Callable[[ProtocolGap], str]] = Registry("format")
GAP_RENDERERS.add("markdown", gap_markdown, "Markdown")
GAP_RENDERERS.add("json", gap_json, "JSON")
GAP_RENDERERS.add("latex", gap_latex, "LaTeX (booktabs)")


def render_gap(gap: ProtocolGap, fmt: str) -> str:
    """``gap`` in the registered format ``fmt`` (did-you-mean on an unknown name)."""
    return GAP_RENDERERS.load(fmt)(gap)
