"""The run's steps: the store's get-or-compute, answers read once, facts carried, typed metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amber_eval import io
from amber_eval.errors import InputError
from amber_eval.judge.base import Answer
from amber_eval.judge.mock import MockJudge
from amber_eval.reporting.run_data import load_run
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.run_folder.config import RunConfig
from amber_eval.run_folder.metrics import JudgeWarning, RunMetrics
from amber_eval.runs.answer_store import AnswerStore
from amber_eval.runs.pipeline import run_evaluation
from amber_eval.scoring.records import question_record
from amber_eval.scoring.scorer import score_questions

IDENTITY = {"model": "m"}


def _config(tmp_path: Path, **change: Any) -> RunConfig:
    return RunConfig(
        captions="oracle", llm="mock", out=tmp_path / "results", show_progress=False, **change
    )


def _answer(text: str) -> Answer:
    return Answer(text=text, parsed="yes" if text == "Yes" else "no")


def test_get_or_compute_gives_the_stored_first_then_stores_each_computed_batch(
    tmp_path: Path,
) -> None:
    asked: list[list[str]] = []
    with AnswerStore(tmp_path / "store.sqlite") as store:
        store.put_many(IDENTITY, [("b", _answer("Yes"))])

        def compute(texts: list[str]) -> Iterator[list[tuple[str, Answer]]]:
            asked.append(texts)
            for text in texts:
                assert store.get_many(IDENTITY, [text]) == {}  # not stored before it is computed
                yield [(text, _answer("No"))]

        batches = list(store.get_or_compute(IDENTITY, ["a", "b", "c", "a"], compute))
        assert asked == [["a", "c"]]  # each missing prompt once, in order
        assert [([t for t, _ in batch], fresh) for batch, fresh in batches] == [
            (["b"], False),
            (["a"], True),
            (["c"], True),
        ]
        assert set(store.get_many(IDENTITY, ["a", "b", "c"])) == {"a", "b", "c"}
        # everything stored: compute is not called again
        again = list(
            store.get_or_compute(IDENTITY, ["a", "c"], lambda texts: asked.append(texts) or [])
        )
        assert len(asked) == 1 and [fresh for _, fresh in again] == [False]


def test_get_or_compute_keeps_a_batch_given_before_a_failure(tmp_path: Path) -> None:
    def compute(texts: list[str]) -> Iterator[list[tuple[str, Answer]]]:
        yield [(texts[0], _answer("Yes"))]
        raise RuntimeError("the engine went away")

    with AnswerStore(tmp_path / "store.sqlite") as store:
        got = store.get_or_compute(IDENTITY, ["a", "b"], compute)
        assert [t for t, _ in next(got)[0]] == ["a"]
        with pytest.raises(RuntimeError, match="went away"):
            next(got)
        assert set(store.get_many(IDENTITY, ["a", "b"])) == {"a"}


def _line(**change: Any) -> AnswerLine:
    values: dict[str, Any] = {
        "id": 1005,
        "image": "AMBER_1.jpg",
        "dimension": "existence",
        "truth": "no",
        "prompt": "Is there a dog?",
        "answer": "Maybe a dog",
        "parsed": "unknown",
    }
    values.update(change)
    return AnswerLine(**values)


def test_question_record_carries_the_lines_facts_and_reads_the_answer_under_the_rules() -> None:
    unreadable = _line()
    strict, official = (
        question_record(unreadable, "strict"),
        question_record(unreadable, "official"),
    )
    assert (strict.raw, strict.parsed, strict.truth, strict.dimension) == (
        "Maybe a dog",
        "unknown",
        "no",
        "existence",
    )
    assert (official.raw, official.parsed) == ("Maybe a dog", "unknown")  # neither Yes nor No
    scored_yes = _line(answer="yes!", parsed="yes", truth="yes", dimension="action", image="x")
    record = question_record(scored_yes, "official")
    assert (record.raw, record.parsed, record.correct, record.image) == ("Yes", "yes", True, "x")


def test_score_questions_checks_ids_like_the_response_scorer(benchmark: Any) -> None:
    question = next(iter(benchmark.questions.values()))
    line = _line(id=question.id, truth="yes" if question.truth else "no", parsed="no")
    line = AnswerLine(**{**line.to_json(), "answer": "No"})
    records = [question_record(line, "strict")]
    with pytest.raises(InputError, match="have no response"):
        score_questions(records, rules="strict", benchmark=benchmark)
    result = score_questions(records, rules="strict", benchmark=benchmark, allow_partial=True)
    overall = result.blocks["overall"]
    assert overall["n"] == 1
    assert overall["Accuracy"] == (0.0 if question.truth else 100.0)
    with pytest.raises(InputError, match="duplicate ids"):
        score_questions(records * 2, rules="strict", benchmark=benchmark, allow_partial=True)


@pytest.mark.usefixtures("amber_data_dir")
def test_a_run_reads_its_answers_once_and_writes_no_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, limit_images=2, chunk_questions=4)
    first = run_evaluation(config, judge=MockJudge("No"))
    reads: list[str] = []
    real = io.read_jsonl

    def counting(path: Any, **options: Any) -> list[dict[str, Any]]:
        reads.append(Path(path).name)
        return real(path, **options)

    monkeypatch.setattr(io, "read_jsonl", counting)
    (first.folder / "answers.jsonl").write_text(
        "".join((first.folder / "answers.jsonl").read_text().splitlines(keepends=True)[:5])
    )
    again = run_evaluation(config, judge=MockJudge("No"))
    assert reads.count("answers.jsonl") == 1
    assert again.reused == again.questions and again.computed == 0  # 5 from the folder, rest stored
    assert again.metrics == first.metrics
    ids = [json.loads(line)["id"] for line in (again.folder / "answers.jsonl").open()]
    assert len(ids) == len(set(ids)) == again.questions  # the 5 kept, the others appended once
    assert not (again.folder / "tables.md").exists() and not (again.folder / "report.html").exists()


def test_metrics_record_round_trips_and_refuses_a_wrong_field(tmp_path: Path) -> None:
    warning = JudgeWarning("yes-ratio-low", "overall", {"yes_ratio": 0.0, "n": 10}, "said No")
    metrics = RunMetrics(
        strict={"overall": {"F1": 50.0}},
        official={"overall": {"F1": 40.0}},
        coverage={"strict": {"generative": {"CHAIR": 10.0}}, "official": {}},
        warnings=(warning,),
        extra={"later": 1},
    )
    data = metrics.to_json()
    assert list(data) == ["strict", "official", "coverage", "warnings", "later"]
    assert RunMetrics.from_json(json.loads(json.dumps(data)), where="m") == metrics
    assert metrics.coverage_score("strict") == {"generative": {"CHAIR": 10.0}}
    assert metrics.score("official") == {"overall": {"F1": 40.0}}
    with pytest.raises(InputError, match="m: no 'official' scores"):
        RunMetrics(strict={}).score("official", where="m")
    with pytest.raises(InputError, match=r"metrics\.json: field 'strict' must be an object"):
        RunMetrics.from_json({"strict": [1]}, where="metrics.json")


@pytest.mark.usefixtures("amber_data_dir")
def test_a_folder_with_a_broken_metrics_file_is_refused_naming_it(tmp_path: Path) -> None:
    config = _config(tmp_path, limit_images=1)
    folder = run_evaluation(config, judge=MockJudge("No")).folder
    assert load_run(folder).metrics.strict is not None
    (folder / "metrics.json").write_text(json.dumps({"strict": "high", "official": {}}))
    with pytest.raises(InputError, match=r"metrics\.json: field 'strict' must be an object"):
        load_run(folder)
