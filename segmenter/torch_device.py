"""Choosing a torch device and dtype: re-exported from :mod:`amber_eval.torch_device`."""

from __future__ import annotations

from amber_eval.torch_device import DTYPES, resolve_device, resolve_dtype

__all__ = ["DTYPES", "resolve_device", "resolve_dtype"]
