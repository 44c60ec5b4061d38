"""``bench-segment``: images/s and regions/s of a mask source + captioner on generated images.

With ``random_weights`` the models are built from configs (no download): ``tiny`` test-sized
models, or ``base`` ones the size of the real defaults (open_clip ViT-B-16, BLIP base, SAM
ViT-B), so the timing stands for a real checkpoint of that size.
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from amber_eval.amber_images import image_name
from amber_eval.benchmarks.random_models import (
    write_random_blip,
    write_random_clip,
    write_random_sam,
)
from amber_eval.segmenter.base import Captioner, MaskSource
from amber_eval.segmenter.catalog import create_captioner, create_mask_source
from amber_eval.segmenter.images import ImageFile
from amber_eval.segmenter.pipeline import process_image, segment


@dataclass(frozen=True)
class BenchConfig:
    masks: str = "grid"
    captioner: str = "clip-vocab"
    images: int = 8
    width: int = 640
    height: int = 480
    random_weights: bool = False
    size: Literal["tiny", "base"] = "base"
    device: str | None = None
    mask_options: Mapping[str, Any] = field(default_factory=dict)
    captioner_options: Mapping[str, Any] = field(default_factory=dict)
    warmup: int = 1
    compare_unbatched: bool = False
    """Also time the captioner with ``batch_size=1`` on the same images (the baseline)."""


@dataclass(frozen=True)
class BenchResult:
    config: BenchConfig
    device: str
    load_seconds: float
    seconds: float
    images: int
    regions: int
    unbatched_seconds: float | None = None

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0

    @property
    def regions_per_second(self) -> float:
        return self.regions / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        c = self.config
        return {
            "masks": c.masks,
            "captioner": c.captioner,
            "random_weights": c.size if c.random_weights else None,
            "device": self.device,
            "images": self.images,
            "width": c.width,
            "height": c.height,
            "regions": self.regions,
            "seconds": round(self.seconds, 3),
            "load_seconds": round(self.load_seconds, 2),
            "images_per_second": round(self.images_per_second, 3),
            "regions_per_second": round(self.regions_per_second, 2),
            "unbatched_seconds": None
            if self.unbatched_seconds is None
            else round(self.unbatched_seconds, 3),
        }

    def lines(self) -> list[str]:
        c = self.config
        weights = f"random {c.size} weights" if c.random_weights else "given weights"
        return [
            f"masks={c.masks} captioner={c.captioner} ({weights}) device={self.device} "
            f"cpu={platform.processor() or platform.machine()}",
            f"{self.images} images of {c.width}x{c.height}, {self.regions} regions in "
            f"{self.seconds:.2f} s (models loaded in {self.load_seconds:.1f} s, "
            f"{c.warmup} warm-up image(s) not timed)",
            f"{self.images_per_second:.3f} images/s, {self.regions_per_second:.2f} regions/s",
        ] + (
            []
            if self.unbatched_seconds is None
            else [
                f"one region per forward pass: {self.images / self.unbatched_seconds:.3f} images/s; "
                f"batched is {self.unbatched_seconds / self.seconds:.2f}x faster"
            ]
        )


def generate_images(
    folder: Path, count: int, width: int, height: int, seed: int = 0
) -> list[ImageFile]:
    """``count`` JPEGs of coloured rectangles and ellipses on a gradient, named AMBER_<n>.jpg."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    files = []
    for n in range(1, count + 1):
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
        base = np.broadcast_to(ramp, (height, width, 3)) * rng.uniform(0.2, 1.0, size=3)
        picture = Image.fromarray(base.astype(np.uint8))
        draw = ImageDraw.Draw(picture)
        for _ in range(int(rng.integers(3, 9))):
            x0, y0 = int(rng.integers(0, width - 20)), int(rng.integers(0, height - 20))
            x1, y1 = int(rng.integers(x0 + 10, width)), int(rng.integers(y0 + 10, height))
            colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
            shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
            shape((x0, y0, x1, y1), fill=colour)
        path = folder / image_name(n)
        picture.save(path, quality=90)
        files.append(ImageFile(path.name, path))
    return files


def random_model_options(name: str, size: str, folder: Path) -> dict[str, Any]:
    """Options that point a component at a randomly initialised model saved under ``folder``."""
    import torch

    torch.manual_seed(0)
    if name == "clip-vocab":
        if size == "base":  # random weights score every phrase alike: keep every region
            return {"model": "ViT-B-16", "pretrained": None, "threshold": 0}
        target = write_random_clip(folder / "clip")
        return {"model": f"local-dir:{target}", "threshold": 0}
    if name == "image-to-text":
        return {
            "model": str(write_random_blip(folder / "blip", size)),
            "min_new_tokens": 20,
            "max_new_tokens": 20,
        }
    if name == "sam":
        return {"model": str(write_random_sam(folder / "sam", size))}
    return {}


def run_bench(config: BenchConfig, notice: Callable[[str], None] | None = None) -> BenchResult:
    """Generate the images, build the components, time the ``segment`` pipeline on them."""
    say = notice or (lambda _text: None)
    with tempfile.TemporaryDirectory(prefix="amber-eval-bench-") as tmp:
        folder = Path(tmp)
        (folder / "images").mkdir()
        say(f"generating {config.images} images of {config.width}x{config.height}")
        images = generate_images(
            folder / "images", config.images + config.warmup, config.width, config.height
        )
        mask_options = dict(config.mask_options)
        captioner_options = dict(config.captioner_options)
        if config.random_weights:
            (folder / "models").mkdir()
            mask_options = {
                **random_model_options(config.masks, config.size, folder / "models"),
                **mask_options,
            }
            captioner_options = {
                **random_model_options(config.captioner, config.size, folder / "models"),
                **captioner_options,
            }
        if config.device:
            for options, name in (
                (mask_options, config.masks),
                (captioner_options, config.captioner),
            ):
                if name in ("sam", "clip-vocab", "image-to-text"):
                    options.setdefault("device", config.device)
        say("loading the components")
        started = time.perf_counter()
        captioner: Captioner = create_captioner(config.captioner, **captioner_options)
        mask_source: MaskSource | None = (
            create_mask_source(config.masks, **mask_options) if captioner.uses_masks else None
        )
        load_seconds = time.perf_counter() - started
        device = str(
            getattr(captioner, "device", None) or getattr(mask_source, "device", None) or "cpu"
        )
        try:
            for image in images[: config.warmup]:
                process_image(image, mask_source, captioner)
            say(f"timing {config.images} images")
            timed = images[config.warmup :]
            _sync()
            summary = segment(
                timed,
                folder / "captions.jsonl",
                mask_source=mask_source,
                captioner=captioner,
                progress=True,
            )
            _sync()
            unbatched = None
            if config.compare_unbatched:
                captioner.close()
                say("timing the same images one region per forward pass")
                captioner = create_captioner(
                    config.captioner, **{**captioner_options, "batch_size": 1}
                )
                for image in images[: config.warmup]:
                    process_image(image, mask_source, captioner)
                _sync()
                baseline = segment(
                    timed, folder / "unbatched.jsonl", mask_source=mask_source, captioner=captioner
                )
                _sync()
                unbatched = baseline.seconds
        finally:
            if mask_source is not None:
                mask_source.close()
            captioner.close()
    return BenchResult(
        config, device, load_seconds, summary.seconds, summary.written, summary.regions, unbatched
    )


def _sync() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.synchronize()
