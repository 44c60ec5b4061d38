from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from amber_eval.data import Dimension, EvalType, load_benchmark
from amber_eval.errors import DataError


def test_counts_match_published_facts(benchmark) -> None:  # type: ignore[no-untyped-def]
    assert len(benchmark.generative) == 1004
    assert len(benchmark.questions) == 14216
    assert len(benchmark.vocabulary) == 418
    assert len(benchmark.safe_words) == 9
    by_dim: dict[Dimension, int] = {}
    for q in benchmark.questions.values():
        by_dim[q.dimension] = by_dim.get(q.dimension, 0) + 1
    assert by_dim == {
        Dimension.EXISTENCE: 4924,
        Dimension.STATE: 4764,
        Dimension.NUMBER: 2072,
        Dimension.ACTION: 792,
        Dimension.RELATION: 975 + 689,
    }
    assert all(
        not q.truth for q in benchmark.questions.values() if q.dimension is Dimension.EXISTENCE
    )


def test_question_fields(benchmark) -> None:  # type: ignore[no-untyped-def]
    q = benchmark.questions[1005]
    assert (q.image, q.text, q.dimension, q.truth) == (
        "AMBER_1.jpg",
        "Is the sky sunny in this image?",
        Dimension.STATE,
        True,
    )
    assert benchmark.generative[1].truth[0] == "sky"
    assert benchmark.images[:2] == ("AMBER_1.jpg", "AMBER_2.jpg")
    per_image = [len(qs) for qs in benchmark.questions_by_image.values()]
    assert min(per_image) == 7 and max(per_image) == 25


def test_expected_ids_per_type(benchmark) -> None:  # type: ignore[no-untyped-def]
    assert len(benchmark.expected_ids(EvalType.ALL)) == 15220
    assert benchmark.expected_ids("g") == tuple(range(1, 1005))
    assert len(benchmark.expected_ids("d")) == 14216


def test_corrupt_file_is_a_clear_error(amber_data_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "amber"
    shutil.copytree(amber_data_dir, copy)
    target = copy / "safe_words.txt"
    target.chmod(0o644)
    target.write_text("orange\n")
    with pytest.raises(DataError, match=r"safe_words\.txt has sha256 .* expected f92cf112"):
        load_benchmark(copy)


def test_missing_folder_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="amber-eval data fetch"):
        load_benchmark(tmp_path / "nowhere")
