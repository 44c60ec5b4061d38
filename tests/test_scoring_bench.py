"""The benchmark's enumeration of the upstream's similarity calls, and its stand-in pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_scoring_helpers import ASSOCIATION, SAFE_WORDS, make_similarity

from amber_eval.benchmarks.scoring import upstream_similarity_pairs
from amber_eval.scoring.generative import Vocabulary

VOCAB = Vocabulary(association=ASSOCIATION, safe_words=SAFE_WORDS)


def test_upstream_pairs_follow_the_walks() -> None:
    table = make_similarity({("wolf", "horse"): 0.9, ("tree", "dog"): 0.9})
    calls = upstream_similarity_pairs(
        ["background", "dog", "puppy", "wolf", "tree"],
        truth=("dog",),
        hallu=("cat", "horse"),
        vocabulary=VOCAB,
        similar=table.similar,
    )
    # background: safe word; dog, puppy: in S. wolf: Hw = kitten, cat, horse (stops at horse),
    # then S = puppy, dog (none similar). tree: all of Hw, then S up to dog.
    assert calls == [
        ("wolf", "kitten"),
        ("wolf", "cat"),
        ("wolf", "horse"),
        ("wolf", "puppy"),
        ("wolf", "dog"),
        ("tree", "kitten"),
        ("tree", "cat"),
        ("tree", "horse"),
        ("tree", "puppy"),
        ("tree", "dog"),
    ]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*W008")
def test_standin_pipeline_is_full_and_keeps_the_similarities(
    parity_dir: Path, tmp_path: Path
) -> None:
    import spacy

    from amber_eval.benchmarks.spacy_standin import build_standin_pipeline

    source = spacy.load(parity_dir / "glove50-amber-vocab")
    standin = spacy.load(build_standin_pipeline(parity_dir / "glove50-amber-vocab", tmp_path / "p"))
    assert {"tok2vec", "tagger", "parser", "ner"} <= set(standin.pipe_names)
    doc = standin("A dog runs.")
    assert all(token.tag_ for token in doc)
    for a, b in [("dog", "cat"), ("e-book", "book"), ("TV", "sofa"), ("man", "woman")]:
        assert standin(a).similarity(standin(b)) == source(a).similarity(source(b))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*W008")
def test_table_of_a_full_pipeline_equals_its_per_word_calls(
    parity_dir: Path, benchmark, tmp_path: Path
) -> None:
    """Leaving vector-neutral components out changes no similarity."""
    import numpy as np
    import spacy

    from amber_eval.benchmarks.spacy_standin import build_standin_pipeline
    from amber_eval.scoring.similarity import load_similarity, neutral_components

    path = build_standin_pipeline(parity_dir / "glove50-amber-vocab", tmp_path / "p")
    assert neutral_components(path) == ["tok2vec", "tagger", "parser", "attribute_ruler", "ner"]
    table = load_similarity(str(path), vocabulary=benchmark.vocabulary, cache_dir=tmp_path / "c")
    full = spacy.load(path)
    docs = [full(word) for word in table.words]
    expected = np.array([[a.similarity(b) for b in docs] for a in docs])
    assert (table.values == expected).all()
