"""``amber-eval prompts``: captions -> one Yes/No prompt per AMBER question (prompts.jsonl)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from amber_eval.cli.options import (
    caption_selection_options,
    data_dir_option,
    keeps_inputs,
    limit_images_option,
    selection_settings,
)


@click.command("prompts")
@click.option(
    "--captions",
    "captions_source",
    required=True,
    metavar="FILE|oracle",
    help="A caption dump, or 'oracle' for captions built from AMBER's annotations.",
)
@click.option(
    "--template",
    default="paper",
    show_default=True,
    metavar="NAME|PATH",
    help="A built-in template (paper, paper-alt) or a Jinja template file.",
)
@limit_images_option
@caption_selection_options
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The prompts file to write (JSONL; replaced atomically).",
)
@data_dir_option
@keeps_inputs(
    inputs={"--captions": "captions_source", "--template": "template"}, outputs={"--out": "out"}
)
def prompts(
    captions_source: str,
    template: str,
    limit_images: int | None,
    out: Path,
    data_dir: Path | None,
    **selection: Any,
) -> None:
    """Render one prompt per Yes/No question: id, image, dimension, truth, prompt."""
    from amber_eval.captions.selection import select_captions
    from amber_eval.captions.sources import load_captions
    from amber_eval.data import load_benchmark
    from amber_eval.prompting import load_template, render_prompts, write_prompts

    benchmark = load_benchmark(data_dir)
    loaded = load_template(template)
    captions = load_captions(captions_source, benchmark)
    report = captions.oracle_report
    if report is not None and report.unmatched_count:
        click.echo(report.summary(), err=True)
    selected = select_captions(captions.dump, selection_settings(selection))
    images = benchmark.first_images(limit_images)
    loaded.compiled  # noqa: B018 - compile before timing the rendering
    start = time.perf_counter()
    records = render_prompts(benchmark, selected, template=loaded, images=images)
    elapsed = time.perf_counter() - start
    write_prompts(out, records)
    per_thousand = elapsed / max(len(records), 1) * 1000
    click.echo(
        f"wrote {len(records)} prompts for {len(images)} images to {out} "
        f"(template {loaded.name}; rendered in {elapsed:.3f} s, {per_thousand:.4f} s per 1000)"
    )
