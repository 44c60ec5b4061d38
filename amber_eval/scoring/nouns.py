"""Noun extraction exactly as the upstream scorer does it, cached by content hash.

Upstream: ``nltk.word_tokenize``, ``nltk.pos_tag``, keep tags starting with ``NN``, then
``WordNetLemmatizer().lemmatize(word)`` (noun POS). The list returned here is that list, before
any vocabulary filter, so the cache serves both scoring modes. Results are cached on disk in a
SQLite file keyed by the sha256 of the text (and the NLTK version in the file name); large
uncached sets are split over a process pool of forked workers that share the NLTK resources
loaded once; tokenizing and tagging are memoised exactly (:mod:`amber_eval.scoring.tagging`) and
nouns are lemmatized by a compact exact reader of WordNet's noun index
(:mod:`amber_eval.scoring.lemmas`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from amber_eval.cache import cache_root

_FORMAT = "nouns-v2"
# A worker process pays (fork, a fresh memo, sending results back) only for a large amount of
# uncached text: measured on 2 cores, 1,004 synthetic descriptions (162k characters, about
# 0.4 CPU-seconds with the memoised tagger) score faster in this process alone.
POOL_MIN_CHARS = 250_000


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
    from amber_eval.scoring.tagging import pos_tag_text

    lemmatizer = _lemmatizer()
    forms = []
    for word, pos in pos_tag_text(text):
        if pos.startswith("NN"):
            lemma = lemmatizer.lemmatize(word)
            lower = word.lower()
            forms.append((lemma, lemma if lower == word else lemmatizer.lemmatize(lower)))
    return forms


@functools.lru_cache(maxsize=1)
def _lemmatizer() -> Any:
    """One lemmatizer per process: the compact exact one where checked, else NLTK's own."""
    import nltk

    from amber_eval.scoring.lemmas import NounLemmatizer, nltk_is_checked

    if nltk_is_checked(nltk.__version__):
        return NounLemmatizer.load()
    from nltk.stem import WordNetLemmatizer

    return WordNetLemmatizer()


def _extract_batch(texts: Sequence[str]) -> list[list[tuple[str, str]]]:
    return [extract_noun_forms(text) for text in texts]


def _fork_context() -> Any:
    """Fork where available, with NLTK's resources loaded first so workers share them."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    from amber_eval.scoring.tagging import pos_tag_text

    _lemmatizer()
    pos_tag_text("Load the sentence tokenizer and the tagger.")
    return multiprocessing.get_context("fork")


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
        from importlib.metadata import version

        # The NLTK version from its metadata: a warm run never imports NLTK.
        return cls(cache_root() / "nouns" / f"{_FORMAT}-nltk{version('nltk')}.sqlite")

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


class PendingNouns:
    """Noun extraction under way (see :func:`start_noun_extraction`); ``result()`` waits."""

    def __init__(
        self,
        keys: list[str],
        known: dict[str, list[tuple[str, str]]],
        todo: dict[str, str],
        store: NounCache | None,
        close_store: bool,
        workers: int,
        progress: Callable[[int], None] | None,
    ) -> None:
        self._keys = keys
        self._known = known
        self._todo = todo
        self._store = store
        self._close_store = close_store
        self._progress = progress
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[list[list[tuple[str, str]]]]] = []
        texts = list(todo.values())
        if workers >= 1 and sum(map(len, texts)) >= POOL_MIN_CHARS:
            # Small interleaved chunks keep the workers' loads even; order is kept below.
            size = max(1, min(50, len(texts) // (workers * 4)))
            self._pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=_fork_context(), initializer=_worker_init
            )
            self._futures = [
                self._pool.submit(_extract_batch, texts[i : i + size])
                for i in range(0, len(texts), size)
            ]

    def cancel(self) -> None:
        """Stop the workers (after an error elsewhere); nothing is written."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._store is not None and self._close_store:
            self._store.close()

    def result(self) -> list[list[tuple[str, str]]]:
        texts = list(self._todo.values())
        fresh: list[list[tuple[str, str]]] = []
        if self._pool is not None:
            try:
                for future in self._futures:
                    batch = future.result()
                    fresh.extend(batch)
                    if self._progress is not None:
                        self._progress(len(batch))
            finally:
                self._pool.shutdown(cancel_futures=True)
        else:
            for text in texts:
                fresh.append(extract_noun_forms(text))
                if self._progress is not None:
                    self._progress(1)
        computed = dict(zip(self._todo, fresh, strict=True))
        self._known.update(computed)
        if self._store is not None:
            if computed:
                self._store.put_many(computed)
            if self._close_store:
                self._store.close()
        return [list(self._known[key]) for key in self._keys]


def start_noun_extraction(
    texts: Sequence[str],
    *,
    cache: NounCache | bool | None = True,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> PendingNouns:
    """Look texts up in the cache and start extracting the others (in worker processes when
    there are many), so the caller can do other work (load the similarity table) meanwhile.
    """
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
        from amber_eval.nltk_resources import require_nltk_resources

        require_nltk_resources()
    # The calling process has work of its own meanwhile (the similarity table), so it keeps
    # one core: on 2 cores, one worker tags everything with a single, fuller memo.
    count = workers if workers is not None else max(1, (os.cpu_count() or 1) - 1)
    return PendingNouns(keys, known, todo, store, cache is True, count, progress)


def extract_nouns_many(
    texts: Sequence[str],
    *,
    cache: NounCache | bool | None = True,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[list[tuple[str, str]]]:
    """Noun forms (see :func:`extract_noun_forms`) of every text, in order: from the cache,
    else computed (in worker processes when there are many).

    ``cache=True`` uses the default on-disk cache, ``False``/``None`` none, or a given
    :class:`NounCache`. ``workers`` (processes beside this one) defaults to the number of CPUs
    minus one; 0 extracts in this process.
    """
    return start_noun_extraction(texts, cache=cache, workers=workers, progress=progress).result()
