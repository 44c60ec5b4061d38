"""``amber-eval run``: captions -> prompts -> judge -> scores, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from amber_eval.captions.selection import ORDERS
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
@click.option("--llm", required=True, help="LLM preset (amber-eval llms), model folder or .gguf.")
@click.option(
    "--mode",
    type=click.Choice(["score", "generate"]),
    default="score",
    show_default=True,
    help="score: compare Yes/No logits; generate: greedy generation, then parse.",
)
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
@click.option("--dtype", help="Model dtype (e.g. bfloat16, float16, float32).")
@click.option("--device", help="Device (e.g. cuda, cuda:1, cpu).")
@click.option("--load-in-4bit", is_flag=True, help="NF4 quantization (bitsandbytes).")
@click.option("--load-in-8bit", is_flag=True, help="LLM.int8 quantization (bitsandbytes).")
@click.option("--batch-tokens", type=click.IntRange(min=1), help="Token budget per batch.")
@click.option("--raw-prompt", is_flag=True, help="Send prompts without the chat template.")
@click.option("--system-prompt", help="System prompt for the chat template.")
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
    mode: str,
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
    dtype: str | None,
    device: str | None,
    load_in_4bit: bool,
    load_in_8bit: bool,
    batch_tokens: int | None,
    raw_prompt: bool,
    system_prompt: str | None,
    chunk_questions: int | None,
    progress: bool,
) -> None:
    """Judge captions with an LLM on AMBER's Yes/No questions and score the answers.

    Answers are stored as they are produced; run the same command again after an interruption
    and only the missing questions are asked.
    """
    from amber_eval.runs.config import RunConfig
    from amber_eval.runs.pipeline import run_evaluation
    from amber_eval.runs.summary import format_summary

    if load_in_4bit and load_in_8bit:
        raise click.UsageError("give --load-in-4bit or --load-in-8bit, not both")
    judge_options: dict[str, Any] = {
        "dtype": dtype,
        "device": device,
        "load_in_4bit": load_in_4bit or None,
        "load_in_8bit": load_in_8bit or None,
        "batch_tokens": batch_tokens,
        "raw_prompt": raw_prompt or None,
        "system_prompt": system_prompt,
    }
    config = RunConfig(
        captions=captions,
        llm=llm,
        mode=mode,  # type: ignore[arg-type]
        limit_images=limit_images,
        out=out,
        model=model,
        template=template,
        top_k=top_k,
        min_score=min_score,
        order=order,
        spacy_model=spacy_model,
        judge_options={k: v for k, v in judge_options.items() if v is not None},
        store=store,
        data_dir=data_dir,
        chunk_questions=chunk_questions,
        show_progress=progress,
    )
    result = run_evaluation(config)
    if result.metrics:
        click.echo(format_summary(result))
