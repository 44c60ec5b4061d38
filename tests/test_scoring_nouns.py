"""Noun extraction: the compact lemmatizer equals NLTK's, workers and cache change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amber_eval.scoring.lemmas import NounLemmatizer
from amber_eval.scoring.nouns import NounCache, extract_noun_forms, extract_nouns_many


def upstream_extract_nouns(text: str) -> list[str]:
    """The upstream scorer's extract_nouns, verbatim in behaviour."""
    import nltk
    from nltk.stem import WordNetLemmatizer

    lemmatizer = WordNetLemmatizer()
    tagged = nltk.pos_tag(nltk.word_tokenize(text))
    return [lemmatizer.lemmatize(word) for word, pos in tagged if pos.startswith("NN")]


@pytest.fixture(scope="module")
def descriptions(parity_dir: Path) -> list[str]:
    entries = json.loads((parity_dir / "descriptions.json").read_text())
    return [entry["response"] for entry in entries]


@pytest.mark.slow
def test_compact_lemmatizer_equals_nltk(nltk_data_dir: Path, descriptions: list[str]) -> None:
    import nltk
    from nltk.stem import WordNetLemmatizer

    compact = NounLemmatizer.load()
    reference = WordNetLemmatizer()
    words = {token for text in descriptions for token in nltk.word_tokenize(text)}
    words |= {w.capitalize() for w in words} | set(compact.exceptions)
    words |= {w + "s" for w in sorted(compact.lemmas)[::20]}
    words |= {"us", "geese", "Men", "women", "species", "glasses", "TVs", "e-books", "", "s"}
    mismatches = [w for w in sorted(words) if compact.lemmatize(w) != reference.lemmatize(w)]
    assert mismatches == []
    assert len(words) > 5000


def test_noun_forms_keep_upstream_lemmas_and_add_lowercased_ones(nltk_data_dir: Path) -> None:
    forms = extract_noun_forms("Dogs chase two cats on the grass. TV sets glow.")
    assert forms == [
        ("Dogs", "dog"),
        ("cat", "cat"),
        ("grass", "grass"),
        ("TV", "tv"),
        ("set", "set"),
    ]


def test_workers_and_cache_give_the_upstream_nouns(
    nltk_data_dir: Path, descriptions: list[str], tmp_path: Path, monkeypatch
) -> None:
    from amber_eval.scoring import nouns

    sample = descriptions[:240]
    cache = NounCache(tmp_path / "nouns.sqlite")
    monkeypatch.setattr(nouns, "POOL_MIN_CHARS", 1000)  # make this small sample use workers
    pooled = extract_nouns_many(sample, cache=cache, workers=2)
    assert [[lemma for lemma, _ in forms] for forms in pooled] == [
        upstream_extract_nouns(text) for text in sample
    ]
    assert len(cache.get_many([])) == 0
    from amber_eval.scoring.nouns import text_key

    assert len(cache.get_many(text_key(t) for t in sample)) == len(set(sample))
    # Served from the cache: the same lists, with no NLTK work.
    assert extract_nouns_many(sample, cache=cache, workers=1) == pooled
    # In this process, without any cache: the same again.
    assert extract_nouns_many(sample, cache=False, workers=0) == pooled
    cache.close()


VARIED = [
    "In 1999, a well-known chef's dog (a 3-year-old Labrador) didn't eat 2 apples!",
    'He said, "The TV is on." Then the cats left... Dr. Smith arrived at 5 p.m.',
    "A man and a woman ride bikes; their kids—Tom & Ann—wave at the e-book reader.",
    "The image shows a dog. The image shows a dog. The image shows a cat.",
    "",
    "Two zebras graze near the air-conditioning unit of the 12th-floor office in 2024.",
]


def test_memoised_tokenizer_and_tagger_equal_nltk(
    nltk_data_dir: Path, descriptions: list[str]
) -> None:
    import nltk

    from amber_eval.scoring.tagging import MemoTagger

    tagger = MemoTagger()
    for text in VARIED + descriptions[:300] + VARIED:
        assert tagger.tokenize_and_tag(text) == nltk.pos_tag(nltk.word_tokenize(text))
