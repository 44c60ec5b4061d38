"""GGUF files converted once to a cached safetensors folder.

transformers dequantizes a GGUF file on every load (tens of seconds even for a 135M model) and
refuses ``save_pretrained`` on the result. The first load here rebuilds the model from its
config, copies the weights and saves model and tokenizer as a plain folder under
``<cache root>/gguf/<file stem>-<sha256 prefix>/``; later loads read that folder.

The cache root is ``AMBER_EVAL_CACHE`` when set, else the per-user cache folder
(``platformdirs.user_cache_dir("amber-eval")``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from amber_eval.errors import ResourceError

CACHE_ENV = "AMBER_EVAL_CACHE"
_MARKER = "amber-eval-gguf.json"


def cache_root() -> Path:
    """``AMBER_EVAL_CACHE`` or the per-user cache folder."""
    value = os.environ.get(CACHE_ENV)
    if value:
        return Path(value)
    import platformdirs

    return Path(platformdirs.user_cache_dir("amber-eval"))


def file_sha256(path: Path) -> str:
    """sha256 of ``path``, memoised per (path, size, mtime) (:mod:`amber_eval.file_digests`)."""
    from amber_eval.file_digests import file_sha256 as digest

    return digest(path)


def converted_folder(gguf: Path, sha256: str) -> Path:
    return cache_root() / "gguf" / f"{gguf.stem}-{sha256[:16]}"


def check_gguf(path: str | os.PathLike[str]) -> Path:
    gguf = Path(path)
    if not gguf.is_file():
        raise ResourceError(
            f"GGUF file not found: {gguf}. Pass the path of an existing .gguf file, a model "
            "folder, a Hugging Face hub id or a preset name (`amber-eval llms` lists them)."
        )
    return gguf


def ensure_converted(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The cached folder for the GGUF file at ``path`` (converted now if needed) and its sha256."""
    gguf = check_gguf(path)
    sha256 = file_sha256(gguf)
    folder = converted_folder(gguf, sha256)
    marker = folder / _MARKER
    if marker.is_file():
        return folder, sha256
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _convert(gguf, staging)
        (staging / _MARKER).write_text(
            json.dumps({"gguf": gguf.name, "sha256": sha256}, indent=2) + "\n", encoding="utf-8"
        )
        if folder.exists():  # a concurrent conversion finished first
            shutil.rmtree(staging)
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder, sha256


def _convert(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ResourceError(f"cannot read GGUF file {gguf}: {exc}") from exc
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
