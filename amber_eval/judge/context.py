"""Prompts against the judge's context window, checked before any model call.

A prompt longer than the model's context does not fail loudly: positions past the window give
garbage logits, and one such prompt can take gigabytes. :func:`check_context` counts every
prompt's tokens with the judge's own tokenizer (:meth:`Judge.count_tokens`) and refuses the lot
when any exceeds :attr:`Judge.context_limit`, naming how many, the longest and how to shorten
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from amber_eval.errors import InputError
from amber_eval.judge.base import Judge

RUN_HINT = (
    "shorten the caption lists: --order score --top-k N keeps the N best-scored captions per "
    "image, --min-score S drops captions scored below S"
)
"""How ``run`` (and ``prompts``) shorten prompts."""


@dataclass(frozen=True)
class ContextReport:
    """Which prompts exceed the judge's context (indices into the checked prompts)."""

    limit: int
    too_long: tuple[int, ...]
    tokens: tuple[int, ...]

    @property
    def longest(self) -> int:
        """Index of the longest prompt."""
        return max(range(len(self.tokens)), key=self.tokens.__getitem__)


class PromptTooLongError(InputError):
    """Some prompts do not fit in the judge's context window."""

    def __init__(self, message: str, report: ContextReport) -> None:
        super().__init__(message)
        self.report = report


def measure_context(judge: Judge, prompts: Sequence[str]) -> ContextReport | None:
    """The token count of each prompt and those over the limit; None when the judge has none."""
    limit = judge.context_limit
    if limit is None or not prompts:
        return None
    tokens = tuple(int(n) for n in judge.count_tokens(prompts))
    if len(tokens) != len(prompts):
        raise RuntimeError(f"the judge counted {len(tokens)} prompts of {len(prompts)}")
    too_long = tuple(i for i, n in enumerate(tokens) if n > limit)
    return ContextReport(limit=int(limit), too_long=too_long, tokens=tokens)


def check_context(
    judge: Judge,
    prompts: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    hint: str = RUN_HINT,
) -> None:
    """Raise :class:`PromptTooLongError` when any prompt exceeds the judge's context.

    ``labels`` names each prompt in the message (its image and question id); ``hint`` says
    how to shorten the prompts.
    """
    report = measure_context(judge, prompts)
    if report is None or not report.too_long:
        return
    longest = report.longest
    where = f" ({labels[longest]})" if labels is not None else f" (prompt {longest + 1})"
    model = judge.identity.get("model", "the judge")
    raise PromptTooLongError(
        f"{len(report.too_long)} of {len(prompts)} prompts exceed the context of {model} "
        f"({report.limit} tokens); the longest is {report.tokens[longest]} tokens{where}. "
        f"Nothing was asked. To fix it, {hint}.",
        report,
    )
