"""``amber-eval report`` and ``amber-eval compare``: tables, HTML and paired differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from amber_eval.cli.options import keeps_inputs
from amber_eval.errors import InputError
from amber_eval.reporting.compare import COMPARISON_RENDERERS
from amber_eval.reporting.formats import RENDERERS
from amber_eval.reporting.layouts import LAYOUT_NAMES
from amber_eval.reporting.reference import REFERENCE_SETS
from amber_eval.terms import RULES, UNKNOWN_POLICIES

if TYPE_CHECKING:
    from amber_eval.reporting.tables import CISettings

F = TypeVar("F", bound=Callable[..., Any])

_LAYOUTS = LAYOUT_NAMES
_FORMATS = (*RENDERERS.names(), "html")
_REFERENCES = tuple(REFERENCE_SETS.names())


def run_label_pairs(values: tuple[str, ...]) -> dict[str, str]:
    """``RUN=LABEL`` pairs; a run path may itself hold ``=``: the first split naming an
    existing path wins, else the first ``=``."""
    names: dict[str, str] = {}
    for value in values:
        splits = [i for i, ch in enumerate(value) if ch == "="]
        if not splits:
            raise InputError(f"--name {value!r}: expected RUN=LABEL (a run folder, '=', a label)")
        cut = next((i for i in splits if Path(value[:i]).exists()), splits[0])
        run, label = value[:cut], value[cut + 1 :]
        if not run or not label:
            raise InputError(f"--name {value!r}: expected RUN=LABEL (a run folder, '=', a label)")
        names[run] = label
    return names


def emit_text(
    text: str, out: Path | None, runs: Sequence[Any] = (), *, option: str = "--out"
) -> None:
    """``text`` to ``out`` (the command's ``option``; never one of the files of the ``runs``
    read), else stdout."""
    if out is None:
        click.echo(text, nl=False)
        return
    from amber_eval.io import atomic_write_text, refuse_inputs_as_outputs

    read = [file for run in runs for file in Path(run.path).iterdir() if file.is_file()]
    refuse_inputs_as_outputs({option: out}, {"a run folder": read})
    atomic_write_text(out, text)
    click.echo(f"wrote {out}", err=True)


def _ci(level: float | None, resamples: int, seed: int) -> CISettings | None:
    from amber_eval.reporting.tables import CISettings

    return None if level is None else CISettings(level=level, resamples=resamples, seed=seed)


_rules_option = click.option(
    "--mode",
    "rules",
    type=click.Choice(RULES),
    default="strict",
    show_default=True,
    help="The scoring rules: strict, or the upstream scorer's (official).",
)
unknown_option = click.option(
    "--unknown",
    type=click.Choice(UNKNOWN_POLICIES),
    default="wrong",
    show_default=True,
    help="Strict Yes/No metrics: count an unparsed answer as wrong, or exclude it (n is what "
    "remains). The official rules always count it as the upstream scorer does.",
)
_ci_options = [
    click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed."),
    click.option(
        "--resamples",
        type=click.IntRange(min=1),
        default=1000,
        show_default=True,
        help="Bootstrap resamples.",
    ),
]


def paired_interval_options(function: F) -> F:
    """``--ci LEVEL`` (default 95, passed as ``level``), ``--seed`` and ``--resamples``: the
    bootstrap interval of commands that always give one."""
    options = [
        click.option(
            "--ci",
            "level",
            type=click.FloatRange(0, 100, min_open=True, max_open=True),
            default=95.0,
            show_default=True,
            help="Interval level (%).",
        ),
        *_ci_options,
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--layout",
    type=click.Choice(_LAYOUTS),
    default="amber",
    show_default=True,
    help="attribute: the CRTNet supplement's Table 1; expressiveness: Cover + existence and "
    "attribute P/R/F1; amber: the AMBER paper's main table; full: everything.",
)
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="markdown", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (else stdout)."
)
@click.option("--name", "names", multiple=True, metavar="RUN=LABEL", help="Row label of a run.")
@_rules_option
@click.option(
    "--with-reference",
    "references",
    multiple=True,
    type=click.Choice(_REFERENCES),
    help="Add published rows (amber: the AMBER paper's main table; crtnet-attr: the CRTNet "
    "supplement's attribute table) to the layouts whose columns they fill.",
)
@click.option(
    "--ci",
    "level",
    type=click.FloatRange(0, 100, min_open=True, max_open=True),
    default=None,
    help="Add bootstrap percentile intervals at this level (e.g. 95), resampling images.",
)
@click.option(
    "--with-ceiling",
    "ceilings",
    multiple=True,
    type=click.Path(exists=True),
    metavar="CARD_OR_RUN",
    help="Add the judge's own row on the oracle captions under the model rows: a "
    "judge-card.json written by amber-eval judge-check, or its run folder.",
)
@unknown_option
@_ci_options[0]
@_ci_options[1]
@keeps_inputs(inputs={"--with-ceiling": "ceilings"}, outputs={"--out": "out"})
def report(
    runs: tuple[str, ...],
    layout: str,
    fmt: str,
    out: Path | None,
    names: tuple[str, ...],
    rules: str,
    references: tuple[str, ...],
    level: float | None,
    ceilings: tuple[str, ...],
    unknown: str,
    seed: int,
    resamples: int,
) -> None:
    """Tables (LaTeX, Markdown, CSV, JSON) or the HTML report of RUN folders.

    Each RUN is a run folder (results/<model>/<llm>-<hash>), a model folder (all its finished
    runs) or a results folder (every finished run of every model). --mode names the scoring
    rules; --unknown the parse policy of strict Yes/No metrics.
    """
    from amber_eval.checks.judge_card import ceiling_run
    from amber_eval.reporting.run_data import load_run, resolve_run_dirs

    if unknown == "exclude" and rules != "strict":
        raise click.UsageError(
            "--unknown exclude applies to strict scores; the official rules count every answer "
            "as the upstream scorer does"
        )

    loaded = [load_run(folder) for folder in resolve_run_dirs(runs)]
    ceiling = [ceiling_run(path) for path in ceilings]
    settings = _ci(level, resamples, seed)
    if fmt == "html":
        from amber_eval.reporting.html import render_html

        text = render_html(
            loaded,
            rules=rules,  # type: ignore[arg-type]
            names=run_label_pairs(names),
            references=references,
            ci=settings,
            ceiling=ceiling,
            unknown=unknown,  # type: ignore[arg-type]
        )
    else:
        from amber_eval.reporting.formats import render_table
        from amber_eval.reporting.tables import build_table

        table = build_table(
            loaded,
            layout=layout,
            rules=rules,  # type: ignore[arg-type]
            names=run_label_pairs(names),
            references=references,
            ci=settings,
            ceiling=ceiling,
            unknown=unknown,  # type: ignore[arg-type]
        )
        text = render_table(table, fmt)
    emit_text(text, out, [*loaded, *ceiling])


@click.command()
@click.argument("run_a", type=click.Path(exists=True, file_okay=False))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False))
@_rules_option
@click.option(
    "--layout",
    type=click.Choice(_LAYOUTS),
    default="full",
    show_default=True,
    help="Compare the (ranked) metrics of this layout.",
)
@paired_interval_options
@click.option(
    "--format", "fmt", type=click.Choice(COMPARISON_RENDERERS.names()), default="markdown"
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name-a", help="Label of RUN_A.")
@click.option("--name-b", help="Label of RUN_B.")
def compare(
    run_a: str,
    run_b: str,
    rules: str,
    layout: str,
    level: float,
    seed: int,
    resamples: int,
    fmt: str,
    out: Path | None,
    name_a: str | None,
    name_b: str | None,
) -> None:
    """Paired bootstrap difference RUN_A - RUN_B per metric, with which intervals exclude 0.

    Both runs are resampled with the same images each time.
    """
    from amber_eval.reporting.compare import compare_runs, render_comparison
    from amber_eval.reporting.run_data import load_run, resolve_run_dirs

    folders = [resolve_run_dirs([path]) for path in (run_a, run_b)]
    for given, found in zip((run_a, run_b), folders, strict=True):
        if len(found) != 1:
            raise InputError(f"{given}: compare needs one run folder, found {len(found)} runs")
    runs = [load_run(found[0]) for found in folders]
    comparison = compare_runs(
        runs[0],
        runs[1],
        label_a=name_a,
        label_b=name_b,
        rules=rules,  # type: ignore[arg-type]
        layout=layout,
        ci=_ci(level, resamples, seed),
    )
    emit_text(render_comparison(comparison, fmt), out, runs)
