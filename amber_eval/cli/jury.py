"""``amber-eval jury``: a run folder of the majority answers of several runs."""

from __future__ import annotations

from pathlib import Path

import click

from amber_eval.checks.jury import TIE_RULES


@click.command("jury")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results root: the jury goes to <out>/<model>/jury-<hash>/.",
)
@click.option("--model", help="The model folder's name (default: the runs' caption model).")
@click.option(
    "--tie",
    type=click.Choice(TIE_RULES),
    default="unknown",
    show_default=True,
    help="The verdict when Yes and No have as many votes (unknown: no majority).",
)
@click.option("--name", "names", multiple=True, metavar="RUN=LABEL", help="Label of a run.")
def jury(
    runs: tuple[str, ...], out: Path, model: str | None, tie: str, names: tuple[str, ...]
) -> None:
    """A run folder whose answer to each question is the majority of the RUNS' answers.

    Each RUN (a run folder, or a model folder: all its runs) votes with its parsed answer; an
    unparsed answer abstains; --tie decides equal Yes and No votes. The folder is scored like
    any run and read by every report; its run.json names the member runs.
    """
    from amber_eval.checks.jury import make_jury
    from amber_eval.cli.report import run_label_pairs
    from amber_eval.reporting.run_data import apply_names, load_run, resolve_run_dirs

    loaded = [load_run(folder) for folder in resolve_run_dirs(runs)]
    if len(loaded) < 2:
        raise click.UsageError(f"a jury needs at least two runs, found {len(loaded)}")
    result = make_jury(
        loaded,
        out=out,
        labels=apply_names(loaded, run_label_pairs(names)),
        tie=tie,  # type: ignore[arg-type]
        model=model,
    )
    overall = result.metrics["strict"].get("overall", {})
    f1 = overall.get("F1")
    click.echo(
        f"jury of {len(result.members)} runs: {result.questions} questions on {result.images} "
        f"images; {result.ties} ties, {result.no_verdict} without a verdict; strict overall "
        f"F1 {'n/a' if f1 is None else f'{f1:.1f}'}"
    )
    if result.note:
        click.echo(f"note: {result.note}", err=True)
    click.echo(f"run folder: {result.folder}")
