"""The answer rule of the engine backends (vLLM, OpenAI-compatible servers), from log-probabilities.

An engine returns, for each generated token, the token and the top-``k`` alternatives at its
position with their log-probabilities (:class:`TokenStep`). The rule is the HF backend's
(:mod:`amber_eval.judge.hf`), read from those alternatives instead of the full logits:

- the decided token is greedy decoding's first token that is not whitespace (a token whose text,
  with ``▁``/``Ġ`` and whitespace stripped, is empty); a Yes/No variant is a token whose text so
  stripped and lower-cased is exactly ``yes``/``no`` (:func:`amber_eval.judge.tokens.classify`);
- P(yes) is the softmax over the Yes/No variants among the decided position's alternatives,
  renormalized over them; the margin is the best Yes log-probability minus the best No one
  (equal to the logit margin: both are shifted by the same log-sum-exp);
- **a side that is not among the alternatives** counts as probability 0: P(yes) is 0.0 when no
  Yes variant is returned and 1.0 when no No variant is, and the margin is unknown (None); with
  neither side returned both are None. (An absent side's probability is below the smallest
  returned alternative's, so with ``k`` = 20 the error is small unless the distribution is flat.)
- a near-tie is a margin within two bfloat16 steps of the larger of the two log-probabilities;
- a Yes/No alternative whose log-probability is NaN or above 0 is no probability: P(yes) and
  the margin are None and the answer is flagged (an engine's ``-inf`` is probability 0).

Nothing here imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from amber_eval.judge.base import Answer, parse_answer
from amber_eval.judge.tokens import bf16_step, classify, token_text
from amber_eval.terms import AnswerLabel


@dataclass(frozen=True)
class TokenStep:
    """One generated token: its text (a vocabulary entry or decoded text), its log-probability
    and the top alternatives at its position, best first."""

    text: str
    logprob: float | None
    top: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class LogprobReadout:
    """P(yes), the margin and whether it is a near-tie, from one position's alternatives."""

    p_yes: float | None
    margin: float | None
    near_tie: bool
    invalid: bool = False
    """A Yes/No alternative's log-probability was NaN or above 0: no readout, and the
    answer is flagged."""


def kind_of(text: str) -> str:
    """``yes``, ``no``, ``space`` or ``other`` (see :func:`amber_eval.judge.tokens.classify`)."""
    return classify(text)


def readout_top(top: Sequence[tuple[str, float]]) -> LogprobReadout:
    """The Yes/No readout of one position's returned alternatives (rule in the module doc)."""
    if any(math.isnan(lp) or lp > 1e-4 for text, lp in top if kind_of(text) in ("yes", "no")):
        return LogprobReadout(None, None, False, invalid=True)
    yes = [lp for text, lp in top if kind_of(text) == "yes" and math.isfinite(lp)]
    no = [lp for text, lp in top if kind_of(text) == "no" and math.isfinite(lp)]
    if not yes and not no:
        return LogprobReadout(None, None, False)
    if not no:
        return LogprobReadout(1.0, None, False)
    if not yes:
        return LogprobReadout(0.0, None, False)
    peak = max(*yes, *no)
    yes_mass = sum(math.exp(lp - peak) for lp in yes)
    no_mass = sum(math.exp(lp - peak) for lp in no)
    best_yes, best_no = max(yes), max(no)
    margin = best_yes - best_no
    step = bf16_step(max(abs(best_yes), abs(best_no)))
    return LogprobReadout(yes_mass / (yes_mass + no_mass), margin, abs(margin) <= 2 * step)


def first_decided(steps: Sequence[TokenStep]) -> int | None:
    """The index of the first step that is not whitespace (None: only whitespace or nothing)."""
    for index, step in enumerate(steps):
        if kind_of(step.text) != "space":
            return index
    return None


def needs_more(steps: Sequence[TokenStep]) -> bool:
    """True when every step so far is whitespace: greedy decoding has not answered yet."""
    return first_decided(steps) is None


def visible(text: str) -> str:
    """A token's text as a reader sees it (markers turned into spaces, stripped)."""
    return token_text(text).strip()


def score_answer(steps: Sequence[TokenStep]) -> Answer:
    """The score-mode answer: the decided token, P(yes) and margin at its position."""
    index = first_decided(steps)
    if index is None:
        return Answer(text="", parsed="unknown", flagged=True)
    step = steps[index]
    kind = kind_of(step.text)
    text = visible(step.text)
    parsed: AnswerLabel = kind if kind in ("yes", "no") else parse_answer(text)  # type: ignore[assignment]
    result = readout_top(step.top)
    return Answer(
        text=text,
        parsed=parsed,
        p_yes=result.p_yes,
        margin=result.margin,
        token=step.text,
        flagged=kind not in ("yes", "no") or result.near_tie or result.invalid,
    )


def generate_answer(text: str, steps: Sequence[TokenStep]) -> Answer:
    """The generate-mode answer: ``text`` read by the strict grammar; token, P(yes) and margin
    from the first non-whitespace step when the engine returned log-probabilities."""
    parsed = parse_answer(text)
    index = first_decided(steps)
    if index is None:
        return Answer(text=text, parsed=parsed, flagged=parsed == "unknown" or bool(steps))
    step = steps[index]
    kind = kind_of(step.text)
    result = readout_top(step.top) if step.top else LogprobReadout(None, None, False)
    return Answer(
        text=text,
        parsed=parsed,
        p_yes=result.p_yes,
        margin=result.margin,
        token=step.text,
        flagged=kind not in ("yes", "no")
        or result.near_tie
        or result.invalid
        or parsed == "unknown",
    )
