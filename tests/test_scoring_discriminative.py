"""Yes/No rules: answer reading, counters, blocks per type, F1 rules, hand-computed values."""

from __future__ import annotations

import pytest
from test_scoring_helpers import make_benchmark

from amber_eval.data.benchmark import Dimension
from amber_eval.errors import InputError
from amber_eval.scoring import Response, parse_official, parse_strict, score_responses

E, S, N, A, R = (
    Dimension.EXISTENCE,
    Dimension.STATE,
    Dimension.NUMBER,
    Dimension.ACTION,
    Dimension.RELATION,
)


def score(bench, answers: dict[int, str], eval_type: str, mode: str, **kw):  # type: ignore[no-untyped-def]
    responses = [Response(id=i, response=text) for i, text in answers.items()]
    return score_responses(responses, eval_type=eval_type, rules=mode, benchmark=bench, **kw)


@pytest.mark.parametrize(
    ("raw", "official", "strict"),
    [
        ("Yes", "yes", "yes"),
        ("No", "no", "no"),
        ("Yes.", "unknown", "yes"),
        ("yes", "unknown", "yes"),
        (" No", "unknown", "no"),
        ("\nNo", "unknown", "no"),
        ("**Yes**", "unknown", "yes"),
        ("YES!", "unknown", "yes"),
        ("No, there is not.", "unknown", "no"),
        ("Yesterday", "unknown", "unknown"),
        ("Nope", "unknown", "unknown"),
        ("Maybe yes", "unknown", "unknown"),
        ("", "unknown", "unknown"),
    ],
)
def test_answer_grammar(raw: str, official: str, strict: str) -> None:
    assert parse_official(raw) == official
    assert parse_strict(raw) == strict


def test_yes_dot_is_wrong_officially_and_right_in_strict_mode() -> None:
    bench = make_benchmark(questions={2: (S, True), 3: (S, True)})
    official = score(bench, {2: "Yes.", 3: "Yes"}, "da", "official")
    # correct 1 of 2.001 -> 49.975 -> 50.0; the first answer counted as wrong.
    assert official.blocks["state"]["Accuracy"] == 50.0
    strict = score(bench, {2: "Yes.", 3: "Yes"}, "da", "strict")
    assert strict.blocks["state"]["Accuracy"] == 100.0
    assert [q.parsed for q in strict.items] == ["yes", "yes"]


def test_existence_block_uses_eps_0_001_and_rounded_p_r() -> None:
    bench = make_benchmark(questions=dict.fromkeys(range(2, 6), (E, False)))
    answers = {2: "No", 3: "No", 4: "Yes", 5: "Yes"}
    official = score(bench, answers, "de", "official").blocks
    # Acc 2/4.001 = 49.99 -> 50.0; P 2/2.001 = 99.95 -> 100.0; R 2/4.001 -> 50.0;
    # F1 = 2*1.0*0.5/(1.0+0.5+0.001)*100 = 66.622 -> 66.6
    assert official == {
        "existence": {"Accuracy": 50.0, "Precision": 100.0, "Recall": 50.0, "F1": 66.6}
    }
    strict = score(bench, answers, "de", "strict").blocks["existence"]
    assert strict["Accuracy"] == 50.0 and strict["Precision"] == 100.0
    assert strict["Recall"] == 50.0
    assert strict["F1"] == pytest.approx(200 / 3)
    assert (strict["n"], strict["yes_ratio"], strict["parse_failure_rate"]) == (4, 0.5, 0.0)


def test_positive_class_is_no() -> None:
    # truth no/answer No (TP), truth no/Yes (FN), truth yes/No (FP), truth yes/Yes (TN).
    bench = make_benchmark(questions={2: (R, False), 3: (R, False), 4: (R, True), 5: (R, True)})
    strict = score(bench, {2: "No", 3: "Yes", 4: "No", 5: "Yes"}, "dr", "strict").blocks
    block = strict["relation"]
    assert (block["Accuracy"], block["Precision"], block["Recall"], block["F1"]) == (
        50.0,
        50.0,
        50.0,
        50.0,
    )


def test_attribute_block_pools_three_dimensions_with_0_003_denominators() -> None:
    bench = make_benchmark(questions={2: (S, True)})
    blocks = score(bench, {2: "Yes"}, "da", "official").blocks
    assert list(blocks) == ["attribute", "state", "number", "action"]
    # attribute: 1 / (1.001 + 0.001 + 0.001) = 99.70 -> 99.7; state: 1/1.001 -> 99.9
    assert blocks["attribute"]["Accuracy"] == 99.7
    assert blocks["state"]["Accuracy"] == 99.9
    # number and action have no questions: 0/0.001 everywhere.
    assert blocks["number"] == {"Accuracy": 0.0, "Precision": 0.0, "Recall": 0.0, "F1": 0.0}


def test_type_with_no_questions_uses_the_0_001_counters_officially() -> None:
    bench = make_benchmark(questions={2: (S, True)})
    official = score(bench, {}, "de", "official")
    assert official.blocks == {
        "existence": {"Accuracy": 0.0, "Precision": 0.0, "Recall": 0.0, "F1": 0.0}
    }
    strict = score(bench, {}, "de", "strict", allow_partial=True)
    assert strict.blocks["existence"] == {
        "Accuracy": None,
        "Precision": None,
        "Recall": None,
        "F1": None,
        "n": 0,
        "yes_ratio": None,
        "parse_failure_rate": None,
    }


def test_always_yes_has_precision_and_f1_na_in_strict_mode() -> None:
    bench = make_benchmark(questions={2: (S, True), 3: (S, False), 4: (E, False)})
    answers = {2: "Yes", 3: "Yes", 4: "Yes"}
    strict = score(bench, answers, "d", "strict").blocks["overall"]
    assert strict["Precision"] is None
    assert strict["Recall"] == 0.0
    assert strict["F1"] is None
    assert strict["yes_ratio"] == 1.0
    official = score(bench, answers, "d", "official").blocks["overall"]
    assert (official["Precision"], official["F1"]) == (0.0, 0.0)


def test_f1_is_zero_when_p_or_r_is_zero_and_both_defined() -> None:
    bench = make_benchmark(questions={2: (S, True), 3: (S, False)})
    # truth yes answered No: P = 0/1; truth no answered Yes: R = 0/1.
    block = score(bench, {2: "No", 3: "Yes"}, "da", "strict").blocks["state"]
    assert (block["Precision"], block["Recall"], block["F1"]) == (0.0, 0.0, 0.0)


def test_unknown_answers_count_wrong_and_as_parse_failures() -> None:
    bench = make_benchmark(questions={2: (S, True), 3: (S, False), 4: (N, False), 5: (A, True)})
    result = score(bench, {2: "Maybe", 3: "no.", 4: "I cannot tell", 5: "Yes"}, "da", "strict")
    block = result.blocks["attribute"]
    assert block["Accuracy"] == 50.0
    assert block["parse_failure_rate"] == 0.5
    assert block["yes_ratio"] == 0.25
    # ans_no = 1 (id 3, correct): P 100; truth no = 2, found 1: R 50.
    assert (block["Precision"], block["Recall"]) == (100.0, 50.0)
    assert result.blocks["state"]["parse_failure_rate"] == 0.5


def test_blocks_printed_per_type() -> None:
    qs = {2: (E, False), 3: (S, True), 4: (N, False), 5: (A, True), 6: (R, True)}
    bench = make_benchmark({1: (("dog",), ())}, qs)
    answers = dict.fromkeys(qs, "No")
    expected = {
        "d": ["overall", "existence", "attribute", "state", "number", "action", "relation"],
        "de": ["existence"],
        "da": ["attribute", "state", "number", "action"],
        "dr": ["relation"],
    }
    for eval_type, names in expected.items():
        wanted = {i: a for i, a in answers.items() if i in bench.expected_ids(eval_type)}
        assert list(score(bench, wanted, eval_type, "official").blocks) == names


def test_official_counts_duplicates_twice_with_a_warning() -> None:
    bench = make_benchmark(questions={2: (E, False), 3: (E, False)})
    responses = [Response(2, "No"), Response(2, "No"), Response(3, "Yes")]
    result = score_responses(responses, eval_type="de", rules="official", benchmark=bench)
    # correct 2 of 3.001 -> 66.6 (3 counted, not 2)
    assert result.blocks["existence"]["Accuracy"] == 66.6
    assert len(result.items) == 3
    assert any("duplicate ids counted twice" in w and "2" in w for w in result.warnings)
    with pytest.raises(InputError, match="duplicate ids: 2"):
        score_responses(responses, eval_type="de", rules="strict", benchmark=bench)


def test_ids_outside_the_type_are_processed_officially_and_rejected_strictly() -> None:
    bench = make_benchmark(questions={2: (E, False), 3: (S, True)})
    responses = [Response(2, "No"), Response(3, "No")]
    result = score_responses(responses, eval_type="de", rules="official", benchmark=bench)
    assert list(result.blocks) == ["existence"]
    assert result.blocks["existence"]["Accuracy"] == 99.9
    assert [item.id for item in result.items] == [2, 3]
    assert any("outside evaluation type 'de'" in w for w in result.warnings)
    with pytest.raises(InputError, match="outside evaluation type 'de': 3"):
        score_responses(responses, eval_type="de", rules="strict", benchmark=bench)


def test_unknown_ids_are_errors_in_both_modes() -> None:
    bench = make_benchmark(questions={2: (E, False)})
    for mode in ("official", "strict"):
        with pytest.raises(InputError, match=r"unknown ids.*: 99"):
            score_responses([Response(99, "No")], eval_type="de", rules=mode, benchmark=bench)


def test_missing_ids() -> None:
    bench = make_benchmark(questions={2: (E, False), 3: (E, False), 4: (E, False)})
    responses = [Response(2, "No")]
    official = score_responses(responses, eval_type="de", rules="official", benchmark=bench)
    assert any("2 of the 3 ids" in w and "3, 4" in w for w in official.warnings)
    with pytest.raises(InputError, match=r"2 of the 3 ids.*--allow-partial"):
        score_responses(responses, eval_type="de", rules="strict", benchmark=bench)
    partial = score_responses(
        responses, eval_type="de", rules="strict", benchmark=bench, allow_partial=True
    )
    assert partial.coverage is not None
    assert (partial.coverage.expected, partial.coverage.scored, partial.coverage.missing) == (
        3,
        1,
        2,
    )
    assert partial.to_json()["coverage"]["fraction"] == pytest.approx(1 / 3)
    assert partial.blocks["existence"]["n"] == 1


def test_always_no_blocks_in_strict_json() -> None:
    bench = make_benchmark(questions={2: (E, False), 3: (S, True), 4: (S, False)})
    result = score(bench, {2: "Yes", 3: "Yes", 4: "Yes"}, "d", "strict")
    data = result.to_json()
    always_no = data["always_no"]
    assert list(always_no) == list(result.blocks)
    # Always "No": correct 2 of 3; P 2/3; R 2/2; F1 = 2*(2/3)*1/(5/3) = 0.8
    assert always_no["overall"]["Accuracy"] == pytest.approx(200 / 3)
    assert always_no["overall"]["F1"] == pytest.approx(80.0)
    assert always_no["existence"]["Accuracy"] == 100.0
    assert "AMBER" not in data  # no generative block for type d
    assert (
        "always_no" not in score(bench, {2: "Yes", 3: "Yes", 4: "Yes"}, "d", "official").to_json()
    )


def test_official_json_is_exactly_the_printed_blocks() -> None:
    bench = make_benchmark(questions={2: (R, True)})
    data = score(bench, {2: "Yes"}, "dr", "official").to_json()
    assert data == {"relation": {"Accuracy": 99.9, "Precision": 0.0, "Recall": 0.0, "F1": 0.0}}


def test_always_no_baseline_on_the_real_data(benchmark) -> None:  # type: ignore[no-untyped-def]
    from amber_eval.scoring import baseline_answers

    answers = baseline_answers(benchmark, "d")
    assert len(answers) == 14216 and {a.response for a in answers} == {"No"}
    official = score_responses(answers, eval_type="d", rules="official", benchmark=benchmark)
    # The published facts of the data: existence 100; attribute Acc 50.0, F1 66.7;
    # relation Acc 41.4; all questions Acc 66.3, F1 79.7.
    blocks = official.blocks
    assert blocks["existence"]["Accuracy"] == 100.0 and blocks["existence"]["F1"] == 100.0
    assert (blocks["attribute"]["Accuracy"], blocks["attribute"]["F1"]) == (50.0, 66.7)
    assert blocks["relation"]["Accuracy"] == 41.4
    assert (blocks["overall"]["Accuracy"], blocks["overall"]["F1"]) == (66.3, 79.7)


def test_strict_blocks_with_unparsed_answers_excluded() -> None:
    bench = make_benchmark(questions={2: (E, False), 3: (S, True), 4: (S, False), 5: (S, False)})
    result = score(bench, {2: "No", 3: "Maybe", 4: "Yes", 5: "I cannot say"}, "d", "strict")
    data = result.to_json()
    # counted wrong (the blocks): 1 of 4 correct; P 1/1; R 1 of the 3 "No" truths
    assert data["overall"]["Accuracy"] == 25.0 and data["overall"]["n"] == 4
    assert data["overall"]["Recall"] == pytest.approx(100 / 3)
    excluded = data["unknown_excluded"]
    assert list(excluded) == list(result.blocks)
    # excluded: questions 2 and 4 remain; 1 of 2 correct; P 1/1 = 100; R 1 of 2 = 50;
    # F1 = 2 * 100 * 50 / 150
    overall = excluded["overall"]
    assert (overall["n"], overall["Accuracy"], overall["Precision"], overall["Recall"]) == (
        2,
        50.0,
        100.0,
        50.0,
    )
    assert overall["F1"] == pytest.approx(200 / 3)
    assert overall["parse_failure_rate"] == 0.0
    # the state block keeps question 4 only (answered Yes, truth No): no "No" answer, P n/a
    state = excluded["state"]
    assert (state["n"], state["Accuracy"], state["Precision"], state["F1"]) == (1, 0.0, None, None)
    assert "unknown_excluded" not in score(bench, {2: "No"}, "de", "official").to_json()
