"""A tiny hand-built AMBER for the scoring unit tests (imported by the other test_scoring_* files)."""

from __future__ import annotations

from pathlib import Path

from amber_eval.data.benchmark import Benchmark, Dimension, GenerativeItem, Question
from amber_eval.scoring import SimilarityTable

ASSOCIATION = {
    "dog": ("puppy",),
    "cat": ("kitten",),
    "grass": ("lawn",),
    "sky": ("background",),
    "horse": (),
    "wolf": (),
    "tree": (),
    "TV": (),
}
SAFE_WORDS = frozenset({"background"})


def make_benchmark(
    generative: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
    questions: dict[int, tuple[Dimension, bool]] | None = None,
) -> Benchmark:
    """Generative items ``id -> (truth, hallu)``; questions ``id -> (dimension, truth)``."""
    generative = generative or {}
    questions = questions or {}
    gen = {
        i: GenerativeItem(
            id=i, image=f"AMBER_{i}.jpg", text="Describe this image.", truth=t, hallu=h
        )
        for i, (t, h) in generative.items()
    }
    qs = {
        i: Question(id=i, image="AMBER_1.jpg", text="Is there a dog?", dimension=dim, truth=truth)
        for i, (dim, truth) in questions.items()
    }
    gen_ids = tuple(gen)
    q_ids = tuple(qs)

    def dim_ids(*dims: Dimension) -> tuple[int, ...]:
        return tuple(i for i, q in qs.items() if q.dimension in dims)

    query_ids = {
        "query/query_all.json": gen_ids + q_ids,
        "query/query_generative.json": gen_ids,
        "query/query_discriminative.json": q_ids,
        "query/query_discriminative-existence.json": dim_ids(Dimension.EXISTENCE),
        "query/query_discriminative-attribute.json": dim_ids(
            Dimension.STATE, Dimension.NUMBER, Dimension.ACTION
        ),
        "query/query_discriminative-relation.json": dim_ids(Dimension.RELATION),
    }
    return Benchmark(
        data_dir=Path("/nonexistent"),
        questions=qs,
        generative=gen,
        association=ASSOCIATION,
        safe_words=SAFE_WORDS,
        _query_ids=query_ids,
    )


def make_similarity(pairs: dict[tuple[str, str], float] | None = None) -> SimilarityTable:
    words = set(ASSOCIATION) | {w for ws in ASSOCIATION.values() for w in ws}
    return SimilarityTable.from_pairs(sorted(words), pairs or {})


def test_hand_built_benchmark_lists_ids_per_type() -> None:
    bench = make_benchmark(
        {1: (("dog",), ("cat",))},
        {2: (Dimension.EXISTENCE, False), 3: (Dimension.STATE, True)},
    )
    assert bench.expected_ids("a") == (1, 2, 3)
    assert bench.expected_ids("de") == (2,)
    assert bench.expected_ids("da") == (3,)
    assert bench.expected_ids("dr") == ()


def test_hand_built_similarity_is_symmetric_with_a_unit_diagonal() -> None:
    table = make_similarity({("wolf", "dog"): 0.9})
    assert table.similar("dog", "wolf") and table.similar("wolf", "dog")
    assert table.similar("cat", "cat")
    assert not table.similar("cat", "dog")
