"""Reusable LLM fixtures: a tokenizer trained here and a tiny random Llama built from a config.

Nothing is downloaded. ``tiny_tokenizer()`` trains a small sentencepiece-style BPE (``▁`` word
markers, ``<s>``/``</s>``) and attaches Llama-2's chat template. ``tiny_llama(...)`` builds a
random ``LlamaForCausalLM`` whose next-token choice can be forced per branch:

- ``first``: tokens pushed up right after the prompt's last token (``]`` of ``[/INST]``);
- ``after``: ``{token: [tokens]}`` pushed up right after ``token`` was emitted.

The forcing goes through reserved hidden channels (the layers never write to them), so it is
part of the model itself: ``generate()`` and any batched forward see the same model.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from amber_eval.judge.random_weights import LLAMA2_CHAT_TEMPLATE

WORDS = [
    "dog",
    "cat",
    "car",
    "tree",
    "person",
    "man",
    "woman",
    "table",
    "chair",
    "cup",
    "bottle",
    "sky",
    "grass",
    "water",
    "road",
    "building",
    "red",
    "blue",
    "green",
    "small",
    "large",
    "running",
    "sitting",
    "standing",
    "two",
    "three",
    "four",
    "one",
    "sunny",
    "cloudy",
    "wet",
    "image",
    "contains",
    "there",
    "this",
    "the",
    "a",
    "an",
    "is",
    "are",
    "in",
    "on",
    "of",
    "and",
    "or",
    "with",
    "some",
    "many",
    "yes",
    "no",
    "Yes",
    "No",
    "Please",
    "answer",
    "question",
    "If",
    "Is",
    "Are",
    "Does",
    "describe",
    "object",
    "field",
    "street",
    "room",
    "The",
    "It",
    "I",
]


def corpus() -> list[str]:
    import random

    rng = random.Random(0)
    lines = []
    for _ in range(400):
        caption = ", ".join(" ".join(rng.sample(WORDS, 2)) for _ in range(rng.randint(1, 5)))
        lines.append(
            f"[INST] If an image contains {caption}. Is there a {rng.choice(WORDS)} in this "
            f"image? Please answer yes or no. [/INST] {rng.choice(['Yes', 'No'])}"
        )
    lines += ["<<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\n", "Yes\nNo\n yes no"]
    return lines


@functools.lru_cache(maxsize=1)
def _tokenizer_json() -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=["▁", "\n"],
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tokenizer.token_to_id("<s>"))]
    )
    return str(tokenizer.to_str())


def tiny_tokenizer(*, chat_template: bool = True) -> Any:
    """A fresh ``PreTrainedTokenizerFast`` (Llama-2 chat template unless disabled)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_tokenizer_json()),
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
    )
    if chat_template:
        tokenizer.chat_template = LLAMA2_CHAT_TEMPLATE
    return tokenizer


def token_id(tokenizer: Any, token: str) -> int:
    value = tokenizer.convert_tokens_to_ids(token)
    if value is None or value == tokenizer.unk_token_id:
        raise KeyError(f"{token!r} is not in the tiny vocabulary")
    return int(value)


def tiny_llama(
    tokenizer: Any,
    *,
    seed: int = 0,
    first: Sequence[str] = (),
    after: Mapping[str, Sequence[str]] | None = None,
    strength: float = 6.0,
    trigger: str = "▁[/INST]",
    initializer_range: float = 0.1,
) -> Any:
    """A random fp32 Llama (2 layers, hidden 64) with optional forced branches.

    ``initializer_range`` 0.1 (not Llama's 0.02) lets the context move the logits, so forced
    Yes/No pairs come out differently for different prompts.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        initializer_range=initializer_range,
    )
    config._attn_implementation = "sdpa"
    model = LlamaForCausalLM(config).eval()
    triggers = [(trigger, list(first))] + [(k, list(v)) for k, v in (after or {}).items()]
    reserved = len(triggers)
    with torch.no_grad():
        embed = model.model.embed_tokens.weight
        embed[:, :reserved] = 0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight[:reserved] = 0
            layer.mlp.down_proj.weight[:reserved] = 0
        model.lm_head.weight[:, :reserved] = 0
        for channel, (source, targets) in enumerate(triggers):
            if not targets:
                continue
            embed[token_id(tokenizer, source), channel] = 1.0
            for target in targets:
                model.lm_head.weight[token_id(tokenizer, target), channel] = strength
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    return model


def tiny_judge(tokenizer: Any = None, model: Any = None, **options: Any) -> Any:
    """An :class:`HFJudge` around the tiny model and tokenizer."""
    from amber_eval.judge.hf import HFJudge

    tokenizer = tokenizer if tokenizer is not None else tiny_tokenizer()
    model = model if model is not None else tiny_llama(tokenizer)
    return HFJudge(model, tokenizer, source={"model": "tiny-llama", "path": "<memory>"}, **options)
