"""``amber-eval run``: captions -> prompts -> judge -> scores, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from amber_eval.captions.selection import ORDERS
from amber_eval.cli.judge import judge_options, judge_settings
from amber_eval.cli.options import (
    data_dir_option,
    limit_images_option,
    min_score_option,
    progress_option,
    top_k_option,
)


@click.command("run")
@click.option(
    "--captions",
    required=True,
    metavar="FILE|oracle",
    help="A caption dump (results/<model>/captions.jsonl) or 'oracle' for the oracle captions.",
)
@judge_options(llm_required=True)
@limit_images_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results root: runs go to <out>/<model>/<llm>-<hash>/.",
)
@click.option("--model", help="Caption model name for <out>/<model> (default: from --captions).")
@click.option("--template", default="paper", show_default=True, help="Prompt template.")
@top_k_option
@min_score_option
@click.option("--order", type=click.Choice(ORDERS), help="Caption order (default: dump).")
@click.option("--spacy-model", help="spaCy pipeline for caption-coverage scoring.")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Answer store file (default: <out>/.answers.sqlite).",
)
@data_dir_option
@click.option(
    "--chunk-questions",
    type=click.IntRange(min=1),
    help="Questions per judge call (default: about 10 s of work); each call's answers are "
    "stored at once.",
)
@progress_option
def run(
    captions: str,
    llm: str,
    limit_images: int | None,
    out: Path,
    model: str | None,
    template: str,
    top_k: int | None,
    min_score: float | None,
    order: str | None,
    spacy_model: str | None,
    store: Path | None,
    data_dir: Path | None,
    chunk_questions: int | None,
    progress: bool,
    **kwargs: Any,
) -> None:
    """Judge captions with an LLM on AMBER's Yes/No questions and score the answers.

    Answers are stored as they are produced; run the same command again after an interruption
    and only the missing questions are asked.
    """
    from amber_eval.runs.config import RunConfig
    from amber_eval.runs.pipeline import run_evaluation
    from amber_eval.runs.summary import format_summary

    options = judge_settings(kwargs)
    if options.load_in_4bit and options.load_in_8bit:
        raise click.UsageError("give --load-in-4bit or --load-in-8bit, not both")
    # only the settings given away from their defaults, so run.json reads as before
    changed = options.changed()
    changed.pop("mode", None)
    config = RunConfig(
        captions=captions,
        llm=llm,
        mode=options.mode,  # type: ignore[arg-type]
        limit_images=limit_images,
        out=out,
        model=model,
        template=template,
        top_k=top_k,
        min_score=min_score,
        order=order,
        spacy_model=spacy_model,
        judge_options=changed,
        store=store,
        data_dir=data_dir,
        chunk_questions=chunk_questions,
        show_progress=progress,
    )
    result = run_evaluation(config, echo=lambda line: click.echo(line, err=True))
    if result.metrics:
        click.echo(format_summary(result))
