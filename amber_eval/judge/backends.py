"""Judge backends and :func:`load_judge`.

A backend turns a model source (a hub id, a model folder or a ``.gguf`` file) into a
:class:`~amber_eval.judge.base.Judge`. Each is registered in :data:`BACKENDS` as
``"module:function"`` with the signature of :data:`Loader`, so its module (and torch,
transformers, vllm, httpx ...) is imported only when a judge is loaded. A name given to
:func:`load_judge` is a preset (:data:`amber_eval.judge.presets.PRESETS`), a hub id
(``org/name``), a local model folder or a ``.gguf`` file; every backend takes the same names
(``llama2-7b`` loads ``meta-llama/Llama-2-7b-chat-hf`` in vLLM too). The ``openai`` backend
also takes a name only its server knows (a hosted model's).

Backends chosen with ``JudgeOptions.backend`` (``--backend``): ``hf`` (the model in this
process, the default), ``vllm`` (an in-process vLLM engine) and ``openai`` (any
OpenAI-compatible server); see docs/judge.md, "Serving engines".
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Protocol

from amber_eval.errors import InputError, ResourceError, UnknownNameError
from amber_eval.judge.base import Judge
from amber_eval.judge.presets import DEFAULT_LLM, PRESETS, Preset
from amber_eval.judge_options import JudgeOptions
from amber_eval.registry import Registry

DEFAULT_BACKEND = "hf"


class Loader(Protocol):
    """``loader(source, preset=..., options=...) -> Judge``; ``preset`` is None for a path or id."""

    def __call__(
        self, source: str, *, preset: Preset | None, options: JudgeOptions | None
    ) -> Judge: ...


BACKENDS: Registry[Loader] = Registry("judge backend")
BACKENDS.add_lazy(
    "hf", "amber_eval.judge.loading:load_hf_judge", "transformers in this process (score, generate)"
)
BACKENDS.add_lazy(
    "vllm", "amber_eval.judge.vllm_backend:load_vllm_judge", "an in-process vLLM engine"
)
BACKENDS.add_lazy(
    "openai",
    "amber_eval.judge.openai_backend:load_openai_judge",
    "an OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, Ollama, hosted APIs)",
)
BACKENDS.add_lazy("mock", "amber_eval.judge.mock:load_mock_judge", "no model (test doubles)")


def looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and not name.startswith((".", "/", "~"))
        and not any(c.isspace() for c in name)
    )


def resolve_source(name_or_path: str) -> tuple[str, Preset | None]:
    """``(source, preset)`` for a preset name, a ``.gguf`` file, a model folder or a hub id."""
    if name_or_path in PRESETS:
        preset = PRESETS.load(name_or_path)
        return preset.source(), preset
    path = Path(os.path.expanduser(name_or_path))
    if path.suffix.lower() == ".gguf" or path.exists():
        if not path.exists():
            raise ResourceError(
                f"GGUF file not found: {path}. Pass the path of an existing .gguf file, or a "
                "preset name (`amber-eval llms` lists them)."
            )
        return str(path), None
    if looks_like_hub_id(name_or_path):
        return name_or_path, None
    raise UnknownNameError(
        PRESETS.unknown_message(name_or_path)
        + " Or pass a Hugging Face hub id (org/name), a local model folder or a .gguf file."
    )


def backend_name(preset: Preset | None, options: JudgeOptions) -> str:
    """The backend that loads ``preset`` with ``options`` (a preset may insist on one)."""
    if preset is not None and preset.backend is not None:
        if options.backend != DEFAULT_BACKEND and options.backend != preset.backend:
            raise InputError(
                f"{preset.name} is a test double with no model: it runs without --backend "
                f"{options.backend}"
            )
        return preset.backend
    return options.backend


def check_backend_options(options: JudgeOptions) -> None:
    """Refuse settings that belong to another backend, so nothing is silently ignored."""
    if options.backend not in BACKENDS or options.backend == "mock":
        choices = ", ".join(n for n in BACKENDS.names() if n != "mock")
        raise InputError(f"unknown backend {options.backend!r}; use one of {choices}")
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


def load_judge(
    name_or_path: str = DEFAULT_LLM,
    *,
    options: JudgeOptions | None = None,
    **settings: Any,
) -> Judge:
    """Load a judge by preset name, hub id, local folder or ``.gguf`` file.

    Settings come as a :class:`JudgeOptions` or as its fields by keyword (``answer_mode``, ``dtype``,
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
    check_backend_options(opts)
    try:
        source, preset = resolve_source(name_or_path)
    except UnknownNameError:
        if opts.backend != "openai":
            raise
        source, preset = name_or_path, None  # a name only the server knows
    loader = BACKENDS.load(backend_name(preset, opts))
    return loader(source, preset=preset, options=opts)
