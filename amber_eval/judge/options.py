"""The settings that load and configure a judge, in one frozen record."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class JudgeOptions:
    """How :func:`amber_eval.judge.load_judge` loads and runs a judge (see docs/judge.md).

    None means "the default for the device": float32 on CPU and bfloat16 on a GPU for
    ``dtype``, CUDA when available for ``device``, sdpa attention, a token budget and a
    prefix-sharing strategy chosen for the device and quantization.
    """

    mode: str = "score"
    """``score``: one forward pass, the first token decides; ``generate``: greedy generation."""
    dtype: str | None = None
    device: str | None = None
    load_in_4bit: bool = False
    load_in_8bit: bool = False
    attn_implementation: str | None = None
    raw_prompt: bool = False
    """Send prompts without the chat template."""
    system_prompt: str | None = None
    max_new_tokens: int = 5
    batch_tokens: int | None = None
    strategy: str | None = None
    """``packed`` rows with a 4D mask or an expanded prefix ``cache``."""
    trust_remote_code: bool = False
    revision: str | None = None
    random_weights: bool = False
    """Build the model from its configuration only (benchmarks; answers are noise)."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in fields(cls))

    def changed(self) -> dict[str, Any]:
        """The fields whose value differs from the default."""
        default = JudgeOptions()
        return {
            name: getattr(self, name)
            for name in self.names()
            if getattr(self, name) != getattr(default, name)
        }
