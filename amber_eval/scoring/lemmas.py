"""A compact, exact stand-in for ``WordNetLemmatizer().lemmatize(word)`` (noun POS).

NLTK's WordNet reader parses every index and data file on first use (seconds); lemmatizing a
noun needs only the noun lemmas (``index.noun``) and the noun exceptions (``noun.exc``). This
class reads just those two files and applies NLTK's own algorithm (``WordNetCorpusReader._morphy``
of nltk 3.10, with the substitution rules taken from NLTK itself): the exception list if the word
has one, else each suffix rule once; keep the candidates (the word first) that are noun lemmas;
return the shortest, or the word itself when none is. It is used only with the NLTK versions it
was checked against (:data:`CHECKED_NLTK`); tests compare it with NLTK word for word.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CHECKED_NLTK = ("3.10.",)


class NounLemmatizer:
    def __init__(
        self,
        lemmas: Iterable[str],
        exceptions: dict[str, list[str]],
        substitutions: Iterable[tuple[str, str]],
    ) -> None:
        self.lemmas = frozenset(lemmas)
        self.exceptions = exceptions
        self.substitutions = tuple(substitutions)
        self._memo: dict[str, str] = {}

    @classmethod
    def load(cls) -> NounLemmatizer:
        """Read ``index.noun`` and ``noun.exc`` from NLTK's WordNet folder (or zip)."""
        from nltk.corpus.reader.wordnet import WordNetCorpusReader

        root = _wordnet_root()
        lemmas: list[str] = []
        for line in _read_lines(root, "index.noun"):
            if line.startswith(" "):
                continue
            fields = line.split(None, 2)
            if len(fields) >= 2 and fields[1] == "n":
                lemmas.append(fields[0])
        exceptions: dict[str, list[str]] = {}
        for line in _read_lines(root, "noun.exc"):
            terms = line.split()
            if terms:
                exceptions[terms[0]] = terms[1:]
        return cls(lemmas, exceptions, WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS["n"])

    def candidates(self, form: str) -> list[str]:
        """NLTK's ``_morphy(form, "n")``."""
        if form in self.exceptions:
            forms = self.exceptions[form]
        else:
            forms = [
                form[: -len(old)] + new for old, new in self.substitutions if form.endswith(old)
            ]
        result: list[str] = []
        for candidate in [form, *forms]:
            if candidate in self.lemmas and candidate not in result:
                result.append(candidate)
        return result

    def lemmatize(self, word: str) -> str:
        """``WordNetLemmatizer().lemmatize(word)``: the shortest candidate, else the word."""
        cached = self._memo.get(word)
        if cached is None:
            found = self.candidates(word)
            cached = min(found, key=len) if found else word
            self._memo[word] = cached
        return cached


def _wordnet_root() -> Any:
    import nltk

    for path in ("corpora/wordnet", "corpora/wordnet.zip/wordnet/"):
        try:
            return nltk.data.find(path)
        except LookupError:
            continue
    from amber_eval.nltk_resources import require_nltk_resources

    require_nltk_resources()
    raise LookupError("wordnet")  # pragma: no cover - require_nltk_resources raised


def _read_lines(root: Any, name: str) -> list[str]:
    with root.join(name).open() as handle:
        data = handle.read()
    text: str = data.decode("utf8") if isinstance(data, bytes) else data
    return text.splitlines()


def nltk_is_checked(version: str) -> bool:
    return version.startswith(CHECKED_NLTK)
