"""Noun phrases from captions (method step 1).

The default parser tags a caption with NLTK's perceptron tagger and chunks it with a regular
grammar over the tags; spaCy's ``noun_chunks`` is the alternative the paper used. Leading
determiners (by default the tags ``DT`` and ``PRP$``, the grammar's determiner slot) are
dropped from the kept phrase: "a red bike" -> "red bike".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from amber_eval.errors import InputError, ResourceError

DEFAULT_GRAMMAR = r"NP: {<DT|PRP\$>?<JJ.*|VBN|VBG|CD>*<NN.*>+}"
DEFAULT_DROP_TAGS = ("DT", "PRP$")
PARSERS = ("nltk", "spacy")


@dataclass(frozen=True)
class ParserSettings:
    """How captions become noun phrases."""

    parser: str = "nltk"
    """``nltk`` (POS tags + chunk grammar) or ``spacy`` (``noun_chunks``)."""
    grammar: str = DEFAULT_GRAMMAR
    """NLTK ``RegexpParser`` grammar; chunks labelled ``NP`` are kept."""
    drop_tags: tuple[str, ...] = DEFAULT_DROP_TAGS
    """Tags removed from the start of a phrase (determiners)."""
    spacy_model: str | None = None
    """spaCy pipeline name or folder (``spacy`` parser only); it needs a dependency parser."""
    dedupe: bool = True
    """Keep one phrase per distinct (case-insensitive) text within a caption."""

    def to_json(self) -> dict[str, object]:
        return {
            "parser": self.parser,
            "grammar": self.grammar if self.parser == "nltk" else None,
            "drop_tags": list(self.drop_tags),
            "spacy_model": self.spacy_model,
            "dedupe": self.dedupe,
        }


class PhraseParser(Protocol):
    def __call__(self, caption: str) -> list[str]: ...


def strip_leading(tokens: Sequence[tuple[str, str]], drop_tags: Sequence[str]) -> list[str]:
    """Words of a tagged chunk without its leading determiner-like tokens."""
    start = 0
    while start < len(tokens) and tokens[start][1] in drop_tags:
        start += 1
    return [word for word, _ in tokens[start:]]


def _dedupe(phrases: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for phrase in phrases:
        key = phrase.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(phrase)
    return kept


@dataclass
class NltkPhraseParser:
    """``word_tokenize`` + ``pos_tag`` + ``RegexpParser(grammar)``."""

    grammar: str = DEFAULT_GRAMMAR
    drop_tags: tuple[str, ...] = DEFAULT_DROP_TAGS
    dedupe: bool = True
    _chunker: Any = field(default=None, init=False, repr=False)
    _tagger: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        import nltk
        from nltk.tag import PerceptronTagger

        require_nltk_resources()
        # One tagger for all captions: nltk.pos_tag builds a new one per call.
        self._tagger = PerceptronTagger()
        try:
            self._chunker = nltk.RegexpParser(self.grammar)
        except ValueError as exc:
            raise InputError(f"invalid chunk grammar {self.grammar!r}: {exc}") from None

    def tagged_chunks(self, caption: str) -> list[list[tuple[str, str]]]:
        import nltk

        chunks = []
        for sentence in nltk.sent_tokenize(caption):
            tagged = self._tagger.tag(nltk.word_tokenize(sentence, preserve_line=True))
            if not tagged:
                continue
            tree = self._chunker.parse(tagged)
            for subtree in tree.subtrees(lambda node: node.label() == "NP"):
                chunks.append(list(subtree.leaves()))
        return chunks

    def __call__(self, caption: str) -> list[str]:
        phrases = []
        for chunk in self.tagged_chunks(caption):
            words = strip_leading(chunk, self.drop_tags)
            if words:
                phrases.append(" ".join(words))
        return _dedupe(phrases) if self.dedupe else phrases


@dataclass
class SpacyPhraseParser:
    """spaCy's ``doc.noun_chunks``; needs a pipeline with a dependency parser."""

    nlp: Callable[[str], Any]
    drop_tags: tuple[str, ...] = DEFAULT_DROP_TAGS
    dedupe: bool = True

    def __call__(self, caption: str) -> list[str]:
        doc = self.nlp(caption)
        if not doc.has_annotation("DEP"):
            raise ResourceError(
                "the spaCy pipeline has no dependency parser, so it has no noun chunks; "
                "use a trained pipeline such as en_core_web_sm, or --parser nltk"
            )
        phrases = []
        for chunk in doc.noun_chunks:
            tokens = [(tok.text_with_ws, tok.tag_ or tok.pos_) for tok in chunk]
            start = 0
            while start < len(tokens) and (
                tokens[start][1] in self.drop_tags
                or (not chunk[start].tag_ and chunk[start].pos_ == "DET" and "DT" in self.drop_tags)
            ):
                start += 1
            text = "".join(word for word, _ in tokens[start:]).strip()
            if text:
                phrases.append(text)
        return _dedupe(phrases) if self.dedupe else phrases


def load_spacy(model: str) -> Callable[[str], Any]:
    """Load a spaCy pipeline by package name or folder."""
    import spacy

    try:
        nlp = spacy.load(Path(model) if Path(model).is_dir() else model)
    except OSError as exc:
        raise ResourceError(
            f"cannot load spaCy pipeline {model!r} ({exc}); install it "
            f"(python -m spacy download {model}) or pass a pipeline folder"
        ) from None
    if "parser" not in nlp.pipe_names:
        raise ResourceError(
            f"spaCy pipeline {model!r} has no 'parser' component, so it has no noun chunks"
        )
    return nlp


def require_nltk_resources() -> None:
    """Raise :class:`ResourceError` when the tokenizer or tagger data is missing."""
    from amber_eval.nltk_resources import RESOURCES, find_resource

    needed = [r for r in RESOURCES if r.name in {"punkt_tab", "averaged_perceptron_tagger_eng"}]
    missing = [r.name for r in needed if find_resource(r) is None]
    if missing:
        raise ResourceError(
            f"NLTK resource(s) missing: {', '.join(missing)}. Get them with "
            f"`python -m nltk.downloader {' '.join(missing)}` or "
            "`python -m amber_eval.nltk_resources`, or point NLTK_DATA at a folder that holds them."
        )


def make_parser(settings: ParserSettings) -> PhraseParser:
    if settings.parser == "nltk":
        return NltkPhraseParser(settings.grammar, settings.drop_tags, settings.dedupe)
    if settings.parser == "spacy":
        if not settings.spacy_model:
            raise InputError("--parser spacy needs --spacy-model NAME|PATH")
        return SpacyPhraseParser(
            load_spacy(settings.spacy_model), settings.drop_tags, settings.dedupe
        )
    raise InputError(f"unknown parser {settings.parser!r}; choose one of {', '.join(PARSERS)}")
