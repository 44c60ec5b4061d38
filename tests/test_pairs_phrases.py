"""Noun phrases from captions: the NLTK chunk grammar (default) and spaCy's noun chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from amber_eval.errors import InputError, ResourceError
from amber_eval.pairs.phrases import (
    DEFAULT_GRAMMAR,
    NltkPhraseParser,
    ParserSettings,
    SpacyPhraseParser,
    load_spacy,
    make_parser,
    strip_leading,
)


@pytest.fixture(scope="module")
def nltk_parser(nltk_data_dir: Path) -> NltkPhraseParser:
    return NltkPhraseParser()


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        # DT dropped; VBG between phrases is not part of a chunk.
        ("A man riding a red bike on the street.", ["man", "red bike", "street"]),
        # CD and JJ modifiers are kept; the possessive pronoun (PRP$) is dropped.
        (
            "Two brown dogs play with his old ball in a grassy field.",
            ["Two brown dogs", "old ball", "grassy field"],
        ),
        # Noun compounds stay one phrase; "black and white" breaks at the conjunction.
        (
            "a black and white photo of the city skyline at night",
            ["white photo", "city skyline", "night"],
        ),
        # Several sentences; repeated phrases kept once per caption.
        (
            "The parked cars and a sleeping cat. A dog, a dog and the dog!",
            ["parked cars", "sleeping cat", "dog"],
        ),
        ("Running fast", []),
        ("", []),
    ],
)
def test_nltk_phrases(nltk_parser: NltkPhraseParser, caption: str, expected: list[str]) -> None:
    assert nltk_parser(caption) == expected


def test_nltk_options(nltk_data_dir: Path) -> None:
    caption = "A dog and his ball. The dog is asleep."
    keep_possessive = NltkPhraseParser(drop_tags=("DT",))
    assert keep_possessive(caption) == ["dog", "his ball"]
    no_dedupe = NltkPhraseParser(dedupe=False)
    assert no_dedupe(caption) == ["dog", "ball", "dog"]
    keep_all = NltkPhraseParser(drop_tags=())
    assert keep_all(caption) == ["A dog", "his ball", "The dog"]
    nouns_only = NltkPhraseParser(grammar="NP: {<NN.*>+}")
    assert nouns_only("a red bike and a tall tree") == ["bike", "tree"]


def test_bad_grammar_and_parser_name(nltk_data_dir: Path) -> None:
    with pytest.raises(InputError, match="invalid chunk grammar"):
        NltkPhraseParser(grammar="NP: {<NN")
    with pytest.raises(InputError, match="unknown parser 'stanza'"):
        make_parser(ParserSettings(parser="stanza"))
    with pytest.raises(InputError, match="--spacy-model"):
        make_parser(ParserSettings(parser="spacy"))


def test_missing_nltk_data_is_a_resource_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import amber_eval.nltk_resources as resources

    monkeypatch.setattr(resources, "find_resource", lambda resource: None)
    with pytest.raises(ResourceError, match="averaged_perceptron_tagger_eng"):
        NltkPhraseParser()


def test_strip_leading_only_strips_the_front() -> None:
    chunk = [("the", "DT"), ("that", "DT"), ("dog", "NN"), ("the", "DT")]
    assert strip_leading(chunk, ("DT",)) == ["dog", "the"]


def _parsed_doc(words, tags, pos, deps, heads):  # type: ignore[no-untyped-def]
    import spacy
    from spacy.tokens import Doc

    nlp = spacy.blank("en")
    return Doc(nlp.vocab, words=words, tags=tags, pos=pos, deps=deps, heads=heads)


def test_spacy_noun_chunks_drop_determiners() -> None:
    # A hand-annotated parse stands in for a trained pipeline (none can be downloaded here);
    # spaCy's own English noun_chunks iterator runs on it.
    doc = _parsed_doc(
        ["A", "man", "rides", "his", "red", "bike", "."],
        ["DT", "NN", "VBZ", "PRP$", "JJ", "NN", "."],
        ["DET", "NOUN", "VERB", "PRON", "ADJ", "NOUN", "PUNCT"],
        ["det", "nsubj", "ROOT", "poss", "amod", "dobj", "punct"],
        [1, 2, 2, 5, 5, 2, 2],
    )
    assert SpacyPhraseParser(lambda text: doc)("ignored") == ["man", "red bike"]
    keep_possessive = SpacyPhraseParser(lambda text: doc, drop_tags=("DT",))
    assert keep_possessive("ignored") == ["man", "his red bike"]


def test_spacy_without_parser_is_refused(tmp_path: Path) -> None:
    import spacy

    blank = spacy.blank("en")
    with pytest.raises(ResourceError, match="no dependency parser"):
        SpacyPhraseParser(blank)("a red bike")
    blank.to_disk(tmp_path / "blank")
    with pytest.raises(ResourceError, match="no 'parser' component"):
        load_spacy(str(tmp_path / "blank"))
    with pytest.raises(ResourceError, match="cannot load spaCy pipeline"):
        load_spacy("no_such_pipeline_xyz")


def test_settings_json_names_the_grammar() -> None:
    assert ParserSettings().to_json()["grammar"] == DEFAULT_GRAMMAR
    assert ParserSettings(parser="spacy", spacy_model="m").to_json()["grammar"] is None
