"""``image-to-text``: any Hugging Face image-captioning model captions each region crop.

BLIP (``Salesforce/blip-image-captioning-base|large``), GIT (``microsoft/git-base``, ...) and
other models of ``AutoModelForImageTextToText`` with a processor. Crops are captioned in batches;
``prompt`` is optional text the caption continues (it is removed from the caption). The score is
the mean per-token probability of the generated caption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Any, Literal

from amber_eval.errors import ResourceError
from amber_eval.file_digests import local_model_digest
from amber_eval.segmenter.base import Captioner
from amber_eval.segmenter.crops import region_crop
from amber_eval.segmenter.options import build_settings
from amber_eval.segmenter.torch_device import resolve_device, resolve_dtype
from amber_eval.segmenter.types import Identity, Mask, RegionCaption, SourceImage

DEFAULT_CAPTION_MODEL = "Salesforce/blip-image-captioning-base"


@dataclass(frozen=True)
class ImageToTextSettings:
    model: str = DEFAULT_CAPTION_MODEL
    """Hub id or local folder of an image-captioning model and its processor."""
    revision: str | None = None
    """Hub revision (commit) to pin."""
    prompt: str | None = None
    """Text the caption starts from (e.g. "a picture of"); removed from the caption."""
    max_new_tokens: int = 20
    """Longest caption, in tokens."""
    min_new_tokens: int = 0
    """Shortest caption, in tokens."""
    num_beams: int = 1
    """Beam search width (1: greedy)."""
    batch_size: int = 16
    """Region crops per generate call."""
    background: Literal["keep", "grey"] = "keep"
    """Outside the mask: kept (a box crop) or painted grey (a masked crop)."""
    min_region: int = 16
    """Skip regions smaller than this many pixels."""
    max_regions: int = 0
    """Caption at most this many regions per image, largest first (0: all)."""
    trust_remote_code: bool = False
    """Run code shipped with the model (off unless you trust it)."""
    device: str | None = None
    """torch device (default: cuda when available)."""
    dtype: str | None = None
    """float32, float16 or bfloat16 (default: float16 on CUDA)."""

    def __post_init__(self) -> None:
        if min(self.max_new_tokens, self.num_beams, self.batch_size) < 1:
            raise ValueError("max_new_tokens, num_beams and batch_size must be at least 1")


class ImageToTextCaptioner(Captioner):
    """Region crops -> generated captions."""

    Settings = ImageToTextSettings

    def __init__(self, settings: ImageToTextSettings | None = None) -> None:
        self.settings = s = settings or ImageToTextSettings()
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as exc:
            raise ResourceError(
                f"image-to-text needs torch and transformers ({exc}); install amber-eval[segment]"
            ) from None
        self._torch = torch
        self.device = resolve_device(s.device)
        self.dtype = resolve_dtype(s.dtype, self.device)
        options: dict[str, Any] = {"trust_remote_code": s.trust_remote_code}
        if s.revision:
            options["revision"] = s.revision
        try:
            self.processor = AutoProcessor.from_pretrained(s.model, **options)
            self.model = AutoModelForImageTextToText.from_pretrained(
                s.model, dtype=self.dtype, **options
            )
        except (OSError, ValueError) as exc:
            raise ResourceError(f"cannot load the captioning model {s.model!r}: {exc}") from None
        self.model.to(self.device)  # type: ignore[arg-type]
        self.model.eval()
        settings_json = asdict(s)
        settings_json.pop("device")
        settings_json["dtype"] = str(self.dtype).removeprefix("torch.")
        settings_json.update(local_model_digest("model", s.model))
        self.identity = Identity("image-to-text", version("transformers"), settings_json)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ImageToTextCaptioner:
        return cls(
            build_settings(ImageToTextSettings, options, component="captioner image-to-text")
        )

    def generate(self, crops: Sequence[Any]) -> list[tuple[str, float]]:
        """``(caption, score)`` for each crop, in batches of ``batch_size``."""
        torch = self._torch
        s = self.settings
        results: list[tuple[str, float]] = []
        for start in range(0, len(crops), s.batch_size):
            batch = list(crops[start : start + s.batch_size])
            kwargs: dict[str, Any] = {"images": batch, "return_tensors": "pt"}
            if s.prompt:
                kwargs["text"] = [s.prompt] * len(batch)
            inputs = self.processor(**kwargs).to(self.device)
            if "pixel_values" in inputs:
                inputs["pixel_values"] = inputs["pixel_values"].to(self.dtype)
            with torch.inference_mode():
                out = self.model.generate(
                    **inputs,
                    max_new_tokens=s.max_new_tokens,
                    min_new_tokens=s.min_new_tokens,
                    num_beams=s.num_beams,
                    do_sample=False,
                    output_scores=True,
                    return_dict_in_generate=True,
                )
                steps = (
                    self.model.compute_transition_scores(  # type: ignore[misc]
                        out.sequences,
                        out.scores,
                        getattr(out, "beam_indices", None),
                        normalize_logits=True,
                    )
                    .float()
                    .cpu()
                )
            texts = self.processor.batch_decode(out.sequences, skip_special_tokens=True)
            generated = out.sequences[:, -steps.shape[1] :].cpu()
            pad = getattr(self.model.generation_config, "pad_token_id", None)
            for row, text in enumerate(texts):
                keep = (
                    generated[row] != pad
                    if pad is not None
                    else torch.ones_like(generated[row], dtype=torch.bool)
                )
                logprobs = steps[row][keep & torch.isfinite(steps[row])]
                score = math.exp(float(logprobs.mean())) if len(logprobs) else 0.0
                results.append((self._clean(text), score))
        return results

    def _clean(self, text: str) -> str:
        caption = " ".join(text.split())
        prompt = " ".join((self.settings.prompt or "").split())
        if prompt and caption.lower().startswith(prompt.lower()):
            caption = caption[len(prompt) :].strip()
        return caption

    def caption(self, image: SourceImage, masks: Sequence[Mask]) -> list[RegionCaption]:
        pixels = image.rgb()
        used = [i for i, m in enumerate(masks) if m.area >= self.settings.min_region]
        if self.settings.max_regions:
            used = sorted(used, key=lambda i: -masks[i].area)[: self.settings.max_regions]
            used.sort()
        if not used:
            return []
        crops = [region_crop(pixels, masks[i], background=self.settings.background) for i in used]
        return [
            RegionCaption(text, score=score, mask_index=index)
            for index, (text, score) in zip(used, self.generate(crops), strict=True)
            if text
        ]
