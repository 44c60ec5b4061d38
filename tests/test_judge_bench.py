"""The benchmark: same questions, both loops, exact token accounting, agreement, speed-up line."""

from __future__ import annotations

from pathlib import Path

import pytest
from parts import requires_module

requires_module("torch")
requires_module("transformers")

from llm_fixtures import tiny_judge, tiny_llama, tiny_tokenizer  # noqa: E402

from amber_eval.benchmarks.judge import (  # noqa: E402
    agreement,
    describe_report,
    expected_tokens,
    run_bench,
    sample_indices,
)


def test_expected_tokens_by_hand() -> None:
    # Image a: [1,2,3,4] and [1,2,5] share [1,2]; image b alone keeps its last token.
    prefix, suffix = expected_tokens([[1, 2, 3, 4], [1, 2, 5], [7, 8, 9]], ["a", "a", "b"])
    assert prefix == 2 + 2
    assert suffix == (2 + 1) + (1 + 1) + (1 + 1)
    # A prompt that is a prefix of another keeps its last token in its suffix.
    assert expected_tokens([[1, 2], [1, 2, 3]], ["a", "a"]) == (1, (1 + 1) + (2 + 1))


def test_sample_indices_are_evenly_spaced() -> None:
    assert sample_indices(10, 5) == [0, 2, 4, 6, 8]
    assert sample_indices(3, None) == [0, 1, 2]
    assert sample_indices(3, 7) == [0, 1, 2]


def records_of(benchmark, count: int):  # type: ignore[no-untyped-def]
    from amber_eval.benchmarks.judge import oracle_records

    return oracle_records(benchmark, count)


def test_oracle_records_take_whole_images(benchmark) -> None:  # type: ignore[no-untyped-def]
    records = records_of(benchmark, 20)
    images = list(dict.fromkeys(r.image for r in records))
    assert images == list(benchmark.images[: len(images)])
    expected = sum(len(benchmark.questions_by_image[i]) for i in images)
    assert len(records) == expected >= 20
    assert expected - len(benchmark.questions_by_image[images[-1]]) < 20
    for record in records:
        assert benchmark.questions[record.id].text in record.prompt


def test_run_bench_on_a_tiny_model(benchmark) -> None:  # type: ignore[no-untyped-def]
    tokenizer = tiny_tokenizer()
    judge = tiny_judge(tokenizer, tiny_llama(tokenizer, seed=3, first=["▁Yes", "▁No"]))
    records = records_of(benchmark, 30)
    lines: list[str] = []
    report = run_bench(judge, records, strategies=("cache", "packed"), echo=lines.append)
    assert report.tokens_exact
    assert report.naive is not None and report.naive.questions == len(records)
    assert report.agreement is not None
    assert report.agreement.compared == len(records)
    assert report.agreement.same_token == len(records)  # score decides what greedy emits
    classes = report.agreement.per_class
    assert classes["truth=yes"]["n"] + classes["truth=no"]["n"] == len(records)
    for phase in report.optimized:
        assert phase.tokens_computed < report.naive.tokens_computed
    summary = describe_report(report)
    assert summary[-1].startswith("speed-up ") and summary[-1].endswith("x")
    assert any("exact" in line for line in lines)


def test_run_bench_extrapolates_a_naive_sample(benchmark) -> None:  # type: ignore[no-untyped-def]
    tokenizer = tiny_tokenizer()
    judge = tiny_judge(tokenizer, tiny_llama(tokenizer, seed=3, first=["▁No"]))
    records = records_of(benchmark, 30)
    report = run_bench(judge, records, naive_sample=5, echo=lambda _line: None)
    assert report.naive is not None and report.naive.extrapolated_from == 5
    assert report.naive.total_seconds == pytest.approx(
        report.naive.seconds * len(records) / 5, rel=1e-9
    )
    assert report.agreement is not None and report.agreement.compared == 5


def test_agreement_counts_per_class() -> None:
    from amber_eval.judge.base import Answer
    from amber_eval.prompting import PromptRecord

    records = [
        PromptRecord(1, "a", "existence", "yes", "p"),
        PromptRecord(2, "a", "existence", "no", "p"),
        PromptRecord(3, "b", "relation", "no", "p"),
    ]
    naive = [Answer("No", "no", token="No"), Answer("No", "no", token="No"),
             Answer("Sure", "unknown", token="Sure")]  # fmt: skip
    fast = [Answer("No", "no", token="No"), Answer("Yes", "yes", token="Yes"),
            Answer("Sure", "unknown", token="Sure")]  # fmt: skip
    result = agreement(records, naive, fast)
    assert (result.compared, result.same_parsed, result.same_token) == (3, 2, 2)
    assert result.per_class["truth=no"] == {
        "n": 2, "agree": 1, "generate_no": 1, "score_yes": 1, "generate_unknown": 1,
        "score_unknown": 1,
    }  # fmt: skip
    assert result.per_class["dimension=existence"]["agree"] == 1


def test_bench_command_with_a_model_folder(
    benchmark, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    import json

    from amber_eval.cli.main import main

    tokenizer = tiny_tokenizer()
    folder = tmp_path / "tiny"
    tiny_llama(tokenizer, seed=3, first=["▁Yes", "▁No"]).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    report_path = tmp_path / "bench.json"
    main(["bench", "--llm", str(folder), "--questions", "15", "--data-dir",
          str(benchmark.data_dir), "--json", str(report_path)])  # fmt: skip
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("speed-up ")
    assert any("questions/s" in line and "peak memory" in line for line in out)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["tokens_computed_equal_unique_prefix_plus_suffix"] is True
    assert report["agreement"]["same_token"] == report["questions"]
    assert report["speed_up"] == pytest.approx(float(out[-1].split()[1].rstrip("x")), abs=0.06)


def test_repeats_keep_each_strategys_fastest_round(benchmark) -> None:  # type: ignore[no-untyped-def]
    tokenizer = tiny_tokenizer()
    judge = tiny_judge(tokenizer, tiny_llama(tokenizer, seed=3, first=["▁No"]))
    records = records_of(benchmark, 10)
    lines: list[str] = []
    report = run_bench(
        judge, records, naive_sample=2, strategies=("cache", "packed"), repeats=3,
        echo=lines.append,
    )  # fmt: skip
    rounds = [line.split() for line in lines if line.startswith("  round ")]
    assert [(r[1], r[2]) for r in rounds] == [
        ("1:", "cache"), ("1:", "packed"), ("2:", "cache"), ("2:", "packed"),
        ("3:", "cache"), ("3:", "packed"),
    ]  # fmt: skip
    for phase in report.optimized:
        times = [float(r[3]) for r in rounds if f"({r[2]})" in phase.name]
        assert f"{phase.seconds:.2f}" == f"{min(times):.2f}"
