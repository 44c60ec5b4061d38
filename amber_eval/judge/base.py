"""The judge interface: prompts in, Yes/No answers out.

Every backend (Hugging Face models, GGUF files, the test doubles in :mod:`amber_eval.judge.mock`)
implements :class:`Judge`. Answers are :class:`Answer` records.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from amber_eval.terms import ANSWER_LABELS, ANSWER_MODES, AnswerLabel, parse_answer

__all__ = ["Answer", "Judge", "Progress", "check_groups", "parse_answer"]


@dataclass(frozen=True)
class Answer:
    """One judge answer.

    ``text`` is the raw answer (generated text in ``generate`` mode; the decided token's text
    in ``score`` mode), ``parsed`` its reading, ``p_yes`` the probability of Yes among the
    Yes/No variants at the decided position, ``margin`` the best Yes logit minus the best No
    logit there, ``token`` the decided token, and ``flagged`` is true when the model did not
    start with Yes/No or the Yes/No margin is a near-tie.
    """

    text: str
    parsed: AnswerLabel
    p_yes: float | None = None
    margin: float | None = None
    token: str | None = None
    flagged: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        parsed = data.get("parsed", "unknown")
        if parsed not in ANSWER_LABELS:
            raise ValueError(f"parsed must be yes, no or unknown, not {parsed!r}")
        p_yes = data.get("p_yes")
        margin = data.get("margin")
        token = data.get("token")
        return cls(
            text=str(data.get("text", "")),
            parsed=parsed,
            p_yes=None if p_yes is None else float(p_yes),
            margin=None if margin is None else float(margin),
            token=None if token is None else str(token),
            flagged=bool(data.get("flagged", False)),
        )


Progress = Callable[[int], None]


def check_decoding(mode: str, max_new_tokens: int) -> None:
    """A known answer mode and at least one new token."""
    if mode not in ANSWER_MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(ANSWER_MODES)}")
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be at least 1")


def check_groups(prompts: Sequence[str], groups: Sequence[Hashable] | None) -> None:
    """``groups``, when given, must name one group per prompt."""
    if groups is not None and len(groups) != len(prompts):
        raise ValueError(f"got {len(groups)} groups for {len(prompts)} prompts")


@runtime_checkable
class Judge(Protocol):
    """A Yes/No judge.

    ``identity`` is a JSON-able dict of everything that can change an answer (model and its
    revision or file hash, mode, dtype, quantization, decoding settings, chat template on/off,
    system prompt); stores key answers on it.
    """

    @property
    def identity(self) -> dict[str, Any]: ...

    @property
    def context_limit(self) -> int | None:
        """The most positions one answered prompt may occupy (the model's context window).

        ``None`` when the backend knows no limit. Prompts are checked against it before any
        model call (:func:`amber_eval.judge.context.check_context`).
        """
        ...

    def count_tokens(self, prompts: Sequence[str]) -> list[int]:
        """Positions each prompt occupies when answered, comparable with :attr:`context_limit`.

        The tokens of the rendered prompt (chat template included) plus those the answer
        needs (the probe token in ``score`` mode, ``max_new_tokens`` in ``generate`` mode).
        Computed without running the model.
        """
        ...

    def render(self, prompt: str) -> str:
        """The exact text the model sees for ``prompt`` (after the chat template)."""
        ...

    def answer(
        self,
        prompts: Sequence[str],
        *,
        groups: Sequence[Hashable] | None = None,
        progress: Progress | None = None,
    ) -> list[Answer]:
        """Answer ``prompts`` in order.

        ``groups`` gives each prompt's group (its image): prompts of one group may share a
        cached prefix. ``progress(n)`` is called with the number of answers just completed.
        """
        ...
