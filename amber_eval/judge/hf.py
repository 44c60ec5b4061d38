"""The Hugging Face judge: any causal LM with its tokenizer, in ``score`` or ``generate`` mode.

``generate``: one greedy ``generate()`` per prompt (``do_sample=False``, ``max_new_tokens``),
the answer read by the strict grammar. This is the reference protocol.

``score``: one forward pass per prompt with a probe whitespace token appended, batched with
shared per-image prefixes (:mod:`amber_eval.judge.batching`). The decided token is the one
greedy decoding would emit first after any leading whitespace (see docs/judge.md).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from amber_eval.judge.base import Answer, Progress, check_decoding, check_groups, parse_answer
from amber_eval.judge.batching import ForwardStats, LogitEngine, plan_rows
from amber_eval.judge.chat import encode_rendered, render_chat, require_template, template_sha256
from amber_eval.judge.tokens import YesNoVocab, readout, yes_no_vocab
from amber_eval.judge_options import JudgeOptions
from amber_eval.terms import AnswerLabel

ENCODED_KEPT = 8192
UNBOUNDED = 10**8
"""Tokenizers without a limit report a huge ``model_max_length``; such values mean no limit."""


@dataclass(frozen=True)
class Decision:
    """Where greedy decoding's first non-whitespace token was found, and which it is."""

    token_id: int | None
    p_yes: float | None
    margin: float | None
    near_tie: bool


class HFJudge:
    """A judge around a loaded ``model`` and ``tokenizer``.

    ``source`` describes where the model came from (it goes into :attr:`identity`).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        source: dict[str, Any],
        mode: str = "score",
        raw_prompt: bool = False,
        system_prompt: str | None = None,
        max_new_tokens: int = JudgeOptions.max_new_tokens,
        batch_tokens: int = 4096,
        strategy: str = "cache",
        quantization: str | None = None,
    ) -> None:
        check_decoding(mode, max_new_tokens)
        self.model = model
        self.tokenizer = tokenizer
        self.source = dict(source)
        self.mode = mode
        self.raw_prompt = raw_prompt
        self.system_prompt = system_prompt
        self.max_new_tokens = max_new_tokens
        self.batch_tokens = batch_tokens
        self.strategy = strategy
        self.quantization = quantization
        self.vocab: YesNoVocab = yes_no_vocab(tokenizer)
        self.stats = ForwardStats()
        self._encoded: dict[str, list[int]] = {}
        require_template(tokenizer, source.get("model"), raw_prompt=raw_prompt)

    def with_mode(self, mode: str, *, strategy: str | None = None) -> HFJudge:
        """A judge on the same model and tokenizer with another mode (or strategy)."""
        return HFJudge(
            self.model,
            self.tokenizer,
            source=self.source,
            mode=mode,
            raw_prompt=self.raw_prompt,
            system_prompt=self.system_prompt,
            max_new_tokens=self.max_new_tokens,
            batch_tokens=self.batch_tokens,
            strategy=strategy or self.strategy,
            quantization=self.quantization,
        )

    # -- identity and rendering ---------------------------------------------------------------

    @property
    def identity(self) -> dict[str, Any]:
        dtype = str(next(self.model.parameters()).dtype).removeprefix("torch.")
        identity: dict[str, Any] = {
            "backend": "hf",
            **self.source,
            "mode": self.mode,
            "dtype": dtype,
            "quantization": self.quantization,
            "decoding": "greedy",
            "chat_template": not self.raw_prompt,
            "chat_template_sha256": template_sha256(self.tokenizer, raw_prompt=self.raw_prompt),
            "system_prompt": self.system_prompt,
        }
        if self.mode == "generate":
            identity["max_new_tokens"] = self.max_new_tokens
        return identity

    def render(self, prompt: str) -> str:
        return render_chat(
            self.tokenizer, prompt, system_prompt=self.system_prompt, raw_prompt=self.raw_prompt
        )

    def encode(self, prompt: str) -> list[int]:
        """The token ids of the rendered prompt (special tokens come from the template).

        The last few thousand encodings are kept, so counting tokens before answering costs
        one tokenization per prompt.
        """
        ids = self._encoded.get(prompt)
        if ids is None:
            ids = encode_rendered(self.tokenizer, self.render(prompt), raw_prompt=self.raw_prompt)
            if len(self._encoded) >= ENCODED_KEPT:
                self._encoded.pop(next(iter(self._encoded)))
            self._encoded[prompt] = ids
        return ids

    @property
    def context_limit(self) -> int | None:
        """The model's position limit (``max_position_embeddings``), else the tokenizer's."""
        for value in (
            getattr(self.model.config, "max_position_embeddings", None),
            getattr(self.tokenizer, "model_max_length", None),
        ):
            if isinstance(value, int) and 0 < value < UNBOUNDED:
                return value
        return None

    def count_tokens(self, prompts: Sequence[str]) -> list[int]:
        answer_tokens = self.max_new_tokens if self.mode == "generate" else 1
        return [len(self.encode(p)) + answer_tokens for p in prompts]

    # -- answering ----------------------------------------------------------------------------

    def answer(
        self,
        prompts: Sequence[str],
        *,
        groups: Sequence[Hashable] | None = None,
        progress: Progress | None = None,
    ) -> list[Answer]:
        check_groups(prompts, groups)
        if self.mode == "generate":
            return [self._generate_one(p, progress) for p in prompts]
        return self._score(prompts, groups, progress)

    def _score(
        self,
        prompts: Sequence[str],
        groups: Sequence[Hashable] | None,
        progress: Progress | None,
    ) -> list[Answer]:
        token_ids = [self.encode(p) for p in prompts]
        answers: list[Answer | None] = [None] * len(prompts)
        for indices, logits in self.prompt_logits(token_ids, groups):
            for index, decision in zip(
                indices, self.decide(logits, token_ids, indices), strict=True
            ):
                answers[index] = self._answer_from_decision(decision)
            if progress is not None:
                progress(len(indices))
        missing = [i for i, a in enumerate(answers) if a is None]
        if missing:
            raise RuntimeError(f"no logits came back for prompts {missing[:5]}")
        return [a for a in answers if a is not None]

    def prompt_logits(
        self, token_ids: Sequence[Sequence[int]], groups: Sequence[Hashable] | None = None
    ) -> Any:
        """Yield ``(indices, logits)`` batches: float32 ``(n, 2, vocab)`` at each prompt's last
        token and at the probe token after it."""
        engine = LogitEngine(self.model, strategy=self.strategy, batch_tokens=self.batch_tokens)
        engine.stats = self.stats
        rows = plan_rows(token_ids, self.vocab.probe_id, groups)
        yield from engine.run(rows)

    def decide(
        self, logits: Any, token_ids: Sequence[Sequence[int]], indices: Sequence[int]
    ) -> list[Decision]:
        """The greedy-equivalent decision for each row of ``logits`` (``(n, 2, vocab)``)."""
        first = logits[:, 0].argmax(dim=-1).tolist()
        second = logits[:, 1].argmax(dim=-1).tolist()
        decisions = []
        for row, index in enumerate(indices):
            kind = self.vocab.kind(first[row])
            if kind != "space":
                decisions.append(self._decision(first[row], logits[row, 0]))
            elif first[row] == self.vocab.probe_id and self.vocab.kind(second[row]) != "space":
                decisions.append(self._decision(second[row], logits[row, 1]))
            else:
                decisions.append(self._continue_greedy(list(token_ids[index]), first[row]))
        return decisions

    def _decision(self, token_id: int, logits: Any) -> Decision:
        result = readout(logits, self.vocab)
        return Decision(token_id, result.p_yes, result.margin, result.near_tie)

    def _continue_greedy(self, ids: list[int], token_id: int) -> Decision:
        """Rare path: greedy decoding went on with whitespace the probe did not cover."""
        import torch

        device = next(self.model.parameters()).device
        sequence = [*ids, token_id]
        for _ in range(self.max_new_tokens - 1):
            with torch.inference_mode():
                logits = self.model(input_ids=torch.tensor([sequence], device=device)).logits
            last = logits[0, -1].float()
            self.stats.extra["fallback_tokens"] = self.stats.extra.get("fallback_tokens", 0) + len(
                sequence
            )
            chosen = int(last.argmax())
            if self.vocab.kind(chosen) != "space":
                return self._decision(chosen, last)
            sequence.append(chosen)
        return Decision(None, None, None, False)

    def _answer_from_decision(self, decision: Decision) -> Answer:
        if decision.token_id is None:
            return Answer(text="", parsed="unknown", flagged=True)
        kind = self.vocab.kind(decision.token_id)
        text = self.tokenizer.decode([decision.token_id]).strip()
        parsed: AnswerLabel = kind if kind in ("yes", "no") else parse_answer(text)  # type: ignore[assignment]
        return Answer(
            text=text,
            parsed=parsed,
            p_yes=decision.p_yes,
            margin=decision.margin,
            token=self.tokenizer.convert_ids_to_tokens(decision.token_id),
            flagged=kind not in ("yes", "no") or decision.near_tie,
        )

    def generate_ids(self, ids: Sequence[int]) -> tuple[list[int], list[Any]]:
        """Greedy ``generate()`` from ``ids``: the new token ids and each step's logits."""
        import torch

        device = next(self.model.parameters()).device
        input_ids = torch.tensor([list(ids)], device=device)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                do_sample=False,
                num_beams=1,
                temperature=None,
                top_p=None,
                top_k=None,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=pad,
                output_logits=True,
                return_dict_in_generate=True,
            )
        new = out.sequences[0, input_ids.shape[1] :].tolist()
        return [int(t) for t in new], [step[0] for step in out.logits]

    def _generate_one(self, prompt: str, progress: Progress | None) -> Answer:
        ids = self.encode(prompt)
        new, step_logits = self.generate_ids(ids)
        self.stats.prompts += 1
        self.stats.prompt_tokens += len(ids)
        self.stats.suffix_tokens += len(ids) + max(len(new) - 1, 0)
        self.stats.forwards += len(new)
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        parsed = parse_answer(text)
        token: str | None = None
        p_yes = margin = None
        near_tie = False
        kind = "other"
        for token_id, logits in zip(new, step_logits, strict=False):
            kind = self.vocab.kind(token_id)
            if kind != "space":
                token = self.tokenizer.convert_ids_to_tokens(token_id)
                result = readout(logits, self.vocab)
                p_yes, margin, near_tie = result.p_yes, result.margin, result.near_tie
                break
        if progress is not None:
            progress(1)
        return Answer(
            text=text,
            parsed=parsed,
            p_yes=p_yes,
            margin=margin,
            token=token,
            flagged=kind not in ("yes", "no") or near_tie or parsed == "unknown",
        )
