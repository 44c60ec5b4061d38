"""Entry point of the ``amber-eval`` command."""

from __future__ import annotations

import logging
import sys
import traceback

import click

from amber_eval import __version__
from amber_eval.cli.lazy import LazyGroup, command_registry
from amber_eval.errors import user_error

COMMANDS = command_registry()
"""Every top-level command: name -> ``module:attribute`` of its click command, short help."""
for _name, _target, _help in (
    ("score", "amber_eval.cli.score:score", "Score a response file (official or strict mode)."),
    ("bench-score", "amber_eval.cli.bench:bench_score", "Time full-set scoring vs the upstream."),
    ("data", "amber_eval.cli.data:data", "Fetch, verify and locate AMBER's data files."),
    ("captions", "amber_eval.cli.captions:captions", "Check, import and score caption dumps."),
    ("prompts", "amber_eval.cli.prompts:prompts", "Render the Yes/No prompts from captions."),
    ("llms", "amber_eval.cli.judge:llms", "List the LLM judge presets."),
    ("ask", "amber_eval.cli.judge:ask", "Answer a prompts file with an LLM judge."),
    ("bench", "amber_eval.cli.bench:bench", "Benchmark the judge against the naive loop."),
    ("run", "amber_eval.cli.run:run", "Captions -> prompts -> judge -> scores, resumable."),
    ("report", "amber_eval.cli.report:report", "Tables (LaTeX, Markdown, CSV, JSON, HTML)."),
    ("compare", "amber_eval.cli.report:compare", "Paired bootstrap difference of two runs."),
    (
        "judge-check",
        "amber_eval.cli.checks:judge_check",
        "The judge's ceiling on the oracle captions (judge card).",
    ),
    (
        "agree",
        "amber_eval.cli.checks:agree",
        "Agreement (kappa) between runs on the same questions.",
    ),
    (
        "protocol-gap",
        "amber_eval.cli.checks:protocol_gap",
        "The protocol on an MLLM's descriptions against its direct answers.",
    ),
    (
        "jury",
        "amber_eval.cli.jury:jury",
        "A run folder of the majority answers of several runs.",
    ),
    (
        "sensitivity",
        "amber_eval.cli.checks:sensitivity",
        "F1 under protocol variants (template, caption order, system prompt).",
    ),
    ("segment", "amber_eval.cli.segment:segment", "Dump region captions for a folder of images."),
    ("segmenters", "amber_eval.cli.segment:segmenters", "List mask sources and captioners."),
    ("bench-segment", "amber_eval.cli.bench:bench_segment", "Time a mask source + captioner."),
    (
        "bench-report",
        "amber_eval.cli.bench:bench_report",
        "Time the bootstrap and the HTML report.",
    ),
    ("bench-pairs", "amber_eval.cli.bench:bench_pairs", "Parse-and-filter memory and throughput."),
    (
        "bench-gpu",
        "amber_eval.cli.bench:bench_gpu",
        "Every GPU figure in one command (no network).",
    ),
    (
        "filter-pairs",
        "amber_eval.cli.filter_pairs:filter_pairs",
        "Parse-and-filter image-text pairs.",
    ),
):
    COMMANDS.add_lazy(_name, _target, _help)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="amber-eval")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Evaluate region-caption models and multimodal LLMs on the AMBER hallucination benchmark."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("amber_eval").setLevel(level)  # also when logging was set up before


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: user errors print ``error: ...`` and exit with code 2, bugs exit with 1.

    The one place that turns failures into messages: an :class:`AmberEvalError` or an
    operating-system error naming its file (:func:`amber_eval.errors.user_error`) is the
    user's to fix; anything else prints a one-line summary (the traceback with ``-vv``).
    """
    try:
        cli.main(args=argv, prog_name="amber-eval", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _show_click_error(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:
        error = user_error(exc)
        if error is not None:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        if logging.getLogger("amber_eval").isEnabledFor(logging.DEBUG):  # -vv
            traceback.print_exception(exc)
        summary = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(
            f"error: unexpected {type(exc).__name__}{': ' + summary if summary else ''} "
            "(a bug in amber-eval; run with -vv for the traceback)",
            err=True,
        )
        sys.exit(1)


def _show_click_error(exc: click.ClickException) -> None:
    """Usage errors as click shows them, with the same ``error:`` prefix as the others."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        hint = f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help."
        click.echo(f"{ctx.get_usage()}\n{hint}\n", err=True)
    click.echo(f"error: {exc.format_message()}", err=True)
