"""The settings that load and configure a judge, in one frozen record.

Each field carries its command-line description in its metadata (see :func:`setting`):
``amber_eval.cli.judge.judge_options`` derives the judge commands' options from these fields,
so a new setting is added here once and appears on every judge command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from amber_eval.terms import ANSWER_MODES


def setting(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] | Callable[[], Sequence[str]] | None = None,
    minimum: int | float | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    opt_in: bool = False,
    backend: str | None = None,
) -> Any:
    """A :class:`JudgeOptions` field and how the command line offers it.

    ``help`` is the option's help text (and the field's documentation); ``choices`` restrict a
    string (a callable is asked for them when the options are built, e.g. a registry's
    ``names``, so this module need not import the registry); ``minimum`` bounds a number; ``flag`` overrides the option name (default
    ``--field-name``); ``opt_in`` options appear only on commands that ask for them by name;
    ``backend`` names the one backend the setting belongs to (giving it with another backend
    is an error).
    """
    metadata = {
        "help": help,
        "choices": choices,
        "minimum": minimum,
        "flag": flag,
        "metavar": metavar,
        "opt_in": opt_in,
        "backend": backend,
    }
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class JudgeOptions:
    """How :func:`amber_eval.judge.load_judge` loads and runs a judge (see docs/judge.md).

    None means "the default for the device": float32 on CPU and bfloat16 on a GPU for
    ``dtype``, CUDA when available for ``device``, sdpa attention, a token budget and a
    prefix-sharing strategy chosen for the device and quantization.
    """

    answer_mode: str = setting(
        "score",
        "The judge's answer mode. score: one forward pass, greedy-exact first token, P(yes); "
        "generate: greedy generate() per question.",
        choices=ANSWER_MODES,
        flag="--mode",
    )
    dtype: str | None = setting(None, "float32, bfloat16 or float16 (default: fp32 CPU, bf16 GPU).")
    device: str | None = setting(None, "cpu, cuda or cuda:N (default: cuda when available).")
    load_in_4bit: bool = setting(False, "NF4 weights (bitsandbytes, CUDA only).", backend="hf")
    load_in_8bit: bool = setting(False, "LLM.int8 weights (CUDA only; slow).", backend="hf")
    attn_implementation: str | None = setting(
        None,
        "sdpa (default), eager or flash_attention_2 (flash uses the cache strategy).",
        backend="hf",
    )
    raw_prompt: bool = setting(False, "Send prompts without the chat template.")
    system_prompt: str | None = setting(None, "A system message for the chat template.")
    max_new_tokens: int = setting(
        5,
        "Tokens generated per answer (generate mode; score mode's whitespace limit).",
        minimum=1,
    )
    batch_tokens: int | None = setting(
        None,
        "Token budget of one batch (default: 4096 on CPU, 32768 on GPU, 16384 on GPU "
        "with quantized weights).",
        minimum=1,
        backend="hf",
    )
    strategy: str | None = setting(
        None,
        "Prefix sharing: an expanded prefix cache (default), or packed rows with a 4D "
        "mask (default with --load-in-4bit/8bit: less memory).",
        choices=("packed", "cache"),
        backend="hf",
    )
    revision: str | None = setting(
        None, "Hub revision (branch, tag or commit) of the model to load."
    )
    trust_remote_code: bool = setting(
        False,
        "Run the model repository's own Python code (off by default: only for "
        "repositories you trust).",
    )
    backend: str = setting(
        "hf",
        "hf: the model in this process; vllm: in-process vLLM; openai: an OpenAI-compatible "
        "server (--base-url). See docs/judge.md, Serving engines.",
        choices=("hf", "vllm", "openai"),
    )
    top_logprobs: int = setting(
        20, "vllm/openai: alternatives returned per token (P(yes) is read from them).", minimum=1
    )
    tensor_parallel_size: int = setting(
        1, "vllm: GPUs one model is split over.", minimum=1, backend="vllm"
    )
    gpu_memory_utilization: float | None = setting(
        None, "vllm: fraction of GPU memory for vLLM (its default 0.9).", minimum=0, backend="vllm"
    )
    max_model_len: int | None = setting(
        None, "vllm: context length to reserve (default: the model's).", minimum=1, backend="vllm"
    )
    enforce_eager: bool = setting(
        False, "vllm: no CUDA graphs (starts faster, runs slower).", backend="vllm"
    )
    base_url: str | None = setting(
        None,
        "openai: the API root, http://HOST:PORT/v1 (default: $OPENAI_BASE_URL).",
        metavar="URL",
        backend="openai",
    )
    served_model: str | None = setting(
        None,
        "openai: the model name to ask for (default: the only one the server lists).",
        metavar="NAME",
        backend="openai",
    )
    api: str = setting(
        "chat",
        "openai: chat (the server's chat template) or completions (the prompt rendered here "
        "with the model's template, as the hf backend renders it).",
        choices=("chat", "completions"),
        backend="openai",
    )
    api_key_env: str = setting(
        "OPENAI_API_KEY",
        "openai: the environment variable that holds the API key (never written anywhere).",
        metavar="VAR",
        backend="openai",
    )
    concurrency: int = setting(
        8, "openai: requests in flight at once.", minimum=1, backend="openai"
    )
    timeout: float = setting(
        60.0, "openai: seconds to wait for one response.", minimum=0, backend="openai"
    )
    max_retries: int = setting(
        5,
        "openai: retries after 429, 5xx, a timeout or a dropped connection (exponential "
        "backoff with jitter; Retry-After honoured).",
        minimum=0,
        flag="--retries",
        backend="openai",
    )
    tokenizer: str | None = setting(
        None,
        "openai: the served model's tokenizer (completions API, token counts; default: "
        "what --llm names).",
        metavar="HUB_ID|PATH",
        backend="openai",
    )
    random_weights: bool = setting(
        False,
        "Build the model from its configuration only: the model's speed, nothing to "
        "download (benchmarks; answers are noise).",
        opt_in=True,
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def backend_of(cls, name: str) -> str | None:
        """The one backend a field belongs to (None: a field every backend reads)."""
        for spec in fields(cls):
            if spec.name == name:
                owner = spec.metadata.get("backend")
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
