"""Judge backends: ``hf`` (the model in this process, the default), ``vllm`` (in-process vLLM)
and ``openai`` (any OpenAI-compatible server). See docs/judge.md, "Serving engines".

Every backend takes the same ``--llm`` names: a preset resolves to its model for each of them
(``llama2-7b`` loads ``meta-llama/Llama-2-7b-chat-hf`` in vLLM too; ``smollm2-135m`` the
safetensors folder the GGUF cache writes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError, ResourceError, UnknownNameError
from amber_eval.judge.options import JudgeOptions

if TYPE_CHECKING:
    from amber_eval.judge.base import Judge
    from amber_eval.judge.presets import Preset

BACKENDS = ("hf", "vllm", "openai")
ENGINE_BACKENDS = ("vllm", "openai")


@dataclass(frozen=True)
class ModelSource:
    """What ``--llm`` names: the file, folder or hub id to load, and its preset if any."""

    source: str
    preset: Preset | None

    def resolve(self, revision: str | None = None) -> tuple[str, dict[str, Any]]:
        """The folder or hub id to load and the identity facts naming it (GGUF converted)."""
        from amber_eval.judge.loading import resolve_source

        return resolve_source(self.source, preset=self.preset, revision=revision)


def model_source(llm: str) -> ModelSource:
    """Resolve a preset name, hub id, model folder or ``.gguf`` file (else UnknownNameError)."""
    from amber_eval.judge.presets import PRESETS_BY_NAME, looks_like_hub_id, registry

    preset = PRESETS_BY_NAME.get(llm)
    if preset is not None:
        if preset.test_double:
            raise InputError(
                f"{llm} is a test double with no model: it runs on the hf backend only"
            )
        return ModelSource(preset.source(), preset)
    path = Path(os.path.expanduser(llm))
    if path.suffix.lower() == ".gguf" or path.exists():
        if not path.exists():
            raise ResourceError(f"GGUF file not found: {path}")
        return ModelSource(str(path), None)
    if looks_like_hub_id(llm):
        return ModelSource(llm, None)
    raise UnknownNameError(
        registry().unknown_message(llm)
        + " Or pass a Hugging Face hub id (org/name), a local model folder or a .gguf file."
    )


def check_backend_options(options: JudgeOptions) -> None:
    """Refuse settings that belong to another backend, so nothing is silently ignored."""
    if options.backend not in BACKENDS:
        raise InputError(f"unknown backend {options.backend!r}; use one of {', '.join(BACKENDS)}")
    default = JudgeOptions()
    given = [
        name
        for name in JudgeOptions.names()
        if JudgeOptions.backend_of(name) not in (None, options.backend)
        and getattr(options, name) != getattr(default, name)
    ]
    if given:
        owner = JudgeOptions.backend_of(given[0])
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        raise InputError(f"{flags}: only for --backend {owner}, not --backend {options.backend}")


def load_engine_judge(llm: str, options: JudgeOptions) -> Judge:
    """The ``vllm`` or ``openai`` judge for ``llm`` (options checked by the caller)."""
    if options.backend == "vllm":
        from amber_eval.judge.vllm_backend import load_vllm_judge

        return load_vllm_judge(llm, options)
    from amber_eval.judge.openai_backend import load_openai_judge

    return load_openai_judge(llm, options)
