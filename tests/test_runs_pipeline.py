"""The run pipeline with the mock judge: run folder, reuse, resume, no overwrite, bad input."""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import pytest
from parts import requires

from amber_eval.errors import AmberEvalError, InputError, ResourceError
from amber_eval.judge.base import Answer, Progress
from amber_eval.judge.mock import MockJudge
from amber_eval.run_folder.config import RunConfig
from amber_eval.runs.answer_store import AnswerStore
from amber_eval.runs.pipeline import run_evaluation

pytestmark = pytest.mark.usefixtures("amber_data_dir")


def _config(tmp_path: Path, **change: Any) -> RunConfig:
    base: dict[str, Any] = {
        "captions": "oracle",
        "llm": "mock",
        "limit_images": 3,
        "out": tmp_path / "results",
        "show_progress": False,
        "chunk_questions": 8,
    }
    base.update(change)
    return RunConfig(**base)


def _expected_ids(benchmark: Any, limit: int) -> list[int]:
    return [q.id for q in benchmark.questions_for(benchmark.first_images(limit))]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class Dies(MockJudge):
    """Answers ``budget`` prompts, then fails like a killed process would stop."""

    def __init__(self, budget: int, rule: str = "No") -> None:
        super().__init__(rule)
        self.budget = budget

    def answer(
        self,
        prompts: Sequence[str],
        *,
        groups: Sequence[Hashable] | None = None,
        progress: Progress | None = None,
    ) -> list[Answer]:
        if self.budget < len(prompts):
            raise KeyboardInterrupt
        self.budget -= len(prompts)
        return super().answer(prompts, groups=groups, progress=progress)


def test_run_writes_a_complete_folder(tmp_path: Path, benchmark: Any) -> None:
    judge = MockJudge("No")
    result = run_evaluation(_config(tmp_path), judge=judge)
    ids = _expected_ids(benchmark, 3)
    assert result.questions == len(ids) and result.computed == len(ids) and result.reused == 0
    assert sum(len(c) for c in judge.calls) == len(ids)
    folder = result.folder
    assert folder.parent == tmp_path / "results" / "oracle"
    assert folder.name.startswith("mock-") and len(folder.name) == len("mock-") + 12
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "success" and run["ended"] is not None
    assert run["config_hash"] == result.config_hash
    assert run["config"]["llm"] == "mock" and run["config"]["limit_images"] == 3
    for key in ("version", "git_revision", "data_sha256", "template_sha256", "captions_sha256"):
        assert key in run
    lines = [json.loads(x) for x in (folder / "answers.jsonl").read_text().splitlines()]
    assert sorted(x["id"] for x in lines) == ids
    assert set(lines[0]) == {
        "id", "image", "dimension", "truth", "prompt", "answer", "parsed", "p_yes", "margin",
        "token", "flagged",
    }  # fmt: skip
    assert {x["answer"] for x in lines} == {"No"}
    responses = json.loads((folder / "responses.json").read_text())
    assert responses == [{"id": i, "response": "No"} for i in ids]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics) == {"strict", "official", "coverage", "warnings"}
    assert metrics == result.metrics


def test_second_run_computes_nothing(tmp_path: Path) -> None:
    first = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    again = MockJudge("No")
    second = run_evaluation(_config(tmp_path), judge=again)
    assert again.calls == []
    assert second.computed == 0 and second.reused == first.questions
    assert second.folder == first.folder and second.metrics == first.metrics


def test_store_is_shared_by_run_folders(tmp_path: Path) -> None:
    """Another results folder with the same store asks nothing again."""
    store = tmp_path / "answers.sqlite"
    run_evaluation(_config(tmp_path, store=store), judge=MockJudge("No"))
    again = MockJudge("No")
    other = run_evaluation(_config(tmp_path, store=store, out=tmp_path / "elsewhere"), judge=again)
    assert again.calls == [] and other.computed == 0
    assert json.loads((other.folder / "responses.json").read_text())


def _answer_by_prompt(prompt: str) -> str:
    """An answer that depends on the question: Yes for prompts of even length."""
    return "Yes" if len(prompt) % 2 == 0 else "No"


def test_answers_from_a_shared_store_stay_with_their_questions(tmp_path: Path) -> None:
    """A rerun into a new results folder takes every answer from the store, each its own."""
    store = tmp_path / "answers.sqlite"
    first = run_evaluation(_config(tmp_path, store=store), judge=MockJudge(_answer_by_prompt))
    again = MockJudge(_answer_by_prompt)  # the same judge (identity), so the same store keys
    other = run_evaluation(_config(tmp_path, store=store, out=tmp_path / "elsewhere"), judge=again)
    assert again.calls == [] and other.computed == 0
    lines = [json.loads(x) for x in (other.folder / "answers.jsonl").read_text().splitlines()]
    assert {line["answer"] for line in lines} == {"Yes", "No"}  # the rule gives both answers
    for line in lines:
        assert line["answer"] == _answer_by_prompt(line["prompt"]), line["id"]
    metrics = json.loads((other.folder / "metrics.json").read_text())
    assert metrics == json.loads((first.folder / "metrics.json").read_text())


def test_another_llm_gets_its_own_folder_and_its_own_answers(tmp_path: Path) -> None:
    first = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    before = _snapshot(first.folder)
    yes = MockJudge("Yes")
    second = run_evaluation(_config(tmp_path), judge=yes)
    assert second.folder != first.folder
    assert second.computed == second.questions  # nothing reused across identities
    assert _snapshot(first.folder) == before
    responses = json.loads((second.folder / "responses.json").read_text())
    assert {r["response"] for r in responses} == {"Yes"}


def test_a_setting_change_is_a_new_run(tmp_path: Path) -> None:
    first = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    system = MockJudge("No", system_prompt="Answer briefly.")
    second = run_evaluation(_config(tmp_path), judge=system)
    assert second.folder != first.folder and second.computed == second.questions
    fewer = run_evaluation(_config(tmp_path, limit_images=2), judge=MockJudge("No"))
    assert fewer.folder != first.folder and fewer.computed == 0  # same prompts: reused


def test_interrupted_run_resumes_without_asking_again(tmp_path: Path, benchmark: Any) -> None:
    ids = _expected_ids(benchmark, 3)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(_config(tmp_path), judge=Dies(budget=len(ids) // 2))
    folders = list((tmp_path / "results" / "oracle").iterdir())
    assert len(folders) == 1
    run = json.loads((folders[0] / "run.json").read_text())
    assert run["status"] == "error" and run["error"] == "interrupted"
    stored = [json.loads(x)["id"] for x in (folders[0] / "answers.jsonl").read_text().splitlines()]
    assert 0 < len(stored) < len(ids)
    with AnswerStore(tmp_path / "results" / ".answers.sqlite") as store:
        assert store.count() == len(stored)

    resumed = MockJudge("No")
    result = run_evaluation(_config(tmp_path), judge=resumed)
    asked = [p for call in resumed.calls for p in call]
    assert len(asked) == len(ids) - len(stored) == result.computed
    lines = [
        json.loads(x)["id"] for x in (result.folder / "answers.jsonl").read_text().splitlines()
    ]
    assert sorted(lines) == ids  # each question exactly once
    fresh = run_evaluation(_config(tmp_path, out=tmp_path / "fresh"), judge=MockJudge("No"))
    assert result.metrics == fresh.metrics
    assert json.loads((result.folder / "run.json").read_text())["attempts"] == 2


def test_torn_answer_line_is_asked_again(tmp_path: Path, benchmark: Any) -> None:
    first = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    answers = first.folder / "answers.jsonl"
    text = answers.read_text()
    last = text.splitlines()[-1]
    answers.write_text(text[: -len(last) - 1] + last[:10])  # the last line torn
    (tmp_path / "results" / ".answers.sqlite").unlink()  # and the store lost
    for suffix in ("-wal", "-shm"):
        (tmp_path / "results" / f".answers.sqlite{suffix}").unlink(missing_ok=True)
    again = MockJudge("No")
    result = run_evaluation(_config(tmp_path), judge=again)
    assert [len(c) for c in again.calls] == [1]
    assert result.metrics == first.metrics


def _dump_file(path: Path, images: list[str]) -> Path:
    lines = [{"format": "amber-eval/region-captions", "version": 1, "captioner": {"name": "t"}}]
    lines += [{"image": i, "regions": [{"caption": "a dog"}]} for i in images]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.fixture
def earlier(tmp_path: Path) -> tuple[Path, dict[str, bytes], int]:
    result = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    with AnswerStore(tmp_path / "results" / ".answers.sqlite") as store:
        count = store.count()
    return result.folder, _snapshot(tmp_path / "results"), count


def _intact(tmp_path: Path, earlier: tuple[Path, dict[str, bytes], int]) -> None:
    _folder, snapshot, count = earlier
    now = _snapshot(tmp_path / "results")
    assert {k: v for k, v in now.items() if "sqlite" not in k} == {
        k: v for k, v in snapshot.items() if "sqlite" not in k
    }
    with AnswerStore(tmp_path / "results" / ".answers.sqlite") as store:
        assert store.count() == count


def test_malformed_captions_file(tmp_path: Path, earlier: Any) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "amber-eval-captions"\n')
    with pytest.raises(InputError, match=r"bad\.jsonl"):
        run_evaluation(_config(tmp_path, captions=str(bad)), judge=MockJudge("No"))
    _intact(tmp_path, earlier)


def test_captions_of_images_amber_does_not_have(tmp_path: Path, earlier: Any) -> None:
    dump = _dump_file(tmp_path / "dump.jsonl", ["AMBER_1.jpg", "NOT_AMBER.jpg"])
    with pytest.raises(InputError, match=r"NOT_AMBER\.jpg"):
        run_evaluation(_config(tmp_path, captions=str(dump)), judge=MockJudge("No"))
    _intact(tmp_path, earlier)


def test_missing_captions_file(tmp_path: Path, earlier: Any) -> None:
    with pytest.raises(InputError, match="does not exist"):
        run_evaluation(_config(tmp_path, captions=str(tmp_path / "nope.jsonl")))
    _intact(tmp_path, earlier)


def test_unwritable_output_folder(tmp_path: Path, earlier: Any) -> None:
    blocker = tmp_path / "results" / "oracle" / "file"
    blocker.write_text("")
    with pytest.raises(ResourceError, match="--out"):
        run_evaluation(_config(tmp_path, out=blocker / "sub"), judge=MockJudge("No"))
    blocker.unlink()
    _intact(tmp_path, earlier)


def test_judge_failure_is_recorded(tmp_path: Path) -> None:
    class Broken(MockJudge):
        def answer(self, prompts: Sequence[str], **_: Any) -> list[Answer]:
            raise AmberEvalError("out of memory")

    with pytest.raises(AmberEvalError):
        run_evaluation(_config(tmp_path), judge=Broken("No"))
    (folder,) = (tmp_path / "results" / "oracle").iterdir()
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "error" and "out of memory" in run["error"]


def test_caption_coverage_with_a_word_vector_pipeline(
    tmp_path: Path, benchmark: Any, parity_dir: Path
) -> None:
    pipeline = parity_dir / "glove50-amber-vocab"
    if not pipeline.is_dir():
        requires("parity", "the word-vector pipeline of the parity fixture is missing")
    result = run_evaluation(
        _config(tmp_path, limit_images=2, spacy_model=str(pipeline)), judge=MockJudge("No")
    )
    coverage = result.metrics["coverage"]
    assert coverage["available"] is True and coverage["images"] == 2
    assert {"CHAIR", "Cover", "Hal", "Cog"} <= set(coverage["strict"])
    assert {"CHAIR", "Cover", "Hal", "Cog"} <= set(coverage["official"])
    records = [json.loads(x) for x in (result.folder / "coverage.jsonl").read_text().splitlines()]
    # each image's description scored under the strict rules, then under the official ones
    assert [(r["rules"], r["image"]) for r in records] == [
        (rules, image)
        for rules in ("strict", "official")
        for image in ("AMBER_1.jpg", "AMBER_2.jpg")
    ]
    assert [r["id"] for r in records] == [1, 2, 1, 2]  # the generative item of each image
    # oracle captions name only truth objects: nothing they mention is a hallucination
    assert coverage["strict"]["CHAIR"] == 0.0


def test_coverage_unavailable_is_reported_not_fatal(tmp_path: Path) -> None:
    result = run_evaluation(
        _config(tmp_path, spacy_model=str(tmp_path / "no-such-pipeline")), judge=MockJudge("No")
    )
    assert result.metrics["coverage"]["available"] is False
    assert "no-such-pipeline" in result.metrics["coverage"]["reason"]
    assert not (result.folder / "coverage.jsonl").exists()


def test_calls_take_whole_images() -> None:
    from amber_eval.prompting import PromptRecord
    from amber_eval.runs.answering import take_images

    items = [
        PromptRecord(i, image, "existence", "no", "p")
        for i, image in enumerate(["a"] * 3 + ["b"] * 2 + ["c"] * 4)
    ]
    first = take_images(items, 0, 4)
    assert [q.image for q in first] == ["a"] * 3 + ["b"] * 2  # never splits an image
    assert [q.image for q in take_images(items, 5, 4)] == ["c"] * 4
    assert [q.image for q in take_images(items, 0, 1)] == ["a"] * 3
    assert len(take_images(items, 0, 100)) == 9


def test_adaptive_call_size() -> None:
    from amber_eval.runs.answering import ChunkSizer

    sizer = ChunkSizer(None)
    assert sizer.size == 32
    sizer.observe(32, 1.0)  # 32 questions/s -> 10 s of work
    assert sizer.size == 320
    sizer.observe(320, 0.01)
    assert sizer.size == 4096  # capped
    sizer.observe(4096, 4096.0)
    assert sizer.size == 32  # floor
    fixed = ChunkSizer(8)
    fixed.observe(8, 0.001)
    assert fixed.size == 8


def test_a_second_process_on_the_same_run_is_refused(tmp_path: Path) -> None:
    first = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    before = _snapshot(first.folder)

    from amber_eval.run_folder.files import run_lock

    # as if another process were running this run
    with run_lock(first.folder), pytest.raises(ResourceError, match="another amber-eval process"):
        run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    assert _snapshot(first.folder) == before
    again = run_evaluation(_config(tmp_path), judge=MockJudge("No"))  # released
    assert again.computed == 0
