"""Deterministic judges for tests and dry runs: no model, no torch.

``MockJudge(rule=...)`` answers every prompt by a rule (a constant ``"yes"``/``"no"``, or a
callable ``prompt -> "yes"|"no"|raw text``); ``MockJudge(queue=[...])`` hands out queued raw
answers in order. The presets ``mock-yes`` and ``mock-no`` (:mod:`amber_eval.judge.presets`)
load through :func:`load_mock_judge`, the ``mock`` backend. They ship with the package, not
only with the tests, so a user can dry-run a whole pipeline (``amber-eval run --llm mock-no``)
without a model or a GPU.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from amber_eval.judge.base import Answer, Progress, check_groups, parse_answer

if TYPE_CHECKING:
    from amber_eval.judge.presets import Preset
    from amber_eval.judge_options import JudgeOptions

Rule = Callable[[str], str]


class MockJudge:
    """A judge that answers without a model.

    Exactly one of ``rule`` and ``queue`` may be given (neither: always "No"). Raw answers are
    parsed by the strict grammar; ``p_yes`` is 1.0/0.0 for Yes/No answers, ``None`` otherwise.
    ``context_limit`` (default: none) makes it refuse long prompts like a real model; its
    tokens are the rendered prompt's words.
    """

    def __init__(
        self,
        rule: str | Rule | None = None,
        *,
        queue: Iterable[str] | None = None,
        name: str = "mock",
        chat_template: bool = True,
        system_prompt: str | None = None,
        context_limit: int | None = None,
    ) -> None:
        if rule is not None and queue is not None:
            raise ValueError("give a rule or a queue, not both")
        self.name = name
        self._queue: deque[str] | None = deque(queue) if queue is not None else None
        if isinstance(rule, str):
            constant = rule

            def fixed(_prompt: str) -> str:
                return constant

            self._rule: Rule = fixed
            self._rule_name = f"constant:{rule}"
        elif rule is None:
            self._rule = lambda _prompt: "No"
            self._rule_name = "constant:No" if queue is None else "queue"
        else:
            self._rule = rule
            self._rule_name = getattr(rule, "__name__", "callable")
        self.chat_template = chat_template
        self.system_prompt = system_prompt
        self._context_limit = context_limit
        self.calls: list[list[str]] = []

    @property
    def identity(self) -> dict[str, Any]:
        return {
            "backend": "mock",
            "model": self.name,
            "rule": self._rule_name,
            "mode": "mock",
            "chat_template": self.chat_template,
            "system_prompt": self.system_prompt,
        }

    @property
    def context_limit(self) -> int | None:
        return self._context_limit

    def count_tokens(self, prompts: Sequence[str]) -> list[int]:
        """Whitespace-separated words of the rendered prompt, plus one for the answer."""
        return [len(self.render(p).split()) + 1 for p in prompts]

    def render(self, prompt: str) -> str:
        if not self.chat_template:
            return prompt
        system = f"<<SYS>>{self.system_prompt}<</SYS>> " if self.system_prompt else ""
        return f"[INST] {system}{prompt} [/INST]"

    def answer(
        self,
        prompts: Sequence[str],
        *,
        groups: Sequence[Hashable] | None = None,
        progress: Progress | None = None,
    ) -> list[Answer]:
        check_groups(prompts, groups)
        self.calls.append(list(prompts))
        answers = []
        for prompt in prompts:
            if self._queue is not None:
                if not self._queue:
                    raise RuntimeError("MockJudge queue is empty")
                raw = self._queue.popleft()
            else:
                raw = self._rule(prompt)
            answers.append(_answer_from_text(raw))
            if progress is not None:
                progress(1)
        return answers


def load_mock_judge(
    source: str, *, preset: Preset | None, options: JudgeOptions | None = None
) -> MockJudge:
    """The ``mock`` backend: ``mock-yes`` answers Yes, anything else No."""
    from amber_eval.judge_options import JudgeOptions

    opts = options if options is not None else JudgeOptions()
    name = preset.name if preset is not None else source
    return MockJudge(
        "Yes" if name == "mock-yes" else "No",
        name=name,
        chat_template=not opts.raw_prompt,
        system_prompt=opts.system_prompt,
    )


def _answer_from_text(raw: str) -> Answer:
    parsed = parse_answer(raw)
    p_yes = {"yes": 1.0, "no": 0.0}.get(parsed)
    first = raw.strip().split()[0] if raw.strip() else ""
    return Answer(
        text=raw,
        parsed=parsed,
        p_yes=p_yes,
        margin=None if p_yes is None else (1.0 if parsed == "yes" else -1.0),
        token=first or None,
        flagged=parsed == "unknown",
    )
