"""``sam``: Segment Anything masks (transformers ``SamModel``), automatic or from point prompts.

Real checkpoints: ``facebook/sam-vit-base``, ``facebook/sam-vit-large``, ``facebook/sam-vit-huge``
(or any local folder with a SAM model and processor). Automatic generation samples a
``points_per_side x points_per_side`` grid (per crop) and keeps masks passing the predicted-IoU
and stability thresholds; with ``points`` (a JSON file ``{"AMBER_1.jpg": [[x, y], ...]}``) each
point prompts one mask instead (the best of SAM's three by predicted IoU).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from amber_eval.errors import InputError, ResourceError
from amber_eval.file_digests import local_model_digest
from amber_eval.segmenter.base import MaskSource
from amber_eval.segmenter.options import build_settings
from amber_eval.segmenter.torch_device import resolve_device, resolve_dtype
from amber_eval.segmenter.types import Identity, Mask, SourceImage, make_mask

DEFAULT_SAM = "facebook/sam-vit-base"


@dataclass(frozen=True)
class SamSettings:
    model: str = DEFAULT_SAM
    """Hub id (facebook/sam-vit-base|large|huge) or a local folder."""
    revision: str | None = None
    """Hub revision (commit) to pin."""
    points: str | None = None
    """Point prompts: JSON ``{image: [[x, y], ...]}``, one mask per point. None: automatic."""
    points_per_side: int = 16
    """Automatic: grid points per side of each crop (the granularity knob; SAM's default is 32)."""
    granularity: int | None = None
    """Alias of points_per_side (the ``--granularity`` flag)."""
    points_per_batch: int = 64
    """Prompts decoded per forward pass (raise on a large GPU)."""
    pred_iou_thresh: float = 0.88
    """Automatic: keep masks whose predicted IoU is at least this."""
    stability_score_thresh: float = 0.95
    """Automatic: keep masks whose stability score is at least this."""
    crops_nms_thresh: float = 0.7
    """Automatic: box NMS threshold between masks."""
    crop_n_layers: int = 0
    """Automatic: extra layers of image crops (each layer 2**i x 2**i crops)."""
    max_masks: int = 0
    """Keep at most this many masks per image, best score first (0: all)."""
    min_area: float = 0.0
    """Drop masks smaller than this fraction of the image."""
    device: str | None = None
    """torch device (default: cuda when available)."""
    dtype: str | None = None
    """float32, float16 or bfloat16 (default: float16 on CUDA)."""

    def __post_init__(self) -> None:
        if self.granularity is not None:
            object.__setattr__(self, "points_per_side", self.granularity)
            object.__setattr__(self, "granularity", None)
        if self.points_per_side < 1 or self.points_per_batch < 1:
            raise ValueError("points_per_side and points_per_batch must be at least 1")


class SamMaskSource(MaskSource):
    """SAM on one image at a time; prompts are decoded in batches of ``points_per_batch``."""

    Settings = SamSettings

    def __init__(self, settings: SamSettings | None = None) -> None:
        self.settings = s = settings or SamSettings()
        self.points: dict[str, list[tuple[float, float]]] | None = None
        points_sha = None
        if s.points is not None:
            self.points, points_sha = read_points(Path(s.points))
        try:
            import torch  # noqa: F401
            from transformers import SamModel, SamProcessor
        except ImportError as exc:
            raise ResourceError(
                f"the sam mask source needs torch and transformers ({exc}); "
                "install amber-eval[segment]"
            ) from None
        self.device = resolve_device(s.device)
        self.dtype = resolve_dtype(s.dtype, self.device)
        try:
            revision: dict[str, Any] = {"revision": s.revision} if s.revision else {}
            self.model = SamModel.from_pretrained(s.model, dtype=self.dtype, **revision)
            self.processor = SamProcessor.from_pretrained(s.model, **revision)
        except OSError as exc:
            raise ResourceError(f"cannot load the SAM model {s.model!r}: {exc}") from None
        self.model.to(self.device)  # type: ignore[arg-type]
        self.model.eval()
        self._generator: Any = None
        settings_json = asdict(s)
        settings_json.pop("granularity")
        settings_json["points_sha256"] = points_sha
        settings_json["mode"] = "points" if self.points is not None else "automatic"
        settings_json.update(local_model_digest("model", s.model))
        self.identity = Identity("sam", version("transformers"), settings_json)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SamMaskSource:
        return cls(build_settings(SamSettings, options, component="mask source sam"))

    def masks(self, image: SourceImage) -> list[Mask]:
        if self.points is not None:
            if image.name not in self.points:
                raise InputError(f"{self.settings.points}: no points for {image.name}")
            found = self.prompted(image, self.points[image.name])
        else:
            found = self.automatic(image)
        width, height = image.rgb().size
        keep = [
            m for m in found if m.area > 0 and m.area >= self.settings.min_area * width * height
        ]
        if self.settings.max_masks:
            keep = sorted(keep, key=lambda m: -(m.score or 0.0))[: self.settings.max_masks]
        return keep

    def prompted(self, image: SourceImage, points: list[tuple[float, float]]) -> list[Mask]:
        """One mask per point: SAM's best of three by predicted IoU."""
        import torch

        pixels = image.rgb()
        inputs = self.processor(images=pixels, return_tensors="pt")
        with torch.inference_mode():
            embeddings = self.model.get_image_embeddings(
                inputs["pixel_values"].to(self.device, self.dtype)
            )
        # The processor resizes the longest side; prompts are given in the resized frame.
        height, width = (int(v) for v in inputs["original_sizes"][0])
        new_height, new_width = (int(v) for v in inputs["reshaped_input_sizes"][0])
        scale = torch.tensor([new_width / width, new_height / height])
        result: list[Mask] = []
        step = self.settings.points_per_batch
        for start in range(0, len(points), step):
            chunk = torch.tensor(points[start : start + step], dtype=torch.float32) * scale
            with torch.inference_mode():
                out = self.model(
                    image_embeddings=embeddings,
                    input_points=chunk[None, :, None, :].to(self.device, self.dtype),
                    multimask_output=True,
                )
            masks = self.processor.image_processor.post_process_masks(
                out.pred_masks.float().cpu(),
                inputs["original_sizes"],
                inputs["reshaped_input_sizes"],
            )[0]  # (points, 3, H, W)
            scores = out.iou_scores.float().cpu()[0]  # (points, 3)
            best = scores.argmax(dim=-1)
            for index in range(masks.shape[0]):
                choice = int(best[index])
                result.append(make_mask(masks[index, choice].numpy(), float(scores[index, choice])))
        return result

    def automatic(self, image: SourceImage) -> list[Mask]:
        """SAM's automatic mask generation (transformers ``mask-generation`` pipeline)."""
        import numpy as np

        if self._generator is None:
            from transformers import pipeline

            self._generator = pipeline(
                "mask-generation",
                model=self.model,
                image_processor=self.processor.image_processor,
                device=self.device,
            )
        s = self.settings
        out = self._generator(
            image.rgb(),
            points_per_crop=s.points_per_side,
            points_per_batch=s.points_per_batch,
            pred_iou_thresh=s.pred_iou_thresh,
            stability_score_thresh=s.stability_score_thresh,
            crops_nms_thresh=s.crops_nms_thresh,
            crops_n_layers=s.crop_n_layers,
        )
        scores = [float(v) for v in out["scores"]]
        return [
            make_mask(np.asarray(m.cpu() if hasattr(m, "cpu") else m), score)
            for m, score in zip(out["masks"], scores, strict=True)
        ]

    def close(self) -> None:
        self._generator = None


def read_points(path: Path) -> tuple[dict[str, list[tuple[float, float]]], str]:
    """The points file ``{image: [[x, y], ...]}`` and its sha256; errors name the entry."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise InputError(f"points file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the points JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f'{path}: expected {{"AMBER_1.jpg": [[x, y], ...], ...}}')
    points: dict[str, list[tuple[float, float]]] = {}
    for name, entries in data.items():
        if not isinstance(entries, list) or not entries:
            raise InputError(f"{path}: {name}: expected a non-empty list of [x, y] points")
        parsed = []
        for index, point in enumerate(entries):
            if (
                not isinstance(point, list | tuple)
                or len(point) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
                or min(point) < 0
            ):
                raise InputError(
                    f"{path}: {name}[{index}]: expected [x, y] (pixels, >= 0), got {point!r}"
                )
            parsed.append((float(point[0]), float(point[1])))
        points[name] = parsed
    return points, hashlib.sha256(raw).hexdigest()
