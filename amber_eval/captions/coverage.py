"""Caption coverage: an image's selected captions scored as a description of it.

Each image's captions are joined as ``", ".join(captions) + "."`` and scored with AMBER's
generative metrics (CHAIR, Cover, Hal, Cog), in strict and official mode, as the paper does for
Cover. The metrics need a spaCy pipeline with word vectors (and NLTK's resources); without them
:func:`coverage_json` reports ``{"available": false, "reason": ...}`` instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amber_eval.captions.dump import CaptionDump
from amber_eval.captions.selection import SelectionSettings, select_captions
from amber_eval.errors import AmberEvalError, InputError
from amber_eval.progress import rate_progress

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark
    from amber_eval.scoring.similarity import SimilarityTable

METRICS = ("CHAIR", "Cover", "Hal", "Cog")


def caption_description(captions: Sequence[str]) -> str:
    """``["a dog", "grass"]`` -> ``"a dog, grass."`` (the text that is scored)."""
    return ", ".join(captions) + "."


@dataclass(frozen=True)
class CaptionCoverage:
    """Strict and official generative blocks of the captions, and their per-image records
    (``coverage.jsonl``'s lines: the strict ones, then the official ones)."""

    strict: dict[str, float | None]
    official: dict[str, float | None]
    items: tuple[dict[str, Any], ...]
    images: int
    similarity_source: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "available": True,
            "images": self.images,
            "similarity": self.similarity_source,
            "strict": self.strict,
            "official": self.official,
        }


def caption_coverage(
    benchmark: Benchmark,
    captions: CaptionDump | Mapping[str, Sequence[str]],
    *,
    images: Iterable[str] | None = None,
    settings: SelectionSettings | None = None,
    spacy_model: str | None = None,
    similarity: SimilarityTable | None = None,
    progress: bool = False,
) -> CaptionCoverage:
    """Score the captions of ``images`` (default: every image the captions have, in AMBER order).

    ``captions`` is a dump (selected with ``settings``, default :class:`SelectionSettings`) or
    already selected captions (image -> list). A missing spaCy pipeline or NLTK resource raises
    :class:`~amber_eval.errors.ResourceError`.
    """
    from amber_eval.run_folder.coverage_line import coverage_json
    from amber_eval.scoring.generative import Vocabulary, score_generative
    from amber_eval.terms import RULES

    selected: Mapping[str, Sequence[str]]
    if isinstance(captions, CaptionDump):
        selected = select_captions(captions, settings or SelectionSettings())
    else:
        selected = captions
    ids_by_image = {item.image: item.id for item in benchmark.generative.values()}
    if images is None:
        wanted = [image for image in benchmark.images if image in selected]
    else:
        wanted = list(images)
    unknown = [image for image in wanted if image not in ids_by_image]
    if unknown:
        raise InputError(f"{len(unknown)} image(s) are not AMBER images: {', '.join(unknown[:5])}")
    missing = [image for image in wanted if image not in selected]
    if missing:
        raise InputError(
            f"the captions have no entry for {len(missing)} image(s) (first: "
            f"{', '.join(missing[:5])})"
        )
    descriptions = {ids_by_image[image]: caption_description(selected[image]) for image in wanted}
    if similarity is None:
        from amber_eval.scoring.similarity import DEFAULT_SPACY_MODEL, load_similarity

        similarity = load_similarity(
            spacy_model or DEFAULT_SPACY_MODEL,
            vocabulary=Vocabulary.from_benchmark(benchmark).words,
        )
    strict = _score(score_generative, descriptions, "strict", benchmark, similarity, progress)
    official = _score(score_generative, descriptions, "official", benchmark, similarity, False)
    items = tuple(
        coverage_json(record, rules=rules, description=descriptions[record.id])
        for rules, result in zip(RULES, (strict, official), strict=True)
        for record in result.items
    )
    return CaptionCoverage(
        strict=dict(strict.block),
        official=dict(official.block),
        items=items,
        images=len(descriptions),
        similarity_source=getattr(similarity, "source", None),
    )


def _score(
    scorer: Any,
    descriptions: Mapping[int, str],
    rules: str,
    benchmark: Benchmark,
    similarity: SimilarityTable,
    progress: bool,
) -> Any:
    with rate_progress(
        len(descriptions),
        "caption coverage: nouns",
        "descriptions",
        enabled=progress,
        transient=True,
    ) as advance:
        return scorer(
            descriptions,
            rules=rules,
            benchmark=benchmark,
            similarity=similarity,
            progress=advance,
        )


def coverage_json(
    benchmark: Benchmark,
    captions: CaptionDump | Mapping[str, Sequence[str]],
    **options: Any,
) -> dict[str, Any]:
    """:func:`caption_coverage` as JSON, or ``{"available": false, "reason": ...}``."""
    try:
        return caption_coverage(benchmark, captions, **options).to_json()
    except InputError:
        raise
    except AmberEvalError as exc:
        return {"available": False, "reason": str(exc)}
