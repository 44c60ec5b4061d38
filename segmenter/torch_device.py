"""Choosing a torch device and dtype from user settings (torch imported lazily)."""

from __future__ import annotations

from typing import Any

from amber_eval.errors import InputError

DTYPES = ("float32", "float16", "bfloat16")


def resolve_device(device: str | None) -> str:
    """``device`` as given, else ``cuda`` when available, else ``cpu``."""
    import torch

    if device:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise InputError(f"device {device!r} asked for, but CUDA is not available")
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str | None, device: str) -> Any:
    """A torch dtype: ``dtype`` as given, else float16 on CUDA and float32 elsewhere."""
    import torch

    name = dtype or ("float16" if device.startswith("cuda") else "float32")
    if name not in DTYPES:
        raise InputError(f"dtype {name!r}: use one of {', '.join(DTYPES)}")
    return getattr(torch, name)
