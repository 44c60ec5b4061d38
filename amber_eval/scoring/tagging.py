"""``nltk.pos_tag(nltk.word_tokenize(text))``, memoised where that cannot change a result.

Both steps are pure functions that descriptions repeat a lot of work for:

* ``word_tokenize`` is Punkt sentence splitting followed by the Treebank word tokenizer on each
  sentence; the per-sentence tokenization is memoised by the sentence text.
* The averaged perceptron tagger tags a token from the tag dictionary, else from a feature set
  that is a function of the token, the two previous tags and the normalised words two either
  side; the model's prediction is memoised by exactly those inputs.

This relies on NLTK internals, so it is used only with the NLTK versions it was checked against
(:data:`amber_eval.scoring.lemmas.CHECKED_NLTK`; tests compare it with NLTK on the fixture and on
varied text); otherwise NLTK's own functions run.
"""

from __future__ import annotations

import functools
from typing import Any

from amber_eval.scoring.lemmas import nltk_is_checked


class MemoTagger:
    # The memos are dropped when they grow past this many entries (bounded memory).
    MAX_ENTRIES = 500_000

    def __init__(self) -> None:
        import nltk
        from nltk.tokenize import _treebank_word_tokenizer

        self._tagger: Any = nltk.tag._get_tagger()
        self._treebank = _treebank_word_tokenizer
        self._sent_tokenize = nltk.tokenize.sent_tokenize
        self._predictions: dict[tuple[str, ...], str] = {}
        self._sentences: dict[str, list[str]] = {}

    def tokenize(self, text: str) -> list[str]:
        """``nltk.word_tokenize(text)``."""
        tokens: list[str] = []
        for sentence in self._sent_tokenize(text, "english"):
            words = self._sentences.get(sentence)
            if words is None:
                words = self._treebank.tokenize(sentence)
                self._sentences[sentence] = words
            tokens.extend(words)
        return tokens

    def tag(self, tokens: list[str]) -> list[tuple[str, str]]:
        """``nltk.pos_tag(tokens)`` (PerceptronTagger.tag with the tag dictionary)."""
        tagger = self._tagger
        prev, prev2 = tagger.START
        context = tagger.START + [tagger.normalize(w) for w in tokens] + tagger.END
        lookup = tagger.tagdict.get
        memo = self._predictions
        output: list[tuple[str, str]] = []
        for i, word in enumerate(tokens):
            tag = lookup(word)
            if not tag:
                j = i + len(tagger.START)
                key = (
                    word,
                    prev,
                    prev2,
                    context[j - 2],
                    context[j - 1],
                    context[j + 1],
                    context[j + 2],
                )
                tag = memo.get(key)
                if tag is None:
                    features = tagger._get_features(i, word, context, prev, prev2)
                    tag, _ = tagger.model.predict(features, False)
                    memo[key] = tag
            output.append((word, tag))
            prev2 = prev
            prev = tag
        return output

    def tokenize_and_tag(self, text: str) -> list[tuple[str, str]]:
        if len(self._predictions) + len(self._sentences) > self.MAX_ENTRIES:
            self._predictions.clear()
            self._sentences.clear()
        return self.tag(self.tokenize(text))


@functools.lru_cache(maxsize=1)
def _memo_tagger() -> MemoTagger | None:
    import nltk

    return MemoTagger() if nltk_is_checked(nltk.__version__) else None


def pos_tag_text(text: str) -> list[tuple[str, str]]:
    """``nltk.pos_tag(nltk.word_tokenize(text))``, exactly."""
    tagger = _memo_tagger()
    if tagger is not None:
        return tagger.tokenize_and_tag(text)
    import nltk

    tagged: list[tuple[str, str]] = nltk.pos_tag(nltk.word_tokenize(text))
    return tagged
