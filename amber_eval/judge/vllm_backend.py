"""The ``vllm`` backend: the judge model in an in-process ``vllm.LLM`` engine.

Prompts are rendered with the model's tokenizer and chat template exactly as the HF backend
renders them, tokenized the same way and handed to vLLM as token ids, so both backends see the
same tokens. Requests are greedy (``temperature=0``) with the top ``top_logprobs``
alternatives per token; the answer rule is :mod:`amber_eval.judge.logprob_rule`. Prefix caching
(vLLM's default) computes each image's shared prompt prefix once.

vLLM starts its engine in a spawned process: a script that loads this backend needs the
``if __name__ == "__main__":`` guard (the ``amber-eval`` command has it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError, ResourceError
from amber_eval.judge.chat import encode_rendered, render_chat, require_template, template_sha256
from amber_eval.judge.engine import Completion, EngineJudge
from amber_eval.judge.logprob_rule import TokenStep
from amber_eval.judge_options import JudgeOptions

if TYPE_CHECKING:
    from amber_eval.judge.presets import Preset


class VLLMCompleter:
    """Greedy completions from a loaded ``vllm.LLM`` on token-id prompts."""

    def __init__(
        self, llm: Any, tokenizer: Any, encode: Callable[[str], list[int]], top_logprobs: int
    ) -> None:
        self.llm = llm
        self.tokenizer = tokenizer
        self.encode = encode
        self.top_logprobs = top_logprobs
        self._tokens: dict[int, str] = {}

    def token(self, token_id: int) -> str:
        """The vocabulary entry of ``token_id`` (what the HF backend records as ``token``)."""
        if token_id not in self._tokens:
            self._tokens[token_id] = str(self.tokenizer.convert_ids_to_tokens(int(token_id)))
        return self._tokens[token_id]

    def complete(
        self,
        prompts: Sequence[str],
        *,
        max_tokens: int,
        done: Callable[[int], None] | None = None,
    ) -> list[Completion]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        params = SamplingParams(
            temperature=0.0, max_tokens=max_tokens, logprobs=self.top_logprobs, seed=0
        )
        inputs = [TokensPrompt(prompt_token_ids=self.encode(p)) for p in prompts]
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        completions = []
        for index, output in enumerate(outputs):
            sample = output.outputs[0]
            steps = []
            for token_id, alternatives in zip(
                sample.token_ids, sample.logprobs or [], strict=False
            ):
                top = sorted(
                    ((self.token(t), float(lp.logprob)) for t, lp in alternatives.items()),
                    key=lambda pair: -pair[1],
                )
                chosen = alternatives.get(token_id)
                steps.append(
                    TokenStep(
                        self.token(token_id),
                        None if chosen is None else float(chosen.logprob),
                        tuple(top),
                    )
                )
            completions.append(
                Completion(
                    text=sample.text,
                    steps=tuple(steps),
                    logprobs=sample.logprobs is not None,
                    finish_reason=sample.finish_reason,
                )
            )
            if done is not None:
                done(index)
        return completions


def engine_arguments(folder: str, options: JudgeOptions) -> dict[str, Any]:
    """The ``vllm.LLM`` keyword arguments for ``options`` (vLLM's own defaults otherwise)."""
    arguments: dict[str, Any] = {
        "model": folder,
        "tokenizer": folder,
        "trust_remote_code": options.trust_remote_code,
        "tensor_parallel_size": options.tensor_parallel_size,
        "enforce_eager": options.enforce_eager,
        "enable_prefix_caching": True,
        "max_logprobs": max(20, options.top_logprobs),
        "seed": 0,
    }
    if options.dtype is not None:
        arguments["dtype"] = options.dtype
    if options.gpu_memory_utilization is not None:
        arguments["gpu_memory_utilization"] = options.gpu_memory_utilization
    if options.max_model_len is not None:
        arguments["max_model_len"] = options.max_model_len
    if options.revision is not None:
        arguments["revision"] = options.revision
    return arguments


def load_vllm_judge(
    source: str, *, preset: Preset | None, options: JudgeOptions | None = None
) -> EngineJudge:
    """Start vLLM on the model at ``source`` and wrap it as an :class:`EngineJudge`."""
    from amber_eval.judge.loading import model_folder

    options = options if options is not None else JudgeOptions(backend="vllm")
    if options.random_weights:
        raise InputError("--random-weights is an hf-backend option")
    if options.device not in (None, "cpu", "cuda"):
        raise InputError(
            f"--device {options.device}: vLLM places the model itself (use "
            "CUDA_VISIBLE_DEVICES and --tensor-parallel-size)"
        )
    try:
        from vllm import LLM
    except ImportError as exc:
        raise ResourceError(
            "the vllm backend needs vLLM: `pip install vllm` (GPU) or, on a CPU, `make "
            f"vllm-env` for its own virtual environment ({type(exc).__name__}: {exc})"
        ) from exc
    folder, identity = model_folder(source, preset=preset, revision=options.revision)
    try:
        llm_engine = LLM(**engine_arguments(folder, options))
    except OSError as exc:
        from amber_eval.judge.loading import access_error

        raise access_error(folder, preset, exc) from exc
    tokenizer = llm_engine.get_tokenizer()
    require_template(tokenizer, identity.get("model"), raw_prompt=options.raw_prompt)
    config = llm_engine.llm_engine.model_config

    def render(prompt: str) -> str:
        return render_chat(
            tokenizer, prompt, system_prompt=options.system_prompt, raw_prompt=options.raw_prompt
        )

    def encode(prompt: str) -> list[int]:
        return encode_rendered(tokenizer, render(prompt), raw_prompt=options.raw_prompt)

    import vllm

    identity.update(
        {
            "backend": "vllm",
            "engine_version": str(vllm.__version__),
            "dtype": str(config.dtype).removeprefix("torch."),
            "quantization": getattr(config, "quantization", None),
            "max_model_len": int(config.max_model_len),
            "chat_template": not options.raw_prompt,
            "chat_template_sha256": template_sha256(tokenizer, raw_prompt=options.raw_prompt),
            "system_prompt": options.system_prompt,
        }
    )
    completer = VLLMCompleter(llm_engine, tokenizer, encode, options.top_logprobs)
    return EngineJudge(
        completer,
        identity=identity,
        render=render,
        mode=options.answer_mode,
        max_new_tokens=options.max_new_tokens,
        top_logprobs=options.top_logprobs,
        prompt_tokens=lambda prompt: len(encode(prompt)),
        context_limit=int(config.max_model_len),
    )
