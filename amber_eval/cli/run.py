"""``amber-eval run``: captions -> prompts -> judge -> scores, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from amber_eval.runs.config import RunConfig

from amber_eval.captions.selection import ORDERS
from amber_eval.cli.judge import judge_options, judge_settings
from amber_eval.cli.options import (
    captions_option,
    data_dir_option,
    limit_images_option,
    min_score_option,
    progress_option,
    run_output_options,
    top_k_option,
)


@click.command("run")
@captions_option
@judge_options(llm_required=True)
@limit_images_option
@run_output_options
@click.option("--model", help="Caption model name for <out>/<model> (default: from --captions).")
@click.option("--template", default="paper", show_default=True, help="Prompt template.")
@top_k_option
@min_score_option
@click.option(
    "--order",
    type=click.Choice(ORDERS),
    help="Caption order (default: dump; reversed: the dump's, reversed; shuffled: seeded by "
    "--order-seed).",
)
@click.option("--order-seed", type=int, help="Seed of --order shuffled (default 0).", metavar="N")
@click.option("--spacy-model", help="spaCy pipeline for caption-coverage scoring.")
@data_dir_option
@progress_option
def run(
    captions: str,
    llm: str,
    limit_images: int | None,
    out: Path,
    store: Path | None,
    chunk_questions: int | None,
    model: str | None,
    template: str,
    top_k: int | None,
    min_score: float | None,
    order: str | None,
    order_seed: int | None,
    spacy_model: str | None,
    data_dir: Path | None,
    progress: bool,
    **kwargs: Any,
) -> None:
    """Judge captions with an LLM on AMBER's Yes/No questions and score the answers.

    Answers are stored as they are produced; run the same command again after an interruption
    and only the missing questions are asked.
    """
    from amber_eval.runs.pipeline import run_evaluation
    from amber_eval.runs.summary import format_summary

    config = run_config(
        kwargs,
        captions=captions,
        llm=llm,
        limit_images=limit_images,
        out=out,
        model=model,
        template=template,
        top_k=top_k,
        min_score=min_score,
        order=order,
        order_seed=order_seed,
        spacy_model=spacy_model,
        store=store,
        data_dir=data_dir,
        chunk_questions=chunk_questions,
        show_progress=progress,
    )
    result = run_evaluation(config)
    if result.metrics:
        click.echo(format_summary(result))


def run_config(judge_kwargs: dict[str, Any], **fields: Any) -> RunConfig:
    """A :class:`RunConfig` from a command's :func:`judge_options` values and its other fields.

    Only the judge settings given away from their defaults are recorded, so run.json reads the
    same whichever command made the run.
    """
    from amber_eval.runs.config import RunConfig

    options = judge_settings(judge_kwargs)
    if options.load_in_4bit and options.load_in_8bit:
        raise click.UsageError("give --load-in-4bit or --load-in-8bit, not both")
    changed = options.changed()
    changed.pop("mode", None)
    return RunConfig(mode=options.mode, judge_options=changed, **fields)  # type: ignore[arg-type]
