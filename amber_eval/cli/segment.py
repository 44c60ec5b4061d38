"""``amber-eval segment`` and ``segmenters``: region captions for images."""

from __future__ import annotations

from pathlib import Path

import click

from amber_eval.cli.options import F, keeps_inputs, progress_option

MASK_OPTION_HELP = (
    "A mask source setting KEY=VALUE (repeatable; `amber-eval segmenters` lists them)."
)
CAPTIONER_OPTION_HELP = (
    "A captioner setting KEY=VALUE (repeatable; `amber-eval segmenters` lists them)."
)


def component_options(function: F) -> F:
    """``-M/--mask-option`` and ``-C/--captioner-option`` (``mask_pairs``, ``captioner_pairs``)."""
    function = click.option(
        "-C",
        "--captioner-option",
        "captioner_pairs",
        multiple=True,
        metavar="KEY=VALUE",
        help=CAPTIONER_OPTION_HELP,
    )(function)
    return click.option(
        "-M",
        "--mask-option",
        "mask_pairs",
        multiple=True,
        metavar="KEY=VALUE",
        help=MASK_OPTION_HELP,
    )(function)


def component_settings(
    pairs: tuple[str, ...], flag: str, extra: dict[str, object | None]
) -> dict[str, object]:
    from amber_eval.segmenter.options import parse_pairs

    options: dict[str, object] = dict(parse_pairs(pairs, flag=flag))
    options.update({k: v for k, v in extra.items() if v is not None})
    return options


@click.command("segment")
@click.option(
    "--images",
    "images_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of images (AMBER_<n>.jpg). Optional for captioners that need no pixels (oracle).",
)
@click.option("--masks", "mask_name", default="grid", show_default=True, help="Mask source name.")
@click.option("--captioner", "captioner_name", required=True, help="Captioner name.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The caption dump to write (resumed when it exists), e.g. results/<model>/captions.jsonl.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes for images (weight-free components; models use one process).",
)
@component_options
@click.option(
    "--granularity",
    type=int,
    help="Mask source granularity (grid cells a side, segments, SAM points a side).",
)
@click.option(
    "--points",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SAM point prompts: JSON {image: [[x, y], ...]}.",
)
@click.option("--vocabulary", help="clip-vocab vocabulary: 'default', 'amber' or a file.")
@click.option("--limit-images", type=click.IntRange(min=1), help="Only the first N images.")
@progress_option
@keeps_inputs(inputs={"--points": "points", "--vocabulary": "vocabulary"}, outputs={"--out": "out"})
def segment(
    images_dir: Path | None,
    mask_name: str,
    captioner_name: str,
    out: Path,
    workers: int,
    mask_pairs: tuple[str, ...],
    captioner_pairs: tuple[str, ...],
    granularity: int | None,
    points: Path | None,
    vocabulary: str | None,
    limit_images: int | None,
    progress: bool,
) -> None:
    """Dump region captions for a folder of images: masks -> captions -> captions.jsonl.

    A rerun resumes: images already in --out are skipped. Unreadable images are reported,
    counted and skipped.
    """
    from amber_eval.segmenter.run import segment_folder

    mask_options = component_settings(
        mask_pairs,
        "-M",
        {"granularity": granularity, "points": None if points is None else str(points)},
    )
    captioner_options = component_settings(captioner_pairs, "-C", {"vocabulary": vocabulary})
    summary = segment_folder(
        images_dir,
        out,
        masks=mask_name,
        captioner=captioner_name,
        mask_options=mask_options,
        captioner_options=captioner_options,
        workers=workers,
        limit=limit_images,
        progress=progress,
        notice=lambda text: click.echo(text, err=True),
    )
    for line in summary.lines():
        click.echo(line)


@click.command("segmenters")
@click.option(
    "--options/--no-options",
    "show_options",
    default=True,
    show_default=True,
    help="Also list each one's settings (imports the modules, not the models).",
)
def segmenters(show_options: bool) -> None:
    """List the mask sources and captioners, with their settings."""
    from amber_eval.segmenter.catalog import CAPTIONERS, MASK_SOURCES, settings_class
    from amber_eval.segmenter.options import describe_settings

    for title, registry in (
        ("mask sources (--masks)", MASK_SOURCES),
        ("captioners (--captioner)", CAPTIONERS),
    ):
        click.echo(f"{title}:")
        for entry in registry:
            click.echo(f"  {entry.name:<14} {entry.description}")
            settings = settings_class(entry) if show_options else None
            if settings is not None:
                for name, kind, default in describe_settings(settings):
                    click.echo(f"      {name}={default}  ({kind})")
