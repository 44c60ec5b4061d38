"""The engine backends' answer rule, from returned top alternatives (no engine needed)."""

from __future__ import annotations

import math

import pytest
from parts import requires_module

from amber_eval.judge.logprob_rule import (
    TokenStep,
    generate_answer,
    readout_top,
    score_answer,
)


def _log(p: float) -> float:
    return math.log(p)


def test_p_yes_is_renormalized_over_the_returned_yes_no_variants() -> None:
    top = [("No", _log(0.5)), ("The", _log(0.2)), ("Yes", _log(0.1)), (" yes", _log(0.05))]
    result = readout_top(top)
    assert result.p_yes == pytest.approx(0.15 / 0.65)
    assert result.margin == pytest.approx(_log(0.1) - _log(0.5))
    assert not result.near_tie


def test_an_absent_side_counts_as_zero_and_leaves_the_margin_unknown() -> None:
    assert readout_top([("No", -0.1), ("The", -2.0)]).p_yes == 0.0
    assert readout_top([("No", -0.1), ("The", -2.0)]).margin is None
    assert readout_top([("Yes", -0.1), ("ĠThe", -2.0)]).p_yes == 1.0
    none = readout_top([("The", -0.1), ("A", -2.0)])
    assert none.p_yes is None and none.margin is None


def test_near_tie_is_flagged() -> None:
    result = readout_top([("Yes", -0.6931), ("No", -0.6932)])
    assert result.near_tie
    answer = score_answer([TokenStep("Yes", -0.6931, (("Yes", -0.6931), ("No", -0.6932)))])
    assert answer.parsed == "yes" and answer.flagged


def test_whitespace_first_token_is_skipped_as_greedy_decoding_would() -> None:
    steps = [
        TokenStep("▁", -0.1, (("▁", -0.1), ("▁No", -2.5))),
        TokenStep("▁Yes", _log(0.6), (("▁Yes", _log(0.6)), ("▁No", _log(0.3)))),
    ]
    answer = score_answer(steps)
    assert (answer.text, answer.parsed, answer.token) == ("Yes", "yes", "▁Yes")
    assert answer.p_yes == pytest.approx(0.6 / 0.9)
    assert not answer.flagged


def test_a_non_yes_no_start_is_flagged_and_parsed_by_the_grammar() -> None:
    answer = score_answer([TokenStep("The", -0.2, (("The", -0.2), ("No", -2.0)))])
    assert answer.parsed == "unknown" and answer.flagged and answer.p_yes == 0.0
    assert score_answer([]).parsed == "unknown"


def test_generate_mode_reads_the_text_and_the_first_token_alternatives() -> None:
    steps = [TokenStep("No", -0.2, (("No", -0.2), ("Yes", -1.9))), TokenStep(".", -0.1, ())]
    answer = generate_answer("No.", steps)
    assert answer.parsed == "no" and answer.text == "No." and not answer.flagged
    assert answer.p_yes == pytest.approx(math.exp(-1.9) / (math.exp(-1.9) + math.exp(-0.2)))
    bare = generate_answer("Yes", [])
    assert bare.parsed == "yes" and bare.p_yes is None and not bare.flagged
    assert generate_answer("Maybe", []).flagged


def test_with_every_variant_returned_it_equals_the_full_vocabulary_readout() -> None:
    torch = requires_module("torch")
    from amber_eval.judge.tokens import YesNoVocab, readout

    tokens = ["▁Yes", "▁No", "yes", "no", "▁the", "▁a", "▁", "Yes"]
    vocab = YesNoVocab(
        yes_ids=(0, 2, 7),
        no_ids=(1, 3),
        space_ids=frozenset({6}),
        probe_id=6,
        vocab_size=len(tokens),
        tokens=dict(enumerate(tokens)),
    )
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        logits = torch.randn(len(tokens), generator=generator) * 3
        logprobs = torch.log_softmax(logits, dim=0)
        top = [(tokens[i], float(logprobs[i])) for i in range(len(tokens))]
        exact = readout(logits, vocab)
        ours = readout_top(top)
        assert ours.p_yes == pytest.approx(exact.p_yes, abs=1e-6)
        assert ours.margin == pytest.approx(exact.margin, abs=1e-5)
