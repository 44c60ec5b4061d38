"""Prompts longer than the judge's context are refused before any model call; batches stay
within the token budget whatever one image's prompt count."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from parts import requires_module

from amber_eval.judge.batching import Row, batch_cost, make_batches
from amber_eval.judge.context import PromptTooLongError, check_context, measure_context
from amber_eval.judge.mock import MockJudge

sys.path.insert(0, str(Path(__file__).parent))


def _record(i: int, caption_words: int) -> Any:
    from amber_eval.prompting import PromptRecord

    captions = ", ".join(["a red car"] * caption_words)
    return PromptRecord(
        id=i,
        image=f"AMBER_{i}.jpg",
        dimension="existence",
        truth="yes",
        prompt=f"If an image contains {captions}. Is there a car in this image?",
    )


def test_mock_judge_counts_and_refuses_long_prompts() -> None:
    judge = MockJudge("No", context_limit=40, chat_template=False)
    prompts = ["one two three", " ".join(["w"] * 45), " ".join(["w"] * 60)]
    report = measure_context(judge, prompts)
    assert report is not None
    assert report.tokens == (4, 46, 61) and report.too_long == (1, 2) and report.longest == 2
    with pytest.raises(PromptTooLongError) as info:
        check_context(judge, prompts, labels=["a", "b", "image AMBER_9.jpg, question 7"])
    message = str(info.value)
    for part in (
        "2 of 3 prompts",
        "(40 tokens)",
        "61 tokens",
        "AMBER_9.jpg",
        "--top-k",
        "--min-score",
    ):
        assert part in message
    check_context(MockJudge("No"), prompts)  # no limit: nothing to check


def _tiny_judge(mode: str = "score") -> Any:
    requires_module("transformers")
    from llm_fixtures import tiny_llama, tiny_tokenizer

    from amber_eval.judge.hf import HFJudge

    tokenizer = tiny_tokenizer()
    model = tiny_llama(tokenizer, first=["▁Yes", "▁No"])
    return HFJudge(model, tokenizer, source={"model": "tiny"}, mode=mode, max_new_tokens=3)


@pytest.mark.parametrize("mode", ["score", "generate"])
def test_hf_judge_exposes_its_limit_and_counts_with_its_tokenizer(mode: str) -> None:
    judge = _tiny_judge(mode)
    assert judge.context_limit == judge.model.config.max_position_embeddings == 1024
    prompt = "If an image contains a dog. Is there a dog in this image?"
    extra = 1 if mode == "score" else 3
    assert judge.count_tokens([prompt]) == [len(judge.encode(prompt)) + extra]


def test_ask_refuses_a_prompt_past_the_context_before_any_forward() -> None:
    from amber_eval.judge.ask import answer_records

    judge = _tiny_judge()
    records = [_record(1, 3), _record(2, 600), _record(3, 2)]
    with pytest.raises(PromptTooLongError) as info:
        answer_records(judge, records)
    assert judge.stats.forwards == 0
    message = str(info.value)
    assert "1 of 3 prompts" in message and "(1024 tokens)" in message
    assert (
        "image AMBER_2.jpg, question 2" in message
        and "amber-eval prompts --order score --top-k" in message
    )
    assert info.value.report.tokens[1] > 1024
    assert len(answer_records(judge, [records[0], records[2]])) == 2


def test_ask_cli_exits_2_naming_the_longest_prompt(tmp_path: Path, run_cli: Any) -> None:
    requires_module("transformers")
    from test_judge_cli import save_tiny_model

    folder = save_tiny_model(tmp_path / "tiny")
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "".join(json.dumps(_record(i, n).to_json()) + "\n" for i, n in ((1, 20), (2, 600))), "utf-8"
    )
    out = tmp_path / "answers.jsonl"
    code, _, err = run_cli(
        ["ask", "--llm", str(folder), "--prompts", str(prompts), "--out", str(out)]
    )
    assert code == 2, err
    assert "error: 1 of 2 prompts exceed" in err and "AMBER_2.jpg" in err
    assert not out.exists()


@pytest.mark.usefixtures("amber_data_dir")
def test_run_refuses_before_writing_or_asking(tmp_path: Path) -> None:
    from amber_eval.run_folder.config import RunConfig
    from amber_eval.runs.pipeline import run_evaluation

    judge = MockJudge("No", context_limit=30)
    config = RunConfig(
        captions="oracle", llm="mock", limit_images=3, out=tmp_path / "results", show_progress=False
    )
    with pytest.raises(PromptTooLongError) as info:
        run_evaluation(config, judge=judge)
    assert judge.calls == []
    assert not (tmp_path / "results" / "oracle").exists()
    assert "--top-k" in str(info.value) and "image AMBER_" in str(info.value)


def _rows(prefix: int, suffixes: list[int]) -> Row:
    return Row(
        prefix=tuple(range(prefix)),
        items=tuple((i, tuple(range(n))) for i, n in enumerate(suffixes)),
    )


@pytest.mark.parametrize("strategy", ["packed", "cache"])
def test_a_large_group_is_split_to_keep_batches_within_the_budget(strategy: str) -> None:
    # One image whose 17 prompts of 80 tokens share a 900-token prefix: over a 2,000-token budget as a whole.
    row = _rows(900, [80] * 17)
    batches = make_batches([row], 2000, strategy)
    assert len(batches) > 1
    assert all(batch_cost(b, strategy) <= 2000 for b in batches)
    answered = sorted(i for b in batches for r in b for i, _ in r.items)
    assert answered == list(range(17))
    assert all(r.prefix == row.prefix for b in batches for r in b)
    # A single prompt over the budget still gets a batch of its own.
    lone = make_batches([_rows(3000, [5])], 2000, strategy)
    assert len(lone) == 1 and batch_cost(lone[0], strategy) == 3005
