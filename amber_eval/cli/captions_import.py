"""``amber-eval captions import``: another model's region captions -> a caption dump."""

from __future__ import annotations

from pathlib import Path

import click

from amber_eval.cli.options import keeps_inputs


@click.command("import")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "from_format",
    type=click.Choice(["jsonl", "coco", "descriptions"]),
    required=True,
    help="jsonl: per-image region captions (JSONL, a JSON list or {image: regions}); "
    "coco: COCO-style results with captions; "
    "descriptions: an AMBER response file ({id, response}), one region per sentence.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The caption dump to write (replaced atomically).",
)
@click.option(
    "--name", default="imported", show_default=True, help="Captioner name for the header."
)
@click.option("--version", "version", default=None, help="Captioner version for the header.")
@click.option(
    "--bbox-format",
    type=click.Choice(["xyxy", "xywh"]),
    default="xyxy",
    show_default=True,
    help="jsonl boxes: [x0, y0, x1, y1] or [x, y, w, h] (coco is always xywh).",
)
@click.option(
    "--image-names",
    type=click.Path(dir_okay=False, path_type=Path),
    help='coco: JSON {"<image_id>": "<file name>"} or a COCO file with an "images" list.',
)
@click.option(
    "--split",
    type=click.Choice(["sentence", "clause"]),
    default="sentence",
    show_default=True,
    help="descriptions: one region per sentence, or per clause.",
)
@click.option(
    "--any-images/--amber-images",
    "any_images",
    default=False,
    show_default=True,
    help="Accept image names other than AMBER_1.jpg .. AMBER_1004.jpg.",
)
@keeps_inputs(inputs={"SOURCE": "source", "--image-names": "image_names"}, outputs={"--out": "out"})
def import_captions(
    source: Path,
    from_format: str,
    out: Path,
    name: str,
    version: str | None,
    bbox_format: str,
    image_names: Path | None,
    split: str,
    any_images: bool,
) -> None:
    """Convert SOURCE into the caption dump format, validated before it is written."""
    from amber_eval.segmenter.importing import import_captions as run_import

    summary = run_import(
        source,
        out,
        from_format=from_format,  # type: ignore[arg-type]
        name=name,
        version=version,
        bbox_format=bbox_format,  # type: ignore[arg-type]
        image_names=image_names,
        amber_images_only=not any_images,
        split=split,  # type: ignore[arg-type]
    )
    clipped = (
        f", {summary.clipped_boxes} box(es) clipped to the image" if summary.clipped_boxes else ""
    )
    left_out = (
        f", {summary.left_out} Yes/No answer(s) left out (not descriptions)"
        if summary.left_out
        else ""
    )
    click.echo(
        f"{summary.out}: {summary.images} image(s), {summary.regions} region(s){clipped}{left_out}"
    )
