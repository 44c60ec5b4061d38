"""``amber-eval filter-pairs``: parse-and-filter of image-text pairs."""

from __future__ import annotations

from pathlib import Path

import click

from amber_eval.cli.options import progress_option
from amber_eval.pairs.encoders import DEFAULT_MODEL, DEFAULT_PRETRAINED
from amber_eval.pairs.phrases import DEFAULT_DROP_TAGS, DEFAULT_GRAMMAR, PARSERS

_DIR = click.Path(file_okay=False, path_type=Path)


@click.command("filter-pairs")
@click.option(
    "--pairs",
    "pairs",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pairs: JSONL with {id, image, caption} per line, or CSV with those columns.",
)
@click.option(
    "--ratio",
    required=True,
    type=click.FloatRange(0.0, 1.0),
    help="Fraction R of all phrases to discard: exactly floor(R x N) of the lowest.",
)
@click.option("--out", required=True, type=_DIR, help="Output folder (resumable).")
@click.option(
    "--features",
    type=_DIR,
    default=None,
    help="Precomputed region features: one NPZ per image (features, optional boxes).",
)
@click.option(
    "--images",
    type=_DIR,
    default=None,
    help="Image folder: regions from --masks, embedded by the CLIP image encoder.",
)
@click.option(
    "--masks",
    default="grid",
    show_default=True,
    help="Mask source for --images (`amber-eval segmenters` lists them).",
)
@click.option(
    "--mask-option",
    "mask_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A mask source setting, e.g. --mask-option granularity=4 (repeatable).",
)
@click.option(
    "--shard-size",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="Pairs per shard: the unit of resuming and of work split between processes.",
)
@click.option(
    "--parser",
    type=click.Choice(PARSERS),
    default="nltk",
    show_default=True,
    help="Noun-phrase parser.",
)
@click.option(
    "--grammar",
    default=DEFAULT_GRAMMAR,
    show_default=True,
    help="NLTK RegexpParser grammar; chunks labelled NP are kept.",
)
@click.option(
    "--drop-tags",
    default=",".join(DEFAULT_DROP_TAGS),
    show_default=True,
    help="Comma-separated tags dropped from the start of a phrase ('' keeps all).",
)
@click.option(
    "--keep-duplicates",
    is_flag=True,
    help="Keep repeated phrases of a caption (default: once per caption).",
)
@click.option(
    "--spacy-model",
    default=None,
    metavar="NAME|PATH",
    help="spaCy pipeline with a parser, for --parser spacy.",
)
@click.option(
    "--clip-model",
    default=DEFAULT_MODEL,
    show_default=True,
    help="open_clip model name, local-dir:FOLDER or hf-hub:ORG/REPO.",
)
@click.option(
    "--clip-pretrained",
    default=DEFAULT_PRETRAINED,
    show_default=True,
    help="open_clip pretrained tag or checkpoint file.",
)
@click.option(
    "--clip-config",
    default=None,
    type=click.Path(dir_okay=False),
    help="A model config JSON registered with open_clip before loading.",
)
@click.option("--device", default=None, help="Torch device (default: the rank's GPU, or CPU).")
@click.option("--text-batch-size", default=256, show_default=True, type=click.IntRange(1))
@click.option("--image-batch-size", default=32, show_default=True, type=click.IntRange(1))
@click.option(
    "--phrase-cache",
    default=50_000,
    show_default=True,
    type=click.IntRange(0),
    help="Phrase embeddings kept in memory.",
)
@click.option(
    "--skip-missing",
    is_flag=True,
    help="Skip pairs whose image or feature file is missing (listed in skipped.jsonl).",
)
@click.option("--restart", is_flag=True, help="Discard finished shards of an earlier run first.")
@progress_option
def filter_pairs(
    pairs: Path,
    ratio: float,
    out: Path,
    features: Path | None,
    images: Path | None,
    masks: str,
    mask_options: tuple[str, ...],
    shard_size: int,
    parser: str,
    grammar: str,
    drop_tags: str,
    keep_duplicates: bool,
    spacy_model: str | None,
    clip_model: str,
    clip_pretrained: str,
    clip_config: str | None,
    device: str | None,
    text_batch_size: int,
    image_batch_size: int,
    phrase_cache: int,
    skip_missing: bool,
    restart: bool,
    progress: bool,
) -> None:
    """Score the noun phrases of image-text pairs against image regions and discard the
    lowest-scoring fraction RATIO of all phrases.

    Writes OUT/kept.jsonl, OUT/discarded.jsonl, OUT/summary.json and OUT/histogram.png.
    Several processes: accelerate launch [--multi_gpu --num_processes N] -m amber_eval
    filter-pairs ...
    """
    from amber_eval.pairs.encoders import ClipSettings
    from amber_eval.pairs.phrases import ParserSettings
    from amber_eval.pairs.pipeline import FilterSettings
    from amber_eval.pairs.pipeline import filter_pairs as run_filter
    from amber_eval.segmenter.options import parse_pairs

    settings = FilterSettings(
        pairs=pairs,
        out=out,
        ratio=ratio,
        features=features,
        images=images,
        masks=masks,
        mask_options=tuple(sorted(parse_pairs(mask_options, flag="--mask-option").items())),
        shard_size=shard_size,
        parser=ParserSettings(
            parser=parser,
            grammar=grammar,
            drop_tags=tuple(tag.strip() for tag in drop_tags.split(",") if tag.strip()),
            spacy_model=spacy_model,
            dedupe=not keep_duplicates,
        ),
        clip=ClipSettings(
            model=clip_model,
            pretrained=clip_pretrained,
            model_config=clip_config,
            device=device,
            text_batch_size=text_batch_size,
            image_batch_size=image_batch_size,
        ),
        skip_missing=skip_missing,
        phrase_cache_size=phrase_cache,
    )
    summary = run_filter(settings, progress=progress, restart=restart)
    if summary is None:
        return
    counts = summary.data["counts"]
    threshold = summary.data["threshold"]
    cut = "nothing discarded" if threshold is None else f"cut at score {threshold['score']:.6f}"
    click.echo(
        f"{counts['pairs']} pairs, {counts['phrases']} phrases: {counts['kept']} kept, "
        f"{counts['discarded']} discarded ({cut}); outputs in {out}"
    )
