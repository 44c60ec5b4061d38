"""The benchmark commands, one per measured part; the code they time is in
:mod:`amber_eval.benchmarks`.

``bench`` (judge vs the naive loop), ``bench-score`` (full-set scoring vs the upstream),
``bench-segment`` (mask source + captioner), ``bench-report`` (bootstrap and HTML report),
``bench-pairs`` (parse-and-filter memory and text side). Each prints its figures with a
baseline measured in the same run.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from pathlib import Path
from typing import Any

import click

from amber_eval.cli.judge import judge_options, judge_settings
from amber_eval.cli.options import data_dir_option, keeps_inputs
from amber_eval.cli.segment import component_options, component_settings
from amber_eval.judge_options import JudgeOptions
from amber_eval.scoring.scorer import EVAL_TYPES


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
    from amber_eval.benchmarks.judge import describe_report, oracle_records, run_bench
    from amber_eval.data import load_benchmark
    from amber_eval.errors import InputError
    from amber_eval.io import atomic_write_json
    from amber_eval.judge.backends import load_judge
    from amber_eval.judge.hf import HFJudge

    options = dataclasses.replace(judge_settings(kwargs), answer_mode="score")
    benchmark = load_benchmark(data_dir)
    records = oracle_records(benchmark, questions, template=template)
    if options.backend != "hf":
        _bench_engine(llm, options, records, naive=not no_naive, naive_sample=naive_sample,
                      json_out=json_out)  # fmt: skip
        return
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


def _bench_engine(
    llm: str,
    options: JudgeOptions,
    records: list[Any],
    *,
    naive: bool,
    naive_sample: int | None,
    json_out: Path | None,
) -> None:
    """``--backend vllm|openai``: the engine judge against the naive HF loop, one run."""
    from amber_eval.benchmarks.engines import run_engine_bench
    from amber_eval.benchmarks.judge import describe_report
    from amber_eval.errors import InputError
    from amber_eval.io import atomic_write_json
    from amber_eval.judge.backends import load_judge
    from amber_eval.judge.hf import HFJudge
    from amber_eval.judge_options import JudgeOptions

    if options.random_weights:
        raise InputError("--random-weights is for --backend hf only")
    default = JudgeOptions()
    # the naive loop: the same model and shared settings on the hf backend
    naive_options = JudgeOptions(
        **{
            name: getattr(options if JudgeOptions.backend_of(name) is None else default, name)
            for name in JudgeOptions.names()
        }
    )
    naive_options = dataclasses.replace(naive_options, backend="hf")

    def load_naive() -> HFJudge:
        judge = load_judge(llm, options=naive_options)
        if not isinstance(judge, HFJudge):
            raise InputError(f"{llm}: the naive loop needs a model (test doubles have none)")
        return judge

    click.echo(
        f"bench: {llm} on the {options.backend} backend vs the naive hf loop "
        f"[{platform.processor() or platform.machine()}]; {len(records)} questions of "
        f"{len({r.image for r in records})} images, oracle captions"
    )
    report, loaded = run_engine_bench(
        load_naive,
        lambda: load_judge(llm, options=options),
        records,
        naive=naive,
        naive_sample=naive_sample,
        echo=click.echo,
    )
    if json_out is not None:
        atomic_write_json(json_out, {**report.to_json(), "load_seconds": round(loaded, 2)})
    for line in describe_report(report):
        click.echo(line)


@click.command("bench-score")
@click.option(
    "--responses",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Response file to score (`make bench-score`: all_yes.json of the parity fixture). "
    "Its printed numbers are checked against <folder>/expected/<name>.<type>.txt when present.",
)
@click.option(
    "--spacy-model",
    help="A full spaCy pipeline to time (e.g. en_core_web_lg). Default: build a stand-in "
    "full pipeline (tok2vec, tagger, parser, NER; random weights) holding --vectors.",
)
@click.option(
    "--vectors",
    help="Vectors pipeline for the stand-in (`make bench-score`: the parity fixture's "
    "glove50-amber-vocab).",
)
@click.option("--type", "eval_type", type=click.Choice(EVAL_TYPES), default="a", show_default=True)
@click.option("--sample", default=300, show_default=True, help="Upstream pair calls to time.")
@data_dir_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@keeps_inputs(inputs={"--responses": "responses"}, outputs={"--json": "json_out"})
def bench_score(
    responses: Path,
    spacy_model: str | None,
    vectors: str | None,
    eval_type: str,
    sample: int,
    data_dir: Path | None,
    json_out: Path | None,
) -> None:
    """Time full-set scoring (cold and warm) against the upstream algorithm's per-pair calls."""
    from amber_eval.benchmarks.scoring import run_bench
    from amber_eval.errors import InputError

    if spacy_model is None and vectors is None:
        raise InputError("give --spacy-model NAME|PATH or --vectors PIPELINE")
    expected = responses.parent / "expected" / f"{responses.stem}.{eval_type}.txt"
    report = run_bench(
        responses,
        spacy_model=spacy_model,
        vectors_pipeline=vectors,
        eval_type=eval_type,
        sample=sample,
        data_dir=data_dir,
        expected_text=expected.read_text(encoding="utf-8") if expected.is_file() else None,
        log=lambda line: click.echo(line, err=True),
    )
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"bench-score: {report.descriptions} descriptions + {report.answers} answers"
    )
    table.add_column("what")
    table.add_column("seconds", justify="right")
    table.add_column("upstream / this", justify="right")
    table.add_row("upstream algorithm (estimated)", f"{report.upstream_s:.1f}", "1.0x")
    table.add_row(
        f"  of which {report.pairs} similarity calls at {report.per_pair_ms:.2f} ms",
        f"{report.pairs * report.per_pair_ms / 1000:.1f}",
        "",
    )
    table.add_row(
        "  of which imports, pipeline load, serial NLTK", f"{report.upstream_fixed_s:.1f}", ""
    )
    table.add_row(
        "amber-eval score, cold (empty caches)", f"{report.cold_s:.2f}", f"{report.ratio_cold:.1f}x"
    )
    table.add_row("amber-eval score, warm", f"{report.warm_s:.2f}", f"{report.ratio_warm:.1f}x")
    console = Console()
    console.print(table)
    console.print(
        f"CPU seconds (user + system, workers included): upstream {report.upstream_cpu_s:.1f}, "
        f"cold {report.cold_cpu_s:.1f} ({report.cpu_ratio_cold:.1f}x), "
        f"warm {report.warm_cpu_s:.2f}"
    )
    console.print(f"pipeline: {report.pipeline}; CPUs: {report.cpus}")
    console.print(
        f"sampled pair decisions identical to per-pair calls: {report.sample_decisions_identical}"
    )
    if report.numbers_identical is not None:
        console.print(f"printed numbers identical to the upstream's: {report.numbers_identical}")
    if json_out is not None:
        from amber_eval.io import atomic_write_json

        atomic_write_json(json_out, report.to_json())


@click.command("bench-segment")
@click.option("--masks", "mask_name", default="grid", show_default=True)
@click.option("--captioner", "captioner_name", default="clip-vocab", show_default=True)
@click.option(
    "--images",
    "count",
    default=8,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many generated 640x480 images.",
)
@click.option("--width", default=640, show_default=True, type=click.IntRange(min=16))
@click.option("--height", default=480, show_default=True, type=click.IntRange(min=16))
@click.option(
    "--random-weights",
    is_flag=True,
    help="Build models from configs with random weights (no download; speed only).",
)
@click.option(
    "--size",
    type=click.Choice(["tiny", "base"]),
    default="base",
    show_default=True,
    help="With --random-weights: tiny test models or ViT-B/16-sized ones.",
)
@click.option("--device", default=None, help="torch device (default: cuda when available).")
@component_options
@click.option(
    "--warmup",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="Images processed before timing starts.",
)
@click.option(
    "--compare-unbatched",
    is_flag=True,
    help="Also time the captioner one region per forward pass (batch_size=1) and print the ratio.",
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures."
)
def bench_segment(
    mask_name: str,
    captioner_name: str,
    count: int,
    width: int,
    height: int,
    random_weights: bool,
    size: str,
    device: str | None,
    mask_pairs: tuple[str, ...],
    captioner_pairs: tuple[str, ...],
    warmup: int,
    compare_unbatched: bool,
    json_out: Path | None,
) -> None:
    """Time a mask source + captioner on generated images: images/s and regions/s."""
    from amber_eval.benchmarks.segmenter import BenchConfig, run_bench

    config = BenchConfig(
        masks=mask_name,
        captioner=captioner_name,
        images=count,
        width=width,
        height=height,
        random_weights=random_weights,
        size=size,  # type: ignore[arg-type]
        device=device,
        mask_options=component_settings(mask_pairs, "-M", {}),
        captioner_options=component_settings(captioner_pairs, "-C", {}),
        warmup=warmup,
        compare_unbatched=compare_unbatched,
    )
    result = run_bench(config, notice=lambda text: click.echo(text, err=True))
    if json_out is not None:
        from amber_eval.io import atomic_write_json

        atomic_write_json(json_out, result.to_json())
    for line in result.lines():
        click.echo(line)


@click.command("bench-report")
@click.option(
    "--resamples",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Bootstrap resamples.",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Time the vectorised bootstrap R times, keep the fastest.",
)
@click.option(
    "--browser/--no-browser",
    default=True,
    show_default=True,
    help="Time opening the HTML report in headless Chromium (when installed).",
)
def bench_report(resamples: int, repeats: int, browser: bool) -> None:
    """Time the bootstrap (vs a per-resample loop) and the HTML report of a full-size run.

    The run is synthetic (1,004 images, 14,216 questions, seeded): nothing to download.
    """
    from amber_eval.benchmarks.reporting import run_bench

    run_bench(resamples=resamples, repeats=repeats, browser=browser, echo=click.echo)


@click.group("bench-pairs")
def bench_pairs() -> None:
    """Parse-and-filter: peak memory against corpus size, and the text side's throughput."""


@bench_pairs.command("memory")
@click.option(
    "--sizes",
    default="1000,10000,100000",
    show_default=True,
    help="Corpus sizes (pairs), comma-separated; each runs in a fresh process.",
)
@click.option("--shard-size", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--traced", is_flag=True, help="Also report the tracemalloc peak.")
def bench_pairs_memory(sizes: str, shard_size: int, traced: bool) -> None:
    """Peak RSS of one filter run per corpus size (synthetic pairs, precomputed features)."""
    from amber_eval.benchmarks.pairs import memory

    try:
        counts = [int(size) for size in sizes.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"{sizes!r}: expected sizes like 1000,10000", param_hint="--sizes"
        ) from None
    try:
        memory(counts, shard_size, traced, echo=click.echo)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@bench_pairs.command("one", hidden=True)
@click.argument("size", type=click.IntRange(min=1))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--shard-size", type=click.IntRange(min=1), default=1000)
@click.option("--traced", is_flag=True)
def bench_pairs_one(size: int, folder: Path, shard_size: int, traced: bool) -> None:
    """One memory run in this process (started by ``bench-pairs memory``); prints JSON."""
    import json

    from amber_eval.benchmarks.pairs import run_one

    click.echo(json.dumps(run_one(size, folder, shard_size=shard_size, traced=traced)))


@bench_pairs.command("text")
@click.option("--pairs", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--model", default="ViT-B-16", show_default=True, help="open_clip name, or 'tiny'.")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--repeated", is_flag=True, help="Allow repeated phrases (default: all distinct).")
def bench_pairs_text(pairs: int, model: str, batch_size: int, repeated: bool) -> None:
    """Parse + encode throughput on CPU (random weights, real shapes), vs full-context encoding."""
    import json

    from amber_eval.benchmarks.pairs import text_side

    click.echo(json.dumps(text_side(pairs, model, batch_size, not repeated)))


@click.group("bench-gpu")
def bench_gpu() -> None:
    """Every GPU figure in one command on a machine without network (docs/gpu.md)."""


def _gpu_folder(name: str, help_text: str) -> Any:
    """The folder of ``bench-gpu bundle`` (default ``.gpu``, git-ignored)."""
    return click.option(
        name,
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".gpu"),
        show_default=True,
        help=help_text,
    )


@bench_gpu.command("bundle")
@_gpu_folder("--out", "The folder to fill (emptied first); it travels with the working tree.")
@click.option(
    "--parts",
    default="judge,segmenter,nf4",
    show_default=True,
    help="Parts of the check to carry wheels for (nf4 only if it fits).",
)
@data_dir_option
def bench_gpu_bundle(out: Path, parts: str, data_dir: Path | None) -> None:
    """Fill a folder with what a bare GPU image lacks: wheels, AMBER data, Llama-2-7B's config."""
    from amber_eval.benchmarks.gpu_bundle import build_bundle

    build_bundle(out, data_dir=data_dir, parts=_names(parts), echo=click.echo)


@bench_gpu.command("check")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where gpu-figures.json, gpu-figures.md and gpu-check.log go.",
)
@_gpu_folder("--bundle", "The folder `bench-gpu bundle` filled.")
@click.option(
    "--dry-run", is_flag=True, help="On the CPU with a tiny random model and a few questions."
)
@click.option(
    "--steps", help="Only these steps, comma-separated (versions,judge,naive,segmenter,nf4)."
)
def bench_gpu_check(out: Path, bundle: Path, dry_run: bool, steps: str | None) -> None:
    """Run every step in its own process with its own time limit; write the figures.

    Exits 1 when a step failed or ran over its limit (the figures of the others are written).
    """
    from amber_eval.benchmarks.gpu_check import run_check

    summary = run_check(
        out, bundle=bundle, dry_run=dry_run, only=_names(steps) if steps else None, echo=click.echo
    )
    bad = [s["name"] for s in summary["steps"] if s["status"] in ("failed", "timeout")]
    if bad:
        raise click.ClickException(f"step(s) {', '.join(bad)} did not finish: see gpu-check.log")


@bench_gpu.command("versions", hidden=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--require-cuda", is_flag=True)
def bench_gpu_versions(json_out: Path, require_cuda: bool) -> None:
    """The check's first step: versions, device, driver, bf16 peak (as JSON)."""
    from amber_eval.benchmarks.gpu_check import environment
    from amber_eval.io import atomic_write_json

    found = environment(require_cuda=require_cuda)
    atomic_write_json(json_out, found)
    for name, value in found.items():
        click.echo(f"{name}: {value}")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]
