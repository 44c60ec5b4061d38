"""Typed, verified loading of AMBER's annotations, queries, association words and safe words."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

from amber_eval.amber_images import IMAGE_COUNT
from amber_eval.data.location import DATA_ENV, resolve_data_dir
from amber_eval.data.manifest import FILES, FILES_BY_PATH
from amber_eval.errors import DataError
from amber_eval.io import sha256_file
from amber_eval.terms import Dimension

GENERATIVE_IDS = range(1, IMAGE_COUNT + 1)


# Annotation ``type`` -> dimension. Both relation types are one dimension.
ANNOTATION_TYPES: dict[str, Dimension] = {
    "discriminative-hallucination": Dimension.EXISTENCE,
    "discriminative-attribute-state": Dimension.STATE,
    "discriminative-attribute-number": Dimension.NUMBER,
    "discriminative-attribute-action": Dimension.ACTION,
    "discriminative-relation": Dimension.RELATION,
    "relation": Dimension.RELATION,
}


class EvalType(str, Enum):
    """The upstream scorer's evaluation types and the query file that defines each one's ids."""

    ALL = "a"
    GENERATIVE = "g"
    DISCRIMINATIVE = "d"
    EXISTENCE = "de"
    ATTRIBUTE = "da"
    RELATION = "dr"

    @property
    def query_file(self) -> str:
        return {
            "a": "query/query_all.json",
            "g": "query/query_generative.json",
            "d": "query/query_discriminative.json",
            "de": "query/query_discriminative-existence.json",
            "da": "query/query_discriminative-attribute.json",
            "dr": "query/query_discriminative-relation.json",
        }[self.value]

    @property
    def includes_generative(self) -> bool:
        return self in (EvalType.ALL, EvalType.GENERATIVE)

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        """The question dimensions whose blocks this type prints."""
        if self in (EvalType.ALL, EvalType.DISCRIMINATIVE):
            return tuple(Dimension)
        if self is EvalType.EXISTENCE:
            return (Dimension.EXISTENCE,)
        if self is EvalType.ATTRIBUTE:
            return (Dimension.STATE, Dimension.NUMBER, Dimension.ACTION)
        if self is EvalType.RELATION:
            return (Dimension.RELATION,)
        return ()


@dataclass(frozen=True)
class Question:
    """One Yes/No question. ``truth`` is True for "yes"."""

    id: int
    image: str
    text: str
    dimension: Dimension
    truth: bool


@dataclass(frozen=True)
class GenerativeItem:
    """One "Describe this image." item with its truth objects and hallucination objects."""

    id: int
    image: str
    text: str
    truth: tuple[str, ...]
    hallu: tuple[str, ...]


@dataclass(frozen=True)
class Benchmark:
    """AMBER's data, loaded and verified. Mappings are ordered by id."""

    data_dir: Path
    questions: Mapping[int, Question]
    generative: Mapping[int, GenerativeItem]
    association: Mapping[str, tuple[str, ...]]
    safe_words: frozenset[str]
    _query_ids: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every key of relation.json and every word in its lists (418 words)."""
        words = set(self.association)
        for associated in self.association.values():
            words.update(associated)
        return frozenset(words)

    @cached_property
    def images(self) -> tuple[str, ...]:
        """Image file names in AMBER id order (AMBER_1.jpg .. AMBER_1004.jpg)."""
        return tuple(item.image for item in self.generative.values())

    @cached_property
    def questions_by_image(self) -> Mapping[str, tuple[Question, ...]]:
        grouped: dict[str, list[Question]] = {image: [] for image in self.images}
        for question in self.questions.values():
            grouped.setdefault(question.image, []).append(question)
        return {image: tuple(qs) for image, qs in grouped.items()}

    def first_images(self, limit: int | None) -> tuple[str, ...]:
        """The first ``limit`` images by AMBER id (all when ``limit`` is None)."""
        if limit is not None and limit < 1:
            raise ValueError("the image limit must be at least 1")
        return self.images if limit is None else self.images[:limit]

    def questions_for(self, images: Iterable[str]) -> list[Question]:
        """The Yes/No questions of ``images``, in id order."""
        wanted = set(images)
        return [q for q in self.questions.values() if q.image in wanted]

    def expected_ids(self, eval_type: EvalType | str) -> tuple[int, ...]:
        """The ids in the query file of ``eval_type`` (what a complete response file holds)."""
        eval_type = EvalType(eval_type)
        path = eval_type.query_file
        if path not in self._query_ids:
            entries = _read_json(self.data_dir, path)
            if not isinstance(entries, list):
                raise DataError(f"{self.data_dir / path}: expected a JSON list of queries")
            self._query_ids[path] = tuple(int(entry["id"]) for entry in entries)
        return self._query_ids[path]


def verify_data_dir(data_dir: Path) -> None:
    """Check that every pinned file exists with its sha256; raise :class:`DataError` if not."""
    if not data_dir.is_dir():
        raise DataError(
            f"AMBER data not found: {data_dir} does not exist. Run `amber-eval data fetch`, "
            f"or point {DATA_ENV} or --data-dir at a folder holding AMBER's data files."
        )
    for data_file in FILES:
        path = data_dir / data_file.path
        if not path.is_file():
            raise DataError(
                f"AMBER data file missing: {path}. Run `amber-eval data fetch` to download it."
            )
        actual = sha256_file(path)
        if actual != data_file.sha256:
            raise DataError(
                f"AMBER data file {path} has sha256 {actual}, expected {data_file.sha256}: "
                "the file is corrupt or from another release. Delete it and run "
                "`amber-eval data fetch`."
            )


def _read_json(data_dir: Path, relative: str) -> Any:
    path = data_dir / relative
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read AMBER data file {path}: {exc}") from exc


_CACHE: dict[tuple[str, bool], Benchmark] = {}


def load_benchmark(
    data_dir: str | os.PathLike[str] | None = None, *, verify: bool = True
) -> Benchmark:
    """Load AMBER from ``data_dir`` (see :func:`resolve_data_dir`), verifying every sha256.

    Results are memoised per folder, so repeated calls in one process are free.
    """
    folder = resolve_data_dir(data_dir).resolve()
    key = (str(folder), verify)
    if key in _CACHE:
        return _CACHE[key]
    if verify:
        verify_data_dir(folder)
    benchmark = _parse(folder)
    _CACHE[key] = benchmark
    return benchmark


def _parse(folder: Path) -> Benchmark:
    annotations = _read_json(folder, "annotations.json")
    queries = _read_json(folder, FILES_BY_PATH["query/query_all.json"].path)
    association_raw = _read_json(folder, "relation.json")
    safe_path = folder / "safe_words.txt"
    try:
        safe_words = frozenset(
            line.strip() for line in safe_path.read_text(encoding="utf-8").splitlines()
        ) - {""}
    except OSError as exc:
        raise DataError(f"cannot read AMBER data file {safe_path}: {exc}") from exc

    query_by_id = {int(q["id"]): q for q in queries}
    questions: dict[int, Question] = {}
    generative: dict[int, GenerativeItem] = {}
    for position, annotation in enumerate(annotations):
        item_id = int(annotation["id"])
        if item_id != position + 1:
            raise DataError(
                f"{folder / 'annotations.json'}: item at position {position} has id {item_id}, "
                f"expected {position + 1}"
            )
        query = query_by_id.get(item_id)
        if query is None:
            raise DataError(f"{folder / 'query/query_all.json'}: no query for id {item_id}")
        kind = annotation["type"]
        if kind == "generative":
            generative[item_id] = GenerativeItem(
                id=item_id,
                image=query["image"],
                text=query["query"],
                truth=tuple(annotation["truth"]),
                hallu=tuple(annotation["hallu"]),
            )
        elif kind in ANNOTATION_TYPES:
            questions[item_id] = Question(
                id=item_id,
                image=query["image"],
                text=query["query"],
                dimension=ANNOTATION_TYPES[kind],
                truth=annotation["truth"] == "yes",
            )
        else:
            raise DataError(
                f"{folder / 'annotations.json'}: id {item_id} has unknown type {kind!r}"
            )
    association = {str(k): tuple(str(w) for w in v) for k, v in association_raw.items()}
    return Benchmark(
        data_dir=folder,
        questions=questions,
        generative=generative,
        association=association,
        safe_words=safe_words,
    )
