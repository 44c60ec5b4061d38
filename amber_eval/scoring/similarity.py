"""The word-similarity relation over AMBER's vocabulary, computed once per spaCy pipeline.

The upstream scorer calls ``nlp(a).similarity(nlp(b))`` for every pair it compares. Every word it
ever compares is one of the 418 vocabulary words, so the whole relation is a 418 x 418 table. It
is computed here with spaCy's own ``Doc.similarity`` (the very same calls, made once per pair), so
every decision is identical to the per-pair calls, and stored on disk as ``.npy`` + ``.json``
keyed by the pipeline's name, version and a hash of its vectors and tokenizer.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from amber_eval.cache import cache_root
from amber_eval.errors import ResourceError
from amber_eval.io import atomic_open, atomic_write_json

THRESHOLD = 0.8
DEFAULT_SPACY_MODEL = "en_core_web_lg"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class SimilarityTable:
    """``values[i, j]`` is ``nlp(words[i]).similarity(nlp(words[j]))``.

    Two words are similar when their value is strictly above ``threshold`` (0.8 upstream).
    """

    words: tuple[str, ...]
    values: np.ndarray = field(repr=False, compare=False)
    threshold: float = THRESHOLD
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.words)
        if self.values.shape != (n, n):
            raise ValueError(
                f"similarity values have shape {self.values.shape}, expected ({n}, {n})"
            )

    @cached_property
    def index(self) -> Mapping[str, int]:
        return {word: i for i, word in enumerate(self.words)}

    @cached_property
    def above(self) -> np.ndarray:
        """Boolean matrix of the decisions ``value > threshold``."""
        return np.asarray(self.values > self.threshold)

    def similar(self, a: str, b: str) -> bool:
        """Whether ``sim(a, b) > threshold``; both words must be in the table."""
        return bool(self.above[self.index[a], self.index[b]])

    def value(self, a: str, b: str) -> float:
        return float(self.values[self.index[a], self.index[b]])

    @classmethod
    def from_pairs(
        cls,
        words: Iterable[str],
        pairs: Mapping[tuple[str, str], float],
        *,
        threshold: float = THRESHOLD,
    ) -> SimilarityTable:
        """A table from explicit values (symmetric; 1.0 on the diagonal, 0.0 elsewhere)."""
        ordered = tuple(dict.fromkeys(words))
        position = {word: i for i, word in enumerate(ordered)}
        values = np.eye(len(ordered), dtype=np.float64)
        for (a, b), value in pairs.items():
            values[position[a], position[b]] = value
            values[position[b], position[a]] = value
        return cls(words=ordered, values=values, threshold=threshold, source="explicit")


def compute_similarity(nlp: Any, words: Iterable[str]) -> np.ndarray:
    """The full table with spaCy's ``Doc.similarity``, one call per unordered pair.

    ``Doc.similarity`` is exactly symmetric (same token texts -> 1.0; else the dot product of
    the two doc vectors over the product of their norms, both commutative), so ``[j, i]`` is
    filled from ``[i, j]``; the tests check the table against per-pair calls both ways.
    """
    ordered = list(words)
    with warnings.catch_warnings():
        # spaCy warns about empty vectors; the upstream silences UserWarning too.
        warnings.simplefilter("ignore", UserWarning)
        if nlp.vocab.vectors.size > 0:
            # Doc vectors come from the static vectors (not from any component's output), so
            # batching gives the very docs of one-by-one calls, only faster.
            docs = list(nlp.pipe(ordered, batch_size=64))
        else:
            # Vectors from the tok2vec tensor: one call per word, exactly as the upstream.
            docs = [nlp(word) for word in ordered]
        n = len(docs)
        values = np.empty((n, n), dtype=np.float64)
        for i, doc in enumerate(docs):
            for j in range(i, n):
                values[i, j] = values[j, i] = float(doc.similarity(docs[j]))
    return values


@dataclass(frozen=True)
class PipelineInfo:
    """Where a spaCy pipeline lives and what identifies its similarities."""

    spec: str
    path: Path
    name: str
    version: str


def locate_pipeline(spacy_model: str) -> PipelineInfo:
    """Find a pipeline folder (holding ``meta.json``) from a path or an installed package name."""
    candidate = Path(spacy_model).expanduser()
    folder: Path | None = None
    if candidate.is_dir():
        folder = candidate
    elif "/" not in spacy_model and os.sep not in spacy_model:
        try:
            spec = importlib.util.find_spec(spacy_model)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            package_dir = Path(next(iter(spec.submodule_search_locations)))
            folder = _package_data_dir(package_dir)
    if folder is None or not (folder / "meta.json").is_file():
        raise ResourceError(
            f"spaCy pipeline {spacy_model!r} not found. Install it with "
            f"`python -m spacy download {DEFAULT_SPACY_MODEL}` (or the pipeline you named), "
            "or pass `--spacy-model PATH` with the folder of a saved spaCy pipeline."
        )
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResourceError(f"cannot read {folder / 'meta.json'}: {exc}") from exc
    lang = str(meta.get("lang", ""))
    name = f"{lang}_{meta.get('name', '')}" if lang else str(meta.get("name", ""))
    return PipelineInfo(
        spec=spacy_model, path=folder.resolve(), name=name, version=str(meta.get("version", ""))
    )


def _package_data_dir(package_dir: Path) -> Path | None:
    """An installed pipeline package keeps its data in ``<name>-<version>/`` beside meta.json."""
    if (package_dir / "config.cfg").is_file():
        return package_dir
    for child in sorted(package_dir.iterdir()):
        if child.is_dir() and (child / "config.cfg").is_file() and (child / "meta.json").is_file():
            return child
    return None


def pipeline_fingerprint(info: PipelineInfo) -> str:
    """A hash of the files that decide similarities: vectors, their key map, the tokenizer
    (content digests, memoised by :mod:`amber_eval.file_digests`)."""
    from amber_eval.file_digests import file_sha256

    digest = hashlib.sha256()
    for relative in ("vocab/vectors", "vocab/key2row", "vocab/vectors.cfg", "tokenizer"):
        path = info.path / relative
        digest.update(relative.encode())
        digest.update(file_sha256(path).encode() if path.is_file() else b"-")
    return digest.hexdigest()


def pipeline_provenance(spacy_model: str) -> dict[str, Any]:
    """What identifies a spaCy pipeline's similarities, for a result's notes: the name and
    version from its ``meta.json``, the word vectors' shape (``[rows, dimensions]``, None
    without static vectors) and the :func:`pipeline_fingerprint` sha256. Published AMBER rows
    used ``en_core_web_lg`` (:data:`DEFAULT_SPACY_MODEL`)."""
    info = locate_pipeline(spacy_model)
    shape: list[int] | None = None
    with contextlib.suppress(OSError, ValueError):
        vectors = np.load(info.path / "vocab" / "vectors", mmap_mode="r", allow_pickle=False)
        if vectors.ndim == 2 and vectors.size:
            shape = [int(n) for n in vectors.shape]
    return {
        "name": info.name,
        "version": info.version,
        "vectors": shape,
        "sha256": pipeline_fingerprint(info),
    }


def _words_digest(words: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()


def load_similarity(
    spacy_model: str = DEFAULT_SPACY_MODEL,
    *,
    vocabulary: Iterable[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> SimilarityTable:
    """The similarity table of ``spacy_model`` (a package name or a folder) over ``vocabulary``.

    ``vocabulary`` defaults to AMBER's 418 words (from the data folder). The table is read from
    the cache when present; otherwise the pipeline is loaded once and the table computed and
    stored. A missing pipeline raises :class:`ResourceError` saying how to get it.
    """
    return start_similarity(spacy_model, vocabulary=vocabulary, cache_dir=cache_dir).result()


class PendingSimilarity:
    """A similarity table read from the cache, or being computed in a helper process."""

    def __init__(
        self,
        info: PipelineInfo,
        words: tuple[str, ...],
        npy_path: Path,
        json_path: Path,
        table: SimilarityTable | None,
    ) -> None:
        self.info = info
        self.words = words
        self.npy_path = npy_path
        self.json_path = json_path
        self._table = table
        self._process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if table is None:
            self._start()

    @property
    def source(self) -> str:
        return f"{self.info.name} {self.info.version} ({self.info.path})"

    def _start(self) -> None:
        # A helper process computes the table while the caller extracts nouns. It runs spaCy
        # with torch hidden (thinc imports it only to offer it; static-vector and CPU tensor
        # similarities never use it), which saves seconds of import. Should the pipeline need
        # torch, the helper fails and the table is computed here instead.
        self._tmp = tempfile.TemporaryDirectory(prefix="amber-similarity-")
        folder = Path(self._tmp.name)
        (folder / "words.json").write_text(json.dumps(list(self.words)), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "amber_eval.scoring.similarity",
            str(self.info.path),
            str(folder / "words.json"),
            str(folder / "values.npy"),
        ]
        try:
            self._process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        except OSError:
            self._process = None

    def cancel(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def result(self) -> SimilarityTable:
        if self._table is not None:
            return self._table
        values: np.ndarray | None = None
        try:
            process, tmp = self._process, self._tmp
            if process is not None and tmp is not None and process.wait() == 0:
                with contextlib.suppress(OSError, ValueError):
                    values = np.load(Path(tmp.name) / "values.npy", allow_pickle=False)
        finally:
            self._cleanup()
        if values is None or values.shape != (len(self.words), len(self.words)):
            values = compute_similarity(_load_spacy(self.info), self.words)
        with atomic_open(self.npy_path, "wb") as handle:
            np.save(handle, values, allow_pickle=False)
        atomic_write_json(
            self.json_path,
            {
                "format": _FORMAT_VERSION,
                "pipeline": self.info.name,
                "version": self.info.version,
                "path": str(self.info.path),
                "words": list(self.words),
            },
        )
        self._table = SimilarityTable(words=self.words, values=values, source=self.source)
        return self._table


def start_similarity(
    spacy_model: str = DEFAULT_SPACY_MODEL,
    *,
    vocabulary: Iterable[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> PendingSimilarity:
    """Like :func:`load_similarity`, but returns at once: ``result()`` gives the table."""
    if vocabulary is None:
        from amber_eval.data import load_benchmark

        vocabulary = load_benchmark().vocabulary
    words = tuple(sorted(set(vocabulary)))
    info = locate_pipeline(spacy_model)
    folder = Path(cache_dir) if cache_dir is not None else cache_root() / "similarity"
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(
        "|".join(
            [
                str(_FORMAT_VERSION),
                info.name,
                info.version,
                pipeline_fingerprint(info),
                _words_digest(words),
            ]
        ).encode()
    ).hexdigest()[:20]
    stem = f"{_safe(info.name)}-{_safe(info.version)}-{key}"
    npy_path, json_path = folder / f"{stem}.npy", folder / f"{stem}.json"
    table: SimilarityTable | None = None
    if npy_path.is_file() and json_path.is_file():
        try:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
            values = np.load(npy_path, allow_pickle=False)
            if tuple(meta["words"]) == words and values.shape == (len(words), len(words)):
                table = SimilarityTable(
                    words=words,
                    values=values,
                    source=f"{info.name} {info.version} ({info.path})",
                )
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            table = None  # a damaged cache entry is recomputed
    return PendingSimilarity(info, words, npy_path, json_path, table)


def _helper_main(pipeline: str, words_file: str, out_file: str) -> int:
    """Helper process: compute the table of ``pipeline`` with torch hidden from thinc."""
    sys.modules["torch"] = None  # type: ignore[assignment]
    words = json.loads(Path(words_file).read_text(encoding="utf-8"))
    info = locate_pipeline(pipeline)
    values = compute_similarity(_load_spacy(info), words)
    with open(out_file, "wb") as handle:
        np.save(handle, values, allow_pickle=False)
    return 0


# Components that never change token texts nor install similarity or vector hooks: with static
# vectors, a doc's vector (and so every similarity) is the same with or without them.
VECTOR_NEUTRAL_FACTORIES = frozenset(
    {
        "tok2vec",
        "tagger",
        "morphologizer",
        "parser",
        "ner",
        "senter",
        "attribute_ruler",
        "lemmatizer",
        "trainable_lemmatizer",
        "entity_ruler",
        "span_ruler",
        "spancat",
        "textcat",
        "textcat_multilabel",
        "entity_linker",
    }
)


def neutral_components(path: Path) -> list[str] | None:
    """The pipeline's component names when all are vector-neutral and it has static vectors."""
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        from spacy.util import load_config

        components = load_config(path / "config.cfg")["components"]
    except (OSError, ValueError, KeyError):
        return None
    if not (meta.get("vectors") or {}).get("width"):
        return None
    names = list(components)
    if any(components[name].get("factory") not in VECTOR_NEUTRAL_FACTORIES for name in names):
        return None
    return names


def _load_spacy(info: PipelineInfo) -> Any:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spacy is a core dependency
        raise ResourceError("spaCy is not installed: `pip install spacy`") from exc
    try:
        # Vector-neutral components are left out: the docs' vectors, and so every similarity,
        # are identical, and loading and running them is most of the cost.
        return spacy.load(info.path, exclude=neutral_components(info.path) or [])
    except OSError as exc:
        raise ResourceError(
            f"cannot load spaCy pipeline {info.spec!r} from {info.path}: {exc}. Install it with "
            f"`python -m spacy download {DEFAULT_SPACY_MODEL}` or pass `--spacy-model PATH`."
        ) from exc


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text) or "x"


if __name__ == "__main__":
    sys.exit(_helper_main(*sys.argv[1:4]))
