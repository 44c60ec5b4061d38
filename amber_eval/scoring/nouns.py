"""Noun extraction exactly as the upstream scorer does it, cached by content hash.

Upstream: ``nltk.word_tokenize``, ``nltk.pos_tag``, keep tags starting with ``NN``, then
``WordNetLemmatizer().lemmatize(word)`` (noun POS). The list returned here is that list, before
any vocabulary filter, so the cache serves both scoring modes. Results are cached on disk in a
SQLite file keyed by the sha256 of the text (and the NLTK version in the file name); large
uncached sets are split over a process pool, each worker loading the NLTK resources once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from amber_eval.scoring.cache import cache_root

_FORMAT = "nouns-v2"
# Below this many uncached texts a process pool costs more than it saves.
POOL_MIN_TEXTS = 200


def extract_nouns(text: str) -> list[str]:
    """The upstream ``extract_nouns``: lemmatized NN* tokens in order, repeats kept."""
    import nltk

    lemmatizer = _lemmatizer()
    tagged = nltk.pos_tag(nltk.word_tokenize(text))
    return [lemmatizer.lemmatize(word) for word, pos in tagged if pos.startswith("NN")]


def extract_noun_forms(text: str) -> list[tuple[str, str]]:
    """Each upstream noun as ``(lemma, lemma of the lowercased token)``.

    The first form is exactly what :func:`extract_nouns` returns (official mode); the second
    is what strict mode compares case-insensitively ("Dogs" -> "dog", where the upstream keeps
    "Dogs", which is not in the vocabulary).
    """
    import nltk

    lemmatizer = _lemmatizer()
    forms = []
    for word, pos in nltk.pos_tag(nltk.word_tokenize(text)):
        if pos.startswith("NN"):
            lemma = lemmatizer.lemmatize(word)
            lower = word.lower()
            forms.append((lemma, lemma if lower == word else lemmatizer.lemmatize(lower)))
    return forms


@functools.lru_cache(maxsize=1)
def _lemmatizer() -> Any:
    # One WordNetLemmatizer per process: it holds no state that changes results.
    from nltk.stem import WordNetLemmatizer

    return WordNetLemmatizer()


def _extract_batch(texts: Sequence[str]) -> list[list[tuple[str, str]]]:
    return [extract_noun_forms(text) for text in texts]


def _worker_init() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class NounCache:
    """A SQLite map ``sha256(text) -> noun forms`` under the cache root."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS nouns (key TEXT PRIMARY KEY, nouns TEXT)")
        self._db.commit()

    @classmethod
    def default(cls) -> NounCache:
        import nltk

        return cls(cache_root() / "nouns" / f"{_FORMAT}-nltk{nltk.__version__}.sqlite")

    def get_many(self, keys: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, list[tuple[str, str]]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, nouns FROM nouns WHERE key IN ({marks})",  # noqa: S608
                chunk,
            )
            for key, nouns in rows:
                found[key] = [(a, b) for a, b in json.loads(nouns)]
        return found

    def put_many(self, entries: dict[str, list[tuple[str, str]]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO nouns (key, nouns) VALUES (?, ?)",
                [(key, json.dumps(nouns)) for key, nouns in entries.items()],
            )

    def close(self) -> None:
        self._db.close()


def extract_nouns_many(
    texts: Sequence[str],
    *,
    cache: NounCache | bool | None = True,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[list[tuple[str, str]]]:
    """Noun forms (see :func:`extract_noun_forms`) of every text, in order: from the cache, else computed (in parallel when large).

    ``cache=True`` uses the default on-disk cache, ``False``/``None`` none, or a given
    :class:`NounCache`. ``workers`` defaults to the number of CPUs.
    """
    from amber_eval.nltk_resources import require_nltk_resources

    store: NounCache | None
    if cache is True:
        store = NounCache.default()
    elif cache is False or cache is None:
        store = None
    else:
        store = cache
    keys = [text_key(text) for text in texts]
    known = store.get_many(keys) if store is not None else {}
    todo: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in known and key not in todo:
            todo[key] = text
    if progress is not None and len(todo) < len(texts):
        progress(len(texts) - len(todo))
    if todo:
        require_nltk_resources()
        fresh = _compute(list(todo.values()), workers=workers, progress=progress)
        computed = dict(zip(todo, fresh, strict=True))
        known.update(computed)
        if store is not None:
            store.put_many(computed)
    if store is not None and cache is True:
        store.close()
    return [list(known[key]) for key in keys]


def _compute(
    texts: list[str], *, workers: int | None, progress: Callable[[int], None] | None
) -> list[list[tuple[str, str]]]:
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(texts) < POOL_MIN_TEXTS:
        results = []
        for text in texts:
            results.append(extract_noun_forms(text))
            if progress is not None:
                progress(1)
        return results
    # Interleaved chunks keep the workers' loads even; order is restored below.
    size = max(1, min(100, len(texts) // (count * 4) or 1))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    results_by_chunk: list[list[list[tuple[str, str]]]] = []
    with ProcessPoolExecutor(max_workers=count, initializer=_worker_init) as pool:
        for batch in pool.map(_extract_batch, chunks):
            results_by_chunk.append(batch)
            if progress is not None:
                progress(len(batch))
    return [nouns for batch in results_by_chunk for nouns in batch]
