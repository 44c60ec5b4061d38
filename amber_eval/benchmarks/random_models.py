"""Randomly initialised models built from configs and saved to folders (nothing downloaded).

Test-sized (``tiny``) or real-sized (``base``) open_clip, BLIP and SAM models that load by path
through the real loading code. They ship with the package because ``bench-segment
--random-weights`` (GPU speed runs without downloading checkpoints) and ``bench-pairs`` build
them; the tests use them too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TINY_CLIP_CONFIG: dict[str, Any] = {
    "embed_dim": 64,
    "vision_cfg": {
        "image_size": 64,
        "layers": 2,
        "width": 64,
        "head_width": 32,
        "patch_size": 16,
    },
    "text_cfg": {
        "context_length": 32,
        "vocab_size": 49408,
        "width": 64,
        "heads": 2,
        "layers": 2,
    },
}
"""A test-sized open_clip model (64-d embeddings, two layers a tower)."""

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]")
"""The BERT vocabulary's first entries in :func:`write_random_blip` (ids 0 to 5)."""


def write_random_clip(target: Path, seed: int = 0, config: Mapping[str, Any] | None = None) -> Path:
    """An open_clip model (default :data:`TINY_CLIP_CONFIG`) with random weights, loadable as
    ``local-dir:<target>``."""
    import open_clip
    import torch

    model_cfg = dict(config or TINY_CLIP_CONFIG)
    target.mkdir(parents=True, exist_ok=True)
    (target / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": model_cfg, "preprocess_cfg": {}})
    )
    torch.manual_seed(seed)
    model = open_clip.CLIP(**model_cfg)
    torch.save(model.state_dict(), target / "open_clip_pytorch_model.bin")
    return target


def write_random_blip(
    target: Path,
    size: str = "tiny",
    *,
    words: Sequence[str] | None = None,
    suppress_special_tokens: bool = False,
    seed: int = 0,
) -> Path:
    """A BLIP captioning model and processor with random weights, saved to ``target``.

    ``words`` make the BERT vocabulary after :data:`SPECIAL_TOKENS` (default: the default
    clip-vocab vocabulary's words). With ``suppress_special_tokens`` the decoder never
    predicts [PAD], [UNK], [CLS], [MASK] or [DEC], so its captions are words.
    """
    import torch
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    from amber_eval.segmenter.vocabulary import default_vocabulary_text

    target.mkdir(parents=True, exist_ok=True)
    if words is None:
        words = sorted(
            {
                w
                for line in default_vocabulary_text().splitlines()
                for w in line.split()
                if w.isalpha()
            }
        )
    (target / "vocab.txt").write_text("\n".join([*SPECIAL_TOKENS, *words]) + "\n")
    tokenizer = BertTokenizer(vocab=str(target / "vocab.txt"))
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    ids = {"bos_token_id": 5, "eos_token_id": 3, "sep_token_id": 3, "pad_token_id": 0}
    if size == "base":  # BLIP base: ViT-B/16 at 384 px and a BERT-base decoder
        vision: dict[str, Any] = {"image_size": 384}
        text: dict[str, Any] = {"vocab_size": len(tokenizer), **ids}
        image_size = 384
    else:
        vision = {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 64,
            "patch_size": 16,
        }
        text = {
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 64,
            **ids,
        }
        image_size = 64
    torch.manual_seed(seed)
    model = BlipForConditionalGeneration(BlipConfig(vision_config=vision, text_config=text))
    if suppress_special_tokens:
        with torch.no_grad():
            model.text_decoder.cls.predictions.bias[[0, 1, 2, 4, 5]] = -1e4
    model.save_pretrained(target)
    processor = BlipProcessor(
        BlipImageProcessor(size={"height": image_size, "width": image_size}), tokenizer
    )
    processor.save_pretrained(target)
    return target


def write_random_sam(target: Path, size: str = "tiny", seed: int = 0) -> Path:
    """A SAM model and processor with random weights (``base``: SAM ViT-B at 1024 px)."""
    import torch
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor

    if size == "base":  # SamConfig's defaults are SAM ViT-B at 1024 px
        config = SamConfig()
        processor = SamProcessor(image_processor=SamImageProcessor())
    else:
        config = SamConfig(
            vision_config={
                "hidden_size": 32,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "image_size": 256,
                "window_size": 4,
                "global_attn_indexes": [1],
                "output_channels": 32,
                "mlp_dim": 64,
                "num_pos_feats": 16,
            },
            prompt_encoder_config={"hidden_size": 32, "image_size": 256, "mask_input_channels": 4},
            mask_decoder_config={
                "hidden_size": 32,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "mlp_dim": 64,
                "iou_head_hidden_dim": 32,
            },
        )
        processor = SamProcessor(
            image_processor=SamImageProcessor(
                size={"longest_edge": 256},
                pad_size={"height": 256, "width": 256},
                mask_size={"longest_edge": 64},
                mask_pad_size={"height": 64, "width": 64},
            )
        )
    torch.manual_seed(seed)
    SamModel(config).save_pretrained(target)
    processor.save_pretrained(target)
    return target
