"""``amber-eval judge-check``, ``agree``, ``sensitivity`` and ``protocol-gap``: checks of the
judge and of the protocol itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from amber_eval.run_folder.config import RunConfig

from amber_eval.checks.agreement_report import AGREEMENT_RENDERERS
from amber_eval.checks.protocol_gap import GAP_RENDERERS
from amber_eval.checks.sensitivity import SENSITIVITY_RENDERERS
from amber_eval.cli.judge import judge_options, judge_settings
from amber_eval.cli.options import (
    caption_selection_options,
    captions_option,
    data_dir_option,
    keeps_inputs,
    limit_images_option,
    progress_option,
    run_output_options,
    selection_settings,
)
from amber_eval.cli.report import emit_text, paired_interval_options, run_label_pairs


@click.command("judge-check")
@judge_options(llm_required=True)
@limit_images_option
@run_output_options
@click.option("--template", default="paper", show_default=True, help="Prompt template.")
@caption_selection_options
@data_dir_option
@progress_option
def judge_check(
    llm: str,
    limit_images: int | None,
    out: Path,
    store: Path | None,
    chunk_questions: int | None,
    template: str,
    data_dir: Path | None,
    progress: bool,
    **kwargs: Any,
) -> None:
    """The judge's ceiling: its answers on the oracle captions, and its judge card.

    The oracle captions are built from AMBER's annotations, so a perfect judge is right on every
    question. The run goes through the normal pipeline and answer store (to
    <out>/oracle/<llm>-<hash>/), which also gets judge-card.json and judge-card.md; the card is
    printed. Add it to tables with `amber-eval report RUN... --with-ceiling CARD`.
    """
    from amber_eval.checks.judge_card import CARD_JSON, card_markdown
    from amber_eval.checks.judge_card import judge_check as check
    from amber_eval.runs.judge_alarm import ADVICE

    config = _run_config(
        kwargs,
        captions="oracle",
        llm=llm,
        limit_images=limit_images,
        out=out,
        store=store,
        chunk_questions=chunk_questions,
        template=template,
        data_dir=data_dir,
        show_progress=progress,
    )
    card = check(config)
    click.echo(card_markdown(card), nl=False)
    if card.warnings:
        click.echo(f"\nWARNING: this judge looks useless on the oracle captions. {ADVICE}.")
    click.echo(f"\njudge card: {Path(card.run) / CARD_JSON}")


@click.command("agree")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(AGREEMENT_RENDERERS.names()), default="markdown")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (else stdout)."
)
@click.option("--name", "names", multiple=True, metavar="RUN=LABEL", help="Label of a run.")
@paired_interval_options
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the most disagreed questions to list.",
)
def agree(
    runs: tuple[str, ...],
    fmt: str,
    out: Path | None,
    names: tuple[str, ...],
    level: float,
    seed: int,
    resamples: int,
    top: int,
) -> None:
    """Agreement between runs that judged the same questions (other LLMs, templates or captions).

    Per block: raw agreement, Cohen's kappa and Krippendorff's alpha (unparsed answers
    missing) of each pair, Fleiss' kappa and alpha of all runs for three or more runs, each
    with a bootstrap interval over images; then the questions with the most disagreement. Each RUN is a run folder or a model folder (all its runs).
    """
    from amber_eval.checks.agreement_report import agree_runs, render_agreement
    from amber_eval.reporting.run_data import apply_names, load_run, resolve_run_dirs

    loaded = [load_run(folder) for folder in resolve_run_dirs(runs)]
    if len(loaded) < 2:
        raise click.UsageError(f"agree needs at least two runs, found {len(loaded)}")
    report = agree_runs(
        loaded,
        labels=apply_names(loaded, run_label_pairs(names)),
        level=level,
        resamples=resamples,
        seed=seed,
        top=top,
    )
    emit_text(render_agreement(report, fmt), out, loaded)


@click.command("sensitivity")
@captions_option
@judge_options(llm_required=True)
@limit_images_option
@run_output_options
@click.option("--model", help="Caption model name for <out>/<model> (default: from --captions).")
@caption_selection_options
@data_dir_option
@progress_option
@click.option(
    "--format", "fmt", type=click.Choice(SENSITIVITY_RENDERERS.names()), default="markdown"
)
@click.option(
    "--table",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the table here (else stdout).",
)
@paired_interval_options
@keeps_inputs(inputs={"--captions": "captions"}, outputs={"--table": "table"})
def sensitivity(
    captions: str,
    llm: str,
    limit_images: int | None,
    out: Path,
    store: Path | None,
    chunk_questions: int | None,
    model: str | None,
    data_dir: Path | None,
    progress: bool,
    fmt: str,
    table: Path | None,
    level: float,
    seed: int,
    resamples: int,
    **kwargs: Any,
) -> None:
    """How much the protocol's open choices move F1: the same captions under variants.

    Variants of the default (template paper, the caption selection given, by default in dump
    order; no system prompt): template paper-alt, captions reversed and shuffled (seeds 1, 2, 3), a system prompt (--system-prompt, else
    "You are a helpful assistant."). Each variant is a run through the answer store; per variant
    and block the F1 and its paired bootstrap difference from the default are printed, with
    its interval, marking those that exclude 0.
    """
    from amber_eval.checks.sensitivity import SYSTEM_PROMPT, render_sensitivity
    from amber_eval.checks.sensitivity import sensitivity as measure

    config = _run_config(
        kwargs,
        captions=captions,
        llm=llm,
        limit_images=limit_images,
        out=out,
        store=store,
        chunk_questions=chunk_questions,
        model=model,
        data_dir=data_dir,
        show_progress=progress,
    )
    report = measure(
        config,
        system_prompt=config.judge_options.system_prompt or SYSTEM_PROMPT,
        level=level,
        resamples=resamples,
        seed=seed,
    )
    from amber_eval.reporting.run_data import load_run

    runs = [load_run(folder) for folder in report.folders.values()]
    emit_text(render_sensitivity(report, fmt), table, runs, option="--table")


@click.command("protocol-gap")
@click.option(
    "--descriptions",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The MLLM's generative responses (AMBER response file, ids 1..1004).",
)
@click.option(
    "--answers",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The same MLLM's Yes/No responses (AMBER response file, ids from 1005).",
)
@click.option("--model", required=True, help="The MLLM's name: both runs go to <out>/<model>/.")
@click.option(
    "--split",
    type=click.Choice(("sentence", "clause")),
    default="sentence",
    show_default=True,
    help="One caption per sentence or per clause of each description.",
)
@judge_options(llm_required=True)
@limit_images_option
@run_output_options
@click.option("--template", default="paper", show_default=True, help="Prompt template.")
@caption_selection_options
@data_dir_option
@progress_option
@click.option("--format", "fmt", type=click.Choice(GAP_RENDERERS.names()), default="markdown")
@click.option(
    "--table",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the table here (else stdout).",
)
@paired_interval_options
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the questions answered differently to list.",
)
def protocol_gap(
    descriptions: Path,
    answers: Path,
    model: str,
    split: str,
    llm: str,
    limit_images: int | None,
    out: Path,
    store: Path | None,
    chunk_questions: int | None,
    template: str,
    data_dir: Path | None,
    progress: bool,
    fmt: str,
    table: Path | None,
    level: float,
    seed: int,
    resamples: int,
    top: int,
    **kwargs: Any,
) -> None:
    """The CRTNet protocol's own error on an MLLM: its descriptions judged as captions against
    its direct Yes/No answers.

    The descriptions become a caption dump (<out>/<model>/descriptions-<split>.jsonl), judged by
    --llm through the normal run and answer store; the answers are scored into a run folder of
    their own. Per block: both sides' Accuracy, Precision, Recall and F1 on the shared
    questions, protocol - direct with a bootstrap interval over images, agreement, kappa and
    alpha between them, and the questions they answer differently.
    """
    from amber_eval.checks.protocol_gap import protocol_gap as measure
    from amber_eval.checks.protocol_gap import render_gap
    from amber_eval.io import refuse_inputs_as_outputs

    refuse_inputs_as_outputs(
        {"--table": table}, {"--descriptions": descriptions, "--answers": answers}
    )
    config = _run_config(
        kwargs,
        captions=str(descriptions),
        llm=llm,
        limit_images=limit_images,
        out=out,
        store=store,
        chunk_questions=chunk_questions,
        model=model,
        template=template,
        data_dir=data_dir,
        show_progress=progress,
    )
    gap = measure(
        descriptions,
        answers,
        config,
        split=split,
        level=level,
        resamples=resamples,
        seed=seed,
        top=top,
    )
    emit_text(render_gap(gap, fmt), table)


def _run_config(values: dict[str, Any], **fields: Any) -> RunConfig:
    """The RunConfig of a check's judge and caption selection options and its other fields."""
    from amber_eval.run_folder.config import RunConfig

    options = judge_settings(values)
    if options.load_in_4bit and options.load_in_8bit:
        raise click.UsageError("give --load-in-4bit or --load-in-8bit, not both")
    return RunConfig(judge_options=options, selection=selection_settings(values), **fields)
