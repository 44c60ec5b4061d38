"""open_clip text and image encoders with fixed-shape batches and a phrase cache.

Every forward call has the same batch shape (short batches are padded), so an embedding does
not depend on which other inputs shared its batch: one process and several processes give
bit-identical scores on the same hardware.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from amber_eval.errors import ResourceError
from amber_eval.file_digests import local_model_digest

DEFAULT_MODEL = "ViT-B-16"
DEFAULT_PRETRAINED = "laion2b_s34b_b88k"  # as the segmenter's clip-vocab captioner
LOCAL_DIR = "local-dir:"


@dataclass(frozen=True)
class ClipSettings:
    """Which open_clip model encodes phrases (and region crops)."""

    model: str = DEFAULT_MODEL
    """open_clip model name, ``local-dir:FOLDER`` or ``hf-hub:ORG/REPO``."""
    pretrained: str | None = DEFAULT_PRETRAINED
    """open_clip pretrained tag or checkpoint file (ignored for ``local-dir:``/``hf-hub:``)."""
    model_config: str | None = None
    """A model config JSON to register with ``open_clip.add_model_config`` first."""
    device: str | None = None
    """Torch device; default the process's accelerator device or CPU."""
    text_batch_size: int = 256
    image_batch_size: int = 32

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "pretrained": None if self.model.startswith(LOCAL_DIR) else self.pretrained,
            "model_config": self.model_config,
            "text_batch_size": self.text_batch_size,
            "image_batch_size": self.image_batch_size,
            **local_model_digest("model", self.model),
            **local_model_digest("pretrained", self.pretrained),
        }


@dataclass
class LoadedClip:
    model: Any
    tokenizer: Any
    preprocess: Any
    device: Any
    embed_dim: int


def load_clip(settings: ClipSettings, device: Any = None) -> LoadedClip:
    """Build the open_clip model, its tokenizer and image transform (eval mode)."""
    import open_clip
    import torch

    if settings.model_config:
        open_clip.add_model_config(settings.model_config)
    target = torch.device(device or settings.device or "cpu")
    uses_schema = settings.model.startswith((LOCAL_DIR, "hf-hub:"))
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            settings.model,
            pretrained=None if uses_schema else settings.pretrained,
            device=target,
            load_weights=True,
        )
        tokenizer = open_clip.get_tokenizer(settings.model)
    except (RuntimeError, ValueError, FileNotFoundError, OSError) as exc:
        raise ResourceError(
            f"cannot load open_clip model {settings.model!r} "
            f"(pretrained {settings.pretrained!r}): {exc}"
        ) from None
    model.eval()
    with torch.no_grad():
        probe = model.encode_text(tokenizer([""]).to(target))
    return LoadedClip(model, tokenizer, preprocess, target, int(probe.shape[-1]))


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


class PhraseEncoder:
    """Unit-length CLIP text embeddings, cached by text (least recently used dropped first)."""

    def __init__(self, clip: LoadedClip, batch_size: int = 256, cache_size: int = 50_000):
        self.clip = clip
        self.batch_size = max(1, batch_size)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.encoded = 0
        self.hits = 0
        self.shorten = _can_shorten(clip.model, clip.tokenizer)

    def _forward(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        padded = list(texts) + [""] * (self.batch_size - len(texts))
        tokens = self.clip.tokenizer(padded).to(self.clip.device)
        with torch.no_grad():
            out = _encode_tokens(self.clip.model, tokens, self._length(tokens[: len(texts)]))
        return _normalise(out.float().cpu().numpy()[: len(texts)])

    def _length(self, tokens: Any) -> int | None:
        """The bucket length for these rows (None: the full context)."""
        if not self.shorten:
            return None
        used = int((tokens != 0).sum(dim=1).max()) if len(tokens) else 1
        return next((b for b in LENGTH_BUCKETS if used <= b < tokens.shape[1]), None)

    def _by_length(self, texts: list[str]) -> list[list[str]]:
        """Texts grouped by token-length bucket, so each batch runs at its bucket's length."""
        if not texts or not self.shorten:
            return [texts] if texts else []
        groups: dict[int | None, list[str]] = {}
        for start in range(0, len(texts), 4096):
            chunk = texts[start : start + 4096]
            lengths = (self.clip.tokenizer(chunk) != 0).sum(dim=1).tolist()
            for text, used in zip(chunk, lengths, strict=True):
                bucket = next((b for b in LENGTH_BUCKETS if used <= b), None)
                groups.setdefault(bucket, []).append(text)
        return [groups[key] for key in sorted(groups, key=lambda b: b or 1 << 30)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) x dim`` float32, rows of unit length."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        self.hits += len(texts) - len(missing)
        fresh: dict[str, np.ndarray] = {}
        for group in self._by_length(missing):
            for start in range(0, len(group), self.batch_size):
                batch = group[start : start + self.batch_size]
                fresh.update(zip(batch, self._forward(batch), strict=True))
        self.encoded += len(missing)
        rows = []
        for text in texts:
            row = fresh.get(text)
            if row is None:
                row = self._cache[text]
                self._cache.move_to_end(text)
            rows.append(row)
        for text, row in fresh.items():
            self._cache[text] = row
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        if not rows:
            return np.zeros((0, self.clip.embed_dim), dtype=np.float32)
        return np.stack(rows)


LENGTH_BUCKETS = (8, 16, 32)
"""Token lengths a batch of short phrases is cut to (the rest run at the full context)."""


def _can_shorten(model: Any, tokenizer: Any) -> bool:
    """True for open_clip's built-in text tower and tokenizer (padding id 0) with a causal mask
    and end-of-text pooling: positions after a phrase's end token cannot change its
    embedding, so they can be cut."""
    from open_clip.model import CLIP
    from open_clip.tokenizer import SimpleTokenizer

    return (
        isinstance(model, CLIP)
        and isinstance(tokenizer, SimpleTokenizer)
        and getattr(model, "attn_mask", None) is not None
        and getattr(model, "text_pool_type", None) == "argmax"
    )


def _encode_tokens(model: Any, tokens: Any, length: int | None) -> Any:
    """``model.encode_text`` on the first ``length`` token positions (all when None).

    Mirrors open_clip's ``CLIP.encode_text`` with the positional embedding and the causal mask
    cut to ``length``; every batch of a bucket has the same shape, so an embedding does not
    depend on the other phrases of its batch.
    """
    if length is None:
        return model.encode_text(tokens)
    from open_clip.transformer import text_global_pool

    text = tokens[:, :length]
    cast_dtype = model.transformer.get_cast_dtype()
    x = model.token_embedding(text).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = text_global_pool(
        x, text, model.text_pool_type, eos_token_id=getattr(model, "text_eos_id", None)
    )
    projection = model.text_projection
    if projection is None:
        return x
    if hasattr(projection, "weight"):
        return projection(x)
    return x @ projection


class CropEncoder:
    """Unit-length CLIP image embeddings of PIL crops, in fixed-shape batches."""

    def __init__(self, clip: LoadedClip, batch_size: int = 32):
        self.clip = clip
        self.batch_size = max(1, batch_size)

    def encode(self, crops: Sequence[Any]) -> np.ndarray:
        import torch

        outputs = []
        for start in range(0, len(crops), self.batch_size):
            batch = [self.clip.preprocess(crop) for crop in crops[start : start + self.batch_size]]
            count = len(batch)
            batch += [torch.zeros_like(batch[0])] * (self.batch_size - count)
            pixels = torch.stack(batch).to(self.clip.device)
            with torch.no_grad():
                out = self.clip.model.encode_image(pixels).float().cpu().numpy()
            outputs.append(_normalise(out[:count]))
        if not outputs:
            return np.zeros((0, self.clip.embed_dim), dtype=np.float32)
        return np.concatenate(outputs)
