"""``amber-eval score``: score a response file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from amber_eval.cli.options import data_dir_option, keeps_inputs
from amber_eval.progress import rate_progress
from amber_eval.scoring.scorer import EVAL_TYPES
from amber_eval.scoring.similarity import DEFAULT_SPACY_MODEL
from amber_eval.terms import RULES


def _cell(value: Any, *, ratio: bool = False) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    if ratio:
        return f"{value * 100:.1f}%"
    return f"{value:.1f}"


def render_table(result: Any) -> None:
    """Print the blocks as rich tables (generative, then the Yes/No blocks)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    strict = result.rules == "strict"
    title = f"AMBER ({result.rules} mode, type {result.eval_type})"
    if "generative" in result.blocks:
        table = Table(title=title + ": generative")
        columns = ["CHAIR", "Cover", "Hal", "Cog"] + (["n"] if strict else [])
        for name in columns:
            table.add_column(name, justify="right")
        table.add_row(*(_cell(result.blocks["generative"].get(c)) for c in columns))
        console.print(table)
    names = [n for n in result.blocks if n != "generative"]
    if names:
        table = Table(title=title + ": Yes/No questions (positive class: No)")
        table.add_column("block")
        metrics = ["Accuracy", "Precision", "Recall", "F1"]
        extra = ["n", "yes_ratio", "parse_failure_rate"] if strict else []
        for name in metrics + extra:
            table.add_column(
                {"yes_ratio": "Yes", "parse_failure_rate": "unparsed"}.get(name, name),
                justify="right",
            )
        for name in names:
            block = result.blocks[name]
            cells = [_cell(block.get(m)) for m in metrics]
            cells += [_cell(block.get(m), ratio=m != "n") for m in extra]
            table.add_row(name, *cells)
        if strict and result.always_no is not None and "overall" in result.always_no:
            block = result.always_no["overall"]
            table.add_row("[dim]always-No[/dim]", *(_cell(block.get(m)) for m in metrics))
        console.print(table)
    if strict and result.amber is not None:
        console.print(f"AMBER score: {_cell(result.amber)}")
    if result.coverage is not None and result.coverage.missing:
        c = result.coverage
        console.print(f"coverage: {c.scored} of {c.expected} ids scored ({c.missing} missing)")


@click.command("score")
@click.argument("responses", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--type",
    "-t",
    "eval_type",
    type=click.Choice(EVAL_TYPES),
    default="a",
    show_default=True,
    help="a: all; g: generative; d: all Yes/No; de/da/dr: existence/attribute/relation.",
)
@click.option(
    "--mode",
    "rules",
    type=click.Choice(RULES),
    default="strict",
    show_default=True,
    help="The scoring rules. strict: fixed rules, validated ids; official: the upstream "
    "scorer's numbers exactly.",
)
@click.option(
    "--spacy-model",
    default=DEFAULT_SPACY_MODEL,
    show_default=True,
    help="spaCy pipeline (package name or folder) for word similarity.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the blocks as JSON here (atomically).",
)
@click.option(
    "--items",
    "items_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one JSON line per response (per-item results) here.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "upstream", "json"]),
    default="table",
    show_default=True,
    help="Standard output: a table, the upstream script's exact text, or JSON.",
)
@click.option("--allow-partial", is_flag=True, help="Strict mode: score a file with missing ids.")
@click.option(
    "--also",
    "also",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Another response file of the same model, scored with RESPONSES (its Yes/No answers "
    "beside its descriptions); an id may not be in both.",
)
@click.option(
    "--model",
    "model",
    help="Also write a run folder <out>/<model>/responses-<hash>/ that report, compare and "
    "the HTML report read beside region-caption runs.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results root of the --model run folder.  [default: results]",
)
@data_dir_option
@click.option("--no-cache", is_flag=True, help="Do not read or write the noun cache.")
@keeps_inputs(
    inputs={"RESPONSES": "responses", "--also": "also"},
    outputs={"--json": "json_out", "--items": "items_out"},
)
def score(
    responses: Path,
    eval_type: str,
    rules: str,
    spacy_model: str,
    json_out: Path | None,
    items_out: Path | None,
    output_format: str,
    allow_partial: bool,
    also: Path | None,
    model: str | None,
    out: Path | None,
    data_dir: Path | None,
    no_cache: bool,
) -> None:
    """Score a RESPONSES file (JSON list of {id, response}, or JSONL) on AMBER.

    With --model NAME the scores also go to a run folder <out>/<NAME>/responses-<hash>/, which
    `amber-eval report` and `amber-eval compare` read like a judge run's.
    """
    from amber_eval.data import load_benchmark
    from amber_eval.runs.response_run import read_response_files
    from amber_eval.scoring import score_responses

    if out is not None and model is None:
        raise click.UsageError("--out names where the --model run folder goes; give --model")
    files = [responses] if also is None else [responses, also]
    loaded, _ = read_response_files(files)
    benchmark = load_benchmark(data_dir)
    many = sum(1 for r in loaded if r.id in benchmark.generative) >= 50
    with rate_progress(
        None,
        "descriptions",
        "descriptions",
        enabled=many and output_format == "table",
        transient=True,
    ) as progress:
        result = score_responses(
            loaded,
            eval_type=eval_type,
            rules=rules,
            benchmark=benchmark,
            spacy_model=spacy_model,
            allow_partial=allow_partial,
            noun_cache=not no_cache,
            progress=progress,
        )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if json_out is not None:
        from amber_eval.io import atomic_write_json

        atomic_write_json(json_out, result.to_json())
    if items_out is not None:
        write_items(items_out, result.items)
    if output_format == "upstream":
        click.echo(result.upstream_text(), nl=False)
    elif output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        render_table(result)
    if model is not None:
        write_run_folder(files, model, out, spacy_model, allow_partial, data_dir, no_cache)


def write_run_folder(
    files: list[Path],
    model: str,
    out: Path | None,
    spacy_model: str,
    allow_partial: bool,
    data_dir: Path | None,
    no_cache: bool,
) -> None:
    """``--model``: the run folder of the response file(s) and its tables."""
    from amber_eval.reporting import write_run_tables
    from amber_eval.runs.response_run import score_response_run

    run = score_response_run(
        files,
        model=model,
        out=out or Path("results"),
        spacy_model=spacy_model,
        data_dir=data_dir,
        allow_partial=allow_partial,
        noun_cache=not no_cache,
    )
    write_run_tables(run.folder)
    click.echo(
        f"run folder: {run.folder} ({run.descriptions} descriptions, {run.answers} Yes/No "
        f"answers); `amber-eval report {run.folder}` makes its tables",
        err=True,
    )


def write_items(path: Path, items: Any) -> None:
    """One JSON object per line, written atomically."""
    from amber_eval.io import atomic_open

    with atomic_open(path, "w") as handle:
        for item in items:
            handle.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
