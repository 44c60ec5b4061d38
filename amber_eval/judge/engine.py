"""A judge on an inference engine: in-process vLLM or an OpenAI-compatible server.

:class:`EngineJudge` holds what both have in common: the answer rule
(:mod:`amber_eval.judge.logprob_rule`), the request plan of each mode and the identity. The
engine itself is a :class:`Completer`: prompts in, greedy completions with the top
alternatives' log-probabilities out.

``score`` mode asks for one greedy token with the top ``top_logprobs`` alternatives. When that
token is whitespace (Llama-2-chat often starts with a bare ``▁``), the prompt is asked again
with ``max_new_tokens`` tokens and the first non-whitespace token decides, as greedy decoding
would. ``generate`` mode asks for ``max_new_tokens`` greedy tokens and reads the text by the
strict grammar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from amber_eval.errors import AmberEvalError, ResourceError
from amber_eval.judge.base import Answer, Progress, check_decoding, check_groups
from amber_eval.judge.logprob_rule import TokenStep, generate_answer, needs_more, score_answer


@dataclass(frozen=True)
class Completion:
    """One greedy completion: its text and, per generated token, a :class:`TokenStep`.

    ``logprobs`` is False when the engine returned no log-probabilities.
    """

    text: str
    steps: tuple[TokenStep, ...]
    logprobs: bool = True
    finish_reason: str | None = None


class Completer(Protocol):
    """An engine: completes prompts greedily (in order), ``max_tokens`` tokens each."""

    def complete(
        self,
        prompts: Sequence[str],
        *,
        max_tokens: int,
        done: Callable[[int], None] | None = None,
    ) -> list[Completion]:
        """``done(i)`` is called as prompt ``i``'s completion arrives."""
        ...


class PartialCompletions(AmberEvalError):
    """An engine failed after some completions had arrived: ``completed`` maps prompt indices to
    them, so none of the work done is lost."""

    def __init__(self, message: str, completed: Mapping[int, Completion]) -> None:
        super().__init__(message)
        self.completed = dict(completed)


class PartialAnswers(AmberEvalError):
    """A judge failed after answering some prompts: ``answers`` maps prompt indices to answers
    and ``cause`` is the error. Callers store the answers, then raise ``cause``."""

    def __init__(self, cause: BaseException, answers: Mapping[int, Answer]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.answers = dict(answers)


def _partial(exc: PartialCompletions, answers: Mapping[int, Answer]) -> BaseException:
    """The error to raise: the cause itself when nothing was answered."""
    cause = exc.__cause__ or exc
    return PartialAnswers(cause, answers) if answers else cause


MAX_TOKEN_CHARS = 64
"""The longest text one generated token stands for, when an engine's answer is clipped."""

NO_LOGPROBS = (
    "the engine returned no log-probabilities: score mode needs the top alternatives of the "
    "first token (`logprobs`/`top_logprobs` in the OpenAI API). Use --mode generate, or a "
    "server that returns them (vLLM, SGLang, llama.cpp, TGI and OpenAI do)."
)


@dataclass
class EngineStats:
    """Requests made and what came back (for the run summary)."""

    prompts: int = 0
    requests: int = 0
    whitespace_continuations: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "prompts": self.prompts,
            "requests": self.requests,
            "whitespace_continuations": self.whitespace_continuations,
            **self.extra,
        }


class EngineJudge:
    """A :class:`amber_eval.judge.Judge` over a :class:`Completer`.

    ``render`` gives the text the store keys on (the rendered chat template, or the canonical
    messages for a server-side template); ``identity`` everything that can change an answer.
    ``prompt_tokens`` counts a prompt's tokens as the model sees them when a tokenizer is at
    hand; ``context_limit`` is the engine's context length (checked only when counted).
    """

    def __init__(
        self,
        completer: Completer,
        *,
        identity: Mapping[str, Any],
        render: Callable[[str], str],
        mode: str = "score",
        max_new_tokens: int = 5,
        top_logprobs: int = 20,
        prompt_tokens: Callable[[str], int] | None = None,
        context_limit: int | None = None,
        client_stats: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        check_decoding(mode, max_new_tokens)
        if top_logprobs < 1:
            raise ValueError("top_logprobs must be at least 1")
        self.completer = completer
        self._identity = dict(identity)
        self._render = render
        self.mode = mode
        self.max_new_tokens = max_new_tokens
        self.top_logprobs = top_logprobs
        self._prompt_tokens = prompt_tokens
        self._context_limit = context_limit
        self._client_stats = client_stats
        self.stats = EngineStats()

    @property
    def identity(self) -> dict[str, Any]:
        identity = {
            **self._identity,
            "mode": self.mode,
            "decoding": "greedy",
            "top_logprobs": self.top_logprobs,
        }
        if self.mode == "generate" or self.max_new_tokens != 5:
            identity["max_new_tokens"] = self.max_new_tokens
        return identity

    def render(self, prompt: str) -> str:
        return self._render(prompt)

    def prompt_tokens(self, prompt: str) -> int | None:
        """Tokens of ``prompt`` as the model sees it (None: no tokenizer here)."""
        if self._prompt_tokens is None:
            return None
        return self._prompt_tokens(prompt)

    @property
    def context_limit(self) -> int | None:
        """The engine's context length, when prompts can be counted here (else None: the
        engine refuses a long prompt itself, and the client reports it)."""
        return self._context_limit if self._prompt_tokens is not None else None

    def count_tokens(self, prompts: Sequence[str]) -> list[int]:
        """Positions each prompt takes when answered: its tokens plus the answer's (a
        4-characters-a-token estimate when no tokenizer is at hand)."""
        answer = self.max_new_tokens if self.mode == "generate" else 1
        counts = []
        for prompt in prompts:
            tokens = self.prompt_tokens(prompt)
            counts.append((len(self.render(prompt)) // 4 if tokens is None else tokens) + answer)
        return counts

    def run_stats(self) -> dict[str, Any]:
        """Requests, retries and errors so far (for run.json and the summary)."""
        stats = self.stats.to_json()
        if self._client_stats is not None:
            stats.update(self._client_stats())
        return stats

    def answer(
        self,
        prompts: Sequence[str],
        *,
        groups: Sequence[Hashable] | None = None,
        progress: Progress | None = None,
    ) -> list[Answer]:
        check_groups(prompts, groups)
        if not prompts:
            return []
        self.stats.prompts += len(prompts)
        if self.mode == "generate":
            return self._generate(prompts, progress)
        return self._score(prompts, progress)

    def _complete(
        self, prompts: Sequence[str], max_tokens: int, done: Callable[[int], None] | None
    ) -> list[Completion]:
        self.stats.requests += len(prompts)
        return self.completer.complete(prompts, max_tokens=max_tokens, done=done)

    def _score(self, prompts: Sequence[str], progress: Progress | None) -> list[Answer]:
        answers: dict[int, Answer] = {}

        def settle(index: int, completion: Completion) -> bool:
            """Decide prompt ``index`` from ``completion``; False when whitespace came first."""
            if not completion.logprobs:
                raise ResourceError(NO_LOGPROBS)
            if needs_more(completion.steps) and completion.finish_reason != "stop":
                return False
            answers[index] = score_answer(completion.steps)
            return True

        def tick(_index: int) -> None:
            if progress is not None:
                progress(1)

        first: list[Completion] = []
        try:
            first = self._complete(prompts, 1, tick)
        except PartialCompletions as exc:
            for index, completion in exc.completed.items():
                settle(index, completion)
            raise _partial(exc, answers) from None
        again = [i for i, completion in enumerate(first) if not settle(i, completion)]
        if again:
            self.stats.whitespace_continuations += len(again)
            try:
                longer = self._complete([prompts[i] for i in again], self.max_new_tokens, None)
            except PartialCompletions as exc:
                for position, completion in exc.completed.items():
                    answers[again[position]] = score_answer(completion.steps)
                raise _partial(exc, answers) from None
            for index, completion in zip(again, longer, strict=True):
                answers[index] = score_answer(completion.steps)
        return [answers[i] for i in range(len(prompts))]

    def _generate(self, prompts: Sequence[str], progress: Progress | None) -> list[Answer]:
        def tick(_index: int) -> None:
            if progress is not None:
                progress(1)

        try:
            completions = self._complete(prompts, self.max_new_tokens, tick)
        except PartialCompletions as exc:
            answers = {i: self._generated(c) for i, c in exc.completed.items()}
            raise _partial(exc, answers) from None
        return [self._generated(c) for c in completions]

    def _generated(self, completion: Completion) -> Answer:
        """The generate-mode answer, kept to what ``max_new_tokens`` allows: an engine that
        returns more (tokens, or text beyond :data:`MAX_TOKEN_CHARS` a token) has its answer
        cut there and flagged."""
        steps, text = completion.steps, completion.text
        limit = self.max_new_tokens
        clipped = len(steps) > limit or len(text) > limit * MAX_TOKEN_CHARS
        if len(steps) > limit:
            steps = steps[:limit]
            text = "".join(step.text for step in steps)
        text = text[: limit * MAX_TOKEN_CHARS]
        answer = generate_answer(text, steps)
        return dataclasses.replace(answer, flagged=True) if clipped else answer


def judge_requests(judge: object) -> dict[str, Any] | None:
    """An engine judge's requests, retries and errors so far (None for other judges)."""
    stats = getattr(judge, "run_stats", None)
    return stats() if callable(stats) else None


def token_announcement(judge: object, prompts: Sequence[str]) -> str | None:
    """The line printed before an engine judge is sent ``prompts``: how many prompt tokens
    (counted with the model's tokenizer, else estimated at 4 characters a token), so the cost
    of a hosted API is known before the run starts. None for other judges."""
    if not isinstance(judge, EngineJudge):
        return None
    counts = [judge.prompt_tokens(p) for p in prompts]
    backend = judge.identity.get("backend")
    if all(c is not None for c in counts):
        total = sum(c for c in counts if c is not None)
        how = "counted with the model's tokenizer"
    else:
        total = sum(len(judge.render(p)) for p in prompts) // 4
        how = "estimated at 4 characters a token; pass --tokenizer for an exact count"
    each = "1 token" if judge.mode == "score" else f"up to {judge.max_new_tokens} tokens"
    return (
        f"{backend} backend: sending {len(prompts)} prompts, {total:,} prompt tokens ({how}); "
        f"answers take {each} each"
    )


def describe_requests(stats: Mapping[str, Any]) -> str:
    """One summary line of :func:`judge_requests`."""
    line = f"engine requests: {stats.get('requests', 0)} for {stats.get('prompts', 0)} prompts"
    if "http_requests" in stats:
        reasons = stats.get("retries_by_reason") or {}
        detail = ", ".join(f"{k}: {v}" for k, v in reasons.items())
        line += (
            f"; HTTP requests {stats['http_requests']}, retries {stats.get('retries', 0)}"
            f"{' (' + detail + ')' if detail else ''}, waited "
            f"{stats.get('retry_wait_seconds', 0):.1f} s before retries, errors "
            f"{stats.get('errors', 0)}"
        )
    return line
