"""Choosing a torch device and dtype from user settings (torch imported lazily)."""

from __future__ import annotations

from typing import Any

from amber_eval.errors import AmberEvalError, InputError

DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
}
"""Accepted dtype names (case-insensitive) and the torch dtype each names."""


def resolve_device(device: str | None, *, unavailable: type[AmberEvalError] = InputError) -> str:
    """``device`` as given, else ``cuda`` when available, else ``cpu``.

    A CUDA device asked for on a machine without one raises ``unavailable``.
    """
    import torch

    if not device:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise unavailable(f"device {device!r} asked for, but no CUDA GPU is available")
    return device


def resolve_dtype(dtype: str | None, device: str, *, default_cuda_dtype: str = "float16") -> Any:
    """A torch dtype: ``dtype`` as given (a :data:`DTYPES` name), else ``default_cuda_dtype``
    on CUDA and float32 elsewhere."""
    import torch

    name = dtype if dtype else (default_cuda_dtype if device.startswith("cuda") else "float32")
    key = DTYPES.get(name.lower())
    if key is None:
        raise InputError(f"unknown dtype {name!r}; use one of {', '.join(sorted(DTYPES))}")
    return getattr(torch, key)
