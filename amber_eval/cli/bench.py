"""``amber-eval bench``: the naive generate() loop against the optimized judge, one run."""

from __future__ import annotations

import dataclasses
import platform
import time
from pathlib import Path
from typing import Any

import click

from amber_eval.cli.judge import judge_options, judge_settings
from amber_eval.cli.options import data_dir_option, keeps_inputs


@click.command("bench")
@judge_options(opt_in=("random_weights",))
@click.option(
    "--questions",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="At least N questions: whole images in AMBER id order (14216 = all).",
)
@click.option(
    "--naive-sample",
    type=click.IntRange(min=1),
    help="Time the naive loop on K evenly spaced questions and extrapolate (default: all).",
)
@click.option("--no-naive", is_flag=True, help="Skip the naive loop (optimized judge only).")
@click.option(
    "--compare-strategies",
    is_flag=True,
    help="Time both prefix-sharing strategies (packed rows, expanded cache).",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run the optimized judge R times (strategies interleaved, half before and half "
    "after the naive loop); keep each strategy's fastest.",
)
@click.option("--template", default="paper", show_default=True, help="Prompt template.")
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report."
)
@data_dir_option
@keeps_inputs(inputs={"--template": "template"}, outputs={"--json": "json_out"})
def bench(
    llm: str,
    questions: int,
    naive_sample: int | None,
    no_naive: bool,
    compare_strategies: bool,
    repeats: int,
    template: str,
    json_out: Path | None,
    data_dir: Path | None,
    **kwargs: Any,
) -> None:
    """Benchmark the judge against the naive loop on AMBER questions with oracle captions.

    Prints questions/s, tokens computed, peak memory and answer agreement of both, and last
    `speed-up <ratio>x`.
    """
    from amber_eval.data import load_benchmark
    from amber_eval.errors import InputError
    from amber_eval.io import atomic_write_json
    from amber_eval.judge.backends import load_judge
    from amber_eval.judge.bench import describe_report, oracle_records, run_bench
    from amber_eval.judge.hf import HFJudge

    options = dataclasses.replace(judge_settings(kwargs), mode="score")
    benchmark = load_benchmark(data_dir)
    records = oracle_records(benchmark, questions, template=template)
    start = time.perf_counter()
    judge = load_judge(llm, options=options)
    if not isinstance(judge, HFJudge):
        raise InputError(f"{llm}: bench needs a model (test doubles have nothing to time)")
    loaded = time.perf_counter() - start
    device = str(next(judge.model.parameters()).device)
    click.echo(
        f"bench: {llm} ({judge.identity.get('dtype')}"
        f"{', ' + judge.quantization if judge.quantization else ''}"
        f"{', random weights' if options.random_weights else ''}) on {device} "
        f"[{platform.processor() or platform.machine()}], loaded in {loaded:.1f} s; "
        f"{len(records)} questions of {len({r.image for r in records})} images, oracle captions"
    )
    strategies = ("cache", "packed") if compare_strategies else (judge.strategy,)
    report = run_bench(
        judge,
        records,
        naive=not no_naive,
        naive_sample=naive_sample,
        strategies=strategies,
        repeats=repeats,
        echo=click.echo,
    )
    if json_out is not None:
        atomic_write_json(json_out, {**report.to_json(), "load_seconds": round(loaded, 2)})
    for line in describe_report(report):
        click.echo(line)
    if not report.tokens_exact:
        raise click.ClickException("tokens computed differ from unique prefix + suffix tokens")
