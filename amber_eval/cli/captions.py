"""``amber-eval captions``: check, import and score region-caption dumps."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from amber_eval.cli.lazy import LazyGroup, command_registry
from amber_eval.cli.options import (
    caption_selection_options,
    data_dir_option,
    keeps_inputs,
    limit_images_option,
    selection_settings,
)

SUBCOMMANDS = command_registry()
SUBCOMMANDS.add_lazy(
    "import",
    "amber_eval.cli.captions_import:import_captions",
    "Convert another model's region captions into a caption dump.",
)


@click.group("captions", cls=LazyGroup, lazy=SUBCOMMANDS)
def captions() -> None:
    """Check, import and score region-caption dumps."""


@captions.command("check", short_help="Validate a caption dump and list every problem.")
@click.argument("dump", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--any-images",
    is_flag=True,
    help="Accept image names other than AMBER_1.jpg .. AMBER_1004.jpg.",
)
def check(dump: Path, any_images: bool) -> None:
    """Validate DUMP: list every problem (exit 2), or print a summary (exit 0)."""
    from amber_eval.captions.dump import AMBER_IMAGES, CaptionDumpError, read_dump

    try:
        loaded = read_dump(dump, known_images=None if any_images else AMBER_IMAGES)
    except CaptionDumpError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(f"error: {dump}: {count} problem{'s' * (count != 1)}", err=True)
        sys.exit(2)
    click.echo(summarize(loaded, expected=None if any_images else len(AMBER_IMAGES)))


def summarize(dump: Any, expected: int | None) -> str:
    """A few lines describing a valid dump."""
    header = dump.header
    counts = [len(entry.regions) for entry in dump.images]
    regions = [region for entry in dump.images for region in entry.regions]
    lines = [
        f"{dump.path}: valid caption dump (format {header.format} v{header.version})",
        f"captioner: {header.captioner.name} {header.captioner.version or ''}".rstrip()
        + f", created {header.created}",
    ]
    of = f" of {expected}" if expected is not None else ""
    lines.append(f"images: {len(counts)}{of}")
    if counts:
        lines.append(
            f"regions: {len(regions)} (per image min {min(counts)}, "
            f"mean {len(regions) / len(counts):.1f}, max {max(counts)}; "
            f"{sum(c == 0 for c in counts)} images without regions)"
        )
        scored = sum(r.score is not None for r in regions)
        boxed = sum(r.bbox is not None for r in regions)
        masked = sum(r.mask is not None for r in regions)
        labelled = sum(r.label is not None for r in regions)
        lines.append(f"with score: {scored}, bbox: {boxed}, mask: {masked}, label: {labelled}")
    return "\n".join(lines)


@captions.command("score", short_help="Caption coverage (CHAIR, Cover, Hal, Cog) of a dump.")
@click.argument("source", metavar="FILE|oracle")
@click.option(
    "--spacy-model",
    help="spaCy pipeline (name or folder) with word vectors (default: en_core_web_lg).",
)
@limit_images_option
@caption_selection_options
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result as JSON (replaced atomically).",
)
@data_dir_option
@keeps_inputs(inputs={"SOURCE": "source"}, outputs={"--json": "json_out"})
def score(
    source: str,
    spacy_model: str | None,
    limit_images: int | None,
    json_out: Path | None,
    data_dir: Path | None,
    **selection: Any,
) -> None:
    """Caption coverage: each image's captions scored as a description (CHAIR, Cover, Hal, Cog).

    SOURCE is a caption dump or 'oracle'. Without a spaCy pipeline the coverage block is
    reported as not available, with the reason.
    """
    from amber_eval.captions.coverage import coverage_json
    from amber_eval.captions.selection import select_captions
    from amber_eval.captions.sources import load_captions
    from amber_eval.data import load_benchmark
    from amber_eval.io import atomic_write_json

    benchmark = load_benchmark(data_dir)
    captions = load_captions(source, benchmark)
    dump, report = captions.dump, captions.oracle_report
    settings = selection_settings(selection)
    selected = select_captions(dump, settings)
    if limit_images is None:
        images = [image for image in benchmark.images if image in selected]
    else:
        images = list(benchmark.first_images(limit_images))
    if report is not None:
        click.echo(report.summary())
    block = coverage_json(
        benchmark, selected, images=images, spacy_model=spacy_model, progress=sys.stderr.isatty()
    )
    click.echo(format_coverage(block))
    if json_out is not None:
        atomic_write_json(
            json_out,
            {
                "captioner": dump.header.captioner.to_json(),
                "selection": settings.to_json(),
                "oracle": None if report is None else report.to_json(),
                "coverage": block,
            },
        )


def format_coverage(block: dict[str, Any]) -> str:
    """The coverage block as a small table (or the reason it is not available)."""
    if not block.get("available", True):
        return f"caption coverage: n/a ({block.get('reason')})"
    from amber_eval.captions.coverage import METRICS
    from amber_eval.terms import RULES

    lines = [f"caption coverage of {block['images']} images ({block.get('similarity')})"]
    lines.append(f"{'mode':<10}" + "".join(f"{m:>9}" for m in METRICS))
    for mode in RULES:
        values = block[mode]
        digits = 2 if mode == "strict" else 1  # official values are rounded like the upstream
        cells = "".join(
            f"{'n/a':>9}" if values.get(m) is None else f"{values[m]:>9.{digits}f}" for m in METRICS
        )
        lines.append(f"{mode:<10}{cells}")
    return "\n".join(lines)
