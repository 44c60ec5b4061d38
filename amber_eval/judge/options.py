"""The settings that load and configure a judge, in one frozen record."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
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
    load_in_4bit: bool = field(default=False, metadata={"backend": "hf"})
    load_in_8bit: bool = field(default=False, metadata={"backend": "hf"})
    attn_implementation: str | None = field(default=None, metadata={"backend": "hf"})
    raw_prompt: bool = False
    """Send prompts without the chat template."""
    system_prompt: str | None = None
    max_new_tokens: int = 5
    batch_tokens: int | None = field(default=None, metadata={"backend": "hf"})
    strategy: str | None = field(default=None, metadata={"backend": "hf"})
    """``packed`` rows with a 4D mask or an expanded prefix ``cache``."""
    trust_remote_code: bool = False
    revision: str | None = None
    random_weights: bool = False
    """Build the model from its configuration only (benchmarks; answers are noise)."""
    backend: str = "hf"
    """``hf``: the model in this process; ``vllm``: in-process vLLM; ``openai``: an
    OpenAI-compatible server (see docs/judge.md, "Serving engines")."""
    top_logprobs: int = 20
    """vllm/openai: alternatives returned per token; P(yes) is read from them."""
    tensor_parallel_size: int = field(default=1, metadata={"backend": "vllm"})
    """vllm: GPUs one model is split over (tensor parallelism)."""
    gpu_memory_utilization: float | None = field(default=None, metadata={"backend": "vllm"})
    """vllm: the fraction of GPU memory vLLM may take (vLLM's default 0.9)."""
    max_model_len: int | None = field(default=None, metadata={"backend": "vllm"})
    """vllm: the context length to reserve (default: the model's)."""
    enforce_eager: bool = field(default=False, metadata={"backend": "vllm"})
    """vllm: no CUDA graphs / compilation (starts faster, runs slower)."""
    base_url: str | None = field(default=None, metadata={"backend": "openai"})
    """openai: the API root, ``http://HOST:PORT/v1`` (default ``$OPENAI_BASE_URL``)."""
    served_model: str | None = field(default=None, metadata={"backend": "openai"})
    """openai: the model name to ask for (default: the only model the server lists)."""
    api: str = field(default="chat", metadata={"backend": "openai"})
    """openai: ``chat`` (the server applies its chat template) or ``completions`` (the prompt
    is rendered here with the model's template, exactly as the hf backend renders it)."""
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={"backend": "openai"})
    """openai: the environment variable holding the API key (never written anywhere)."""
    concurrency: int = field(default=8, metadata={"backend": "openai"})
    """openai: requests in flight at once."""
    timeout: float = field(default=60.0, metadata={"backend": "openai"})
    """openai: seconds to wait for one response."""
    max_retries: int = field(default=5, metadata={"backend": "openai"})
    """openai: retries of a request after 429, 5xx, a timeout or a dropped connection."""
    tokenizer: str | None = field(default=None, metadata={"backend": "openai"})
    """openai: where the served model's tokenizer is (hub id or folder; default what --llm
    names) for the completions API and token counts."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def backend_of(cls, name: str) -> str | None:
        """The one backend a field belongs to (None: a field every backend reads)."""
        for f in fields(cls):
            if f.name == name:
                owner = f.metadata.get("backend")
                return None if owner is None else str(owner)
        raise KeyError(name)

    def changed(self) -> dict[str, Any]:
        """The fields whose value differs from the default."""
        default = JudgeOptions()
        return {
            name: getattr(self, name)
            for name in self.names()
            if getattr(self, name) != getattr(default, name)
        }
