"""Bootstrap over images: known answers, clustering, degenerate cases, paired comparisons."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from parts import requires

from amber_eval.benchmarks.synthetic_runs import synthetic_records, write_synthetic_run
from amber_eval.cli.main import cli
from amber_eval.errors import InputError
from amber_eval.reporting import (
    CISettings,
    bootstrap,
    build_table,
    compare_runs,
    image_counts,
    load_run,
    metrics_from_sums,
    paired_difference,
    render_table,
)
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.run_folder.coverage_line import CoverageLine
from amber_eval.statistics.image_bootstrap import resample_weights


def _answers(correct: list[bool], *, per_image: int = 1) -> list[AnswerLine]:
    """One state question per entry of ``correct``; truths alternate yes/no (balanced)."""
    records = []
    for i, right in enumerate(correct):
        truth = "yes" if i % 2 == 0 else "no"
        parsed = truth if right else ("no" if truth == "yes" else "yes")
        for copy in range(per_image):
            records.append(
                AnswerLine(
                    id=1005 + i * per_image + copy,
                    image=f"AMBER_{i + 1}.jpg",
                    dimension="attribute-state",
                    truth=truth,  # type: ignore[arg-type]
                    prompt="Is the dog sitting?",
                    answer=parsed.capitalize(),
                    parsed=parsed,  # type: ignore[arg-type]
                )
            )
    return records


def _binomial_quantile(n: int, p: float, q: float) -> int:
    """The smallest k with P(Binomial(n, p) <= k) >= q, summed exactly."""
    total = 0.0
    for k in range(n + 1):
        total += math.comb(n, k) * p**k * (1 - p) ** (n - k)
        if total >= q:
            return k
    return n


def test_accuracy_matches_the_closed_form_on_a_balanced_set() -> None:
    # 400 images with one question each, 300 right: a resample's number of right answers is
    # exactly Binomial(400, 0.75), so sd(accuracy) = 100 * sqrt(0.75 * 0.25 / 400) = 2.165.
    n, right = 400, 300
    correct = [True] * right + [False] * (n - right)
    rng = np.random.default_rng(7)
    rng.shuffle(correct)
    counts = image_counts(_answers(list(correct)))
    weights = resample_weights(n, 20000, np.random.default_rng(1))
    accuracy = metrics_from_sums(weights @ counts.counts)["overall.Accuracy"]
    expected_sd = 100 * math.sqrt(0.75 * 0.25 / n)
    assert expected_sd == pytest.approx(2.165, abs=1e-3)
    assert accuracy.std() == pytest.approx(expected_sd, rel=0.03)
    assert accuracy.mean() == pytest.approx(75.0, abs=0.1)
    # The percentile interval matches the exact binomial quantiles (within one answer).
    interval = bootstrap(counts, resamples=20000, seed=3)["overall.Accuracy"]
    low = 100 * _binomial_quantile(n, 0.75, 0.025) / n
    high = 100 * _binomial_quantile(n, 0.75, 0.975) / n
    assert interval.estimate == 75.0
    assert interval.low == pytest.approx(low, abs=100 / n + 1e-9)
    assert interval.high == pytest.approx(high, abs=100 / n + 1e-9)


def test_an_images_questions_are_resampled_together() -> None:
    # Two identical answers per image: the unit is the image, so the spread is that of 400
    # draws, not 800 (independent questions would give sd / sqrt(2)).
    n = 400
    correct = [i % 4 != 0 for i in range(n)]
    counts = image_counts(_answers(correct, per_image=2))
    assert counts.counts.shape[0] == n
    accuracy = metrics_from_sums(
        resample_weights(n, 20000, np.random.default_rng(2)) @ counts.counts
    )
    assert accuracy["overall.Accuracy"].std() == pytest.approx(
        100 * math.sqrt(0.75 * 0.25 / n), rel=0.03
    )


def test_degenerate_cases() -> None:
    perfect = bootstrap(image_counts(_answers([True] * 50)), resamples=200, seed=0)
    assert (perfect["overall.Accuracy"].low, perfect["overall.Accuracy"].high) == (100.0, 100.0)
    single = bootstrap(image_counts(_answers([True, False], per_image=1)[:1]), resamples=50)
    assert single["overall.Accuracy"].low == single["overall.Accuracy"].high == 100.0
    # No question of a block: n/a everywhere, never 0.
    assert single["existence.Accuracy"].estimate is None
    assert single["existence.Accuracy"].low is None
    with pytest.raises(InputError, match="no images"):
        bootstrap(image_counts([]), resamples=10)
    with pytest.raises(InputError, match="--ci"):
        bootstrap(image_counts(_answers([True])), level=100)


def test_counts_follow_the_strict_rules_of_scoring() -> None:
    """The vectorised formulas equal amber_eval.scoring's strict aggregation."""
    from amber_eval.scoring.discriminative import discriminative_blocks
    from amber_eval.scoring.records import QuestionRecord

    answers, _, _ = synthetic_records(40, seed=11)
    records = [
        QuestionRecord(
            id=a.id,
            image=a.image,
            dimension=a.dimension,
            raw=a.answer,
            parsed=a.parsed,
            truth=a.truth,
        )
        for a in answers
    ]
    expected = discriminative_blocks(records, eval_type="d", rules="strict")
    got = metrics_from_sums(image_counts(answers).counts.sum(axis=0))
    for block, metrics in expected.items():
        for metric, value in metrics.items():
            scale = 100.0 if metric in ("yes_ratio", "parse_failure_rate") else 1.0
            assert float(got[f"{block}.{metric}"]) == pytest.approx(value * scale), (block, metric)


def test_generative_counts_by_hand() -> None:
    descriptions = [
        {"image": "AMBER_1.jpg", "chair_score": 1, "chair_num": 4, "cover_score": 2,
         "cover_num": 4, "cog_score": 1, "cog_num": 2, "hallucination_free": False},
        {"image": "AMBER_2.jpg", "chair_score": 0, "chair_num": 6, "cover_score": 3,
         "cover_num": 4, "cog_score": 0, "cog_num": 3, "hallucination_free": True},
    ]  # fmt: skip
    lines = [CoverageLine(**d) for d in descriptions]  # type: ignore[arg-type]
    values = metrics_from_sums(image_counts([], lines).counts.sum(axis=0))
    assert float(values["generative.CHAIR"]) == pytest.approx(10.0)  # 1 / 10
    assert float(values["generative.Cover"]) == pytest.approx(62.5)  # 5 / 8
    assert float(values["generative.Cog"]) == pytest.approx(20.0)  # 1 / 5
    assert float(values["generative.Hal"]) == pytest.approx(50.0)  # 1 of 2 hallucinates


def test_official_mode_reads_the_written_responses() -> None:
    # responses.json holds the decision ("Yes." -> "Yes"); an unparseable answer stays raw
    answers = _answers([True, True, True])
    answers[0] = dataclasses.replace(answers[0], answer="Yes.")
    answers[1] = dataclasses.replace(answers[1], answer="Nope", parsed="unknown")
    strict = metrics_from_sums(image_counts(answers).counts.sum(axis=0))
    official = metrics_from_sums(image_counts(answers, rules="official").counts.sum(axis=0))
    assert float(strict["overall.Accuracy"]) == pytest.approx(200 / 3)
    assert float(official["overall.Accuracy"]) == pytest.approx(200 / 3)
    assert float(official["overall.parse_failure_rate"]) == pytest.approx(100 / 3)


def test_seed_makes_it_reproducible() -> None:
    counts = image_counts(synthetic_records(30, seed=1)[0])
    first = bootstrap(counts, resamples=300, seed=5)["overall.F1"]
    assert bootstrap(counts, resamples=300, seed=5)["overall.F1"] == first
    assert bootstrap(counts, resamples=300, seed=6)["overall.F1"] != first


def test_paired_difference(tmp_path: Path) -> None:
    counts = image_counts(*synthetic_records(60, seed=2)[:2])
    same = paired_difference(counts, counts, resamples=300)
    assert same.images == 60
    for interval in same.difference.values():
        if interval.estimate is not None:
            assert interval.estimate == 0.0 and interval.low == interval.high == 0.0
            assert not interval.excludes_zero
    better = image_counts(*synthetic_records(300, seed=3, accuracy=0.9)[:2])
    worse = image_counts(*synthetic_records(300, seed=3, accuracy=0.6)[:2])
    result = paired_difference(better, worse, resamples=500)
    accuracy = result.difference["overall.Accuracy"]
    assert accuracy.low is not None and accuracy.low > 0 and accuracy.excludes_zero
    assert accuracy.estimate == pytest.approx(
        result.a["overall.Accuracy"] - result.b["overall.Accuracy"]  # type: ignore[operator]
    )


def test_ci_in_tables_and_compare_cli(tmp_path: Path) -> None:
    a = write_synthetic_run(tmp_path / "m" / "x-1", model="m", images=40, seed=1)
    b = write_synthetic_run(tmp_path / "n" / "x-2", model="n", images=40, seed=1, accuracy=0.5)
    table = build_table(
        [load_run(a), load_run(b)], layout="amber", ci=CISettings(level=90, resamples=200, seed=1)
    )
    interval = table.rows[0].intervals["overall.F1"]
    assert interval.low is not None and interval.high is not None
    assert interval.low <= table.rows[0].values["overall.F1"] <= interval.high  # type: ignore[operator]
    latex = render_table(table, "latex")
    assert r"{\scriptsize[" in latex and "90% bootstrap" in latex
    data = json.loads(render_table(table, "json"))
    assert data["ci"] == {"level": 90.0, "resamples": 200, "seed": 1}
    assert len(data["rows"][0]["intervals"]["overall.F1"]) == 2
    assert "overall.F1.low" in render_table(table, "csv").splitlines()[0]

    comparison = compare_runs(load_run(a), load_run(b), ci=CISettings(resamples=300))
    rows = {row.metric: row for row in comparison.rows()}
    assert rows["overall.Accuracy"].excludes_zero  # 75% vs 50% accurate on the same images
    result = CliRunner().invoke(
        cli, ["compare", str(a), str(b), "--resamples", "300", "--layout", "amber"]
    )
    assert result.exit_code == 0, result.output
    assert "| overall.Accuracy |" in result.output
    assert "Differences whose 95% interval excludes 0:" in result.output
    assert "overall.Accuracy" in result.output.split("excludes 0:")[1]


def _varied(prompt: str) -> str:
    """Yes, No, "yes." (strict reads yes, official neither) or no reading at all."""
    return ("Yes", "No", "No", "yes.", "Maybe")[len(prompt) % 5]


@pytest.mark.parametrize("mode", ["strict", "official"])
def test_bootstrap_estimates_are_the_runs_own_metrics(
    tmp_path: Path, benchmark: Any, parity_dir: Path, mode: str
) -> None:
    """Every bootstrapped metric's estimate equals metrics.json's figure exactly."""
    from amber_eval.captions.oracle import oracle_dump
    from amber_eval.captions.records import Region
    from amber_eval.captions.writer import write_dump
    from amber_eval.judge.mock import MockJudge
    from amber_eval.run_folder.config import RunConfig
    from amber_eval.runs.pipeline import run_evaluation

    pipeline = parity_dir / "glove50-amber-vocab"
    if not pipeline.is_dir():
        requires("parity", "the word-vector pipeline of the parity fixture is missing")
    # the oracle captions, the first image's led by a capitalised hallucination object: strict
    # rules count it as a hallucinated mention, official ones (case-sensitive) skip it, so the
    # two rule sets score that description differently
    dump, _ = oracle_dump(benchmark)
    first = dump.images[0]
    hallu = next(item.hallu for item in benchmark.generative.values() if item.image == first.image)
    lead = Region(caption=f"a {hallu[0].capitalize()}")
    images = [dataclasses.replace(first, regions=(lead, *first.regions)), *dump.images[1:]]
    captions = write_dump(tmp_path / "captions.jsonl", dump.header, images)
    config = RunConfig(
        captions=str(captions),
        llm="mock",
        limit_images=6,
        out=tmp_path / "results",
        spacy_model=str(pipeline),
        show_progress=False,
    )
    result = run_evaluation(config, judge=MockJudge(_varied))
    run = load_run(result.folder)
    metrics = json.loads((result.folder / "metrics.json").read_text())
    values = run.values(mode)  # type: ignore[arg-type]
    lines = run.coverage_records(mode)  # type: ignore[arg-type]
    assert {line.rules for line in lines} == {mode} and len(lines) == 6
    counts = image_counts(run.answers(), lines, rules=mode)  # type: ignore[arg-type]
    intervals = bootstrap(counts, resamples=20, seed=0)
    generative = ["generative.CHAIR", "generative.Cover", "generative.Hal", "generative.Cog"]
    assert set(intervals) == set(values)
    assert len(values) >= 7 * 4 + 5 and "overall.F1" in values
    assert values["score.AMBER"] is not None
    assert [values[key] for key in generative] == [
        metrics["coverage"][mode][key.split(".")[1]] for key in generative
    ]
    strict, official = (metrics["coverage"][rules]["CHAIR"] for rules in ("strict", "official"))
    assert strict > official  # the rule sets differ, so reading the wrong lines would show
    for key in values:
        assert intervals[key].estimate == values[key], key


def test_coverage_lines_without_rules_are_strict_and_hold_no_official_lines(
    tmp_path: Path,
) -> None:
    folder = write_synthetic_run(tmp_path / "run", images=5)
    path = folder / "coverage.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["rules"] for line in lines] == ["strict"] * 5 + ["official"] * 5
    run = load_run(folder)
    strict = run.coverage_records("strict")
    # a file written before the lines carried their rules: strict lines only, no "rules" field
    old = [{k: v for k, v in line.items() if k != "rules"} for line in lines[:5]]
    path.write_text("".join(json.dumps(line) + "\n" for line in old))
    assert run.coverage_records("strict") == strict
    with pytest.raises(InputError, match=r"official rules.*run the same command again"):
        run.coverage_records("official")
    lines[0]["chair_num"] = "four"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(InputError, match=r"image AMBER_1\.jpg: field 'chair_num'"):
        run.coverage_records("strict")
