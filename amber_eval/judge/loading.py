"""Loading a Hugging Face causal LM (hub id, local folder or GGUF file) as an :class:`HFJudge`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError, ResourceError
from amber_eval.judge.presets import Preset
from amber_eval.judge_options import JudgeOptions

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


def access_error(source: str, preset: Preset | None, exc: Exception) -> ResourceError:
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


def model_folder(
    source: str, *, preset: Preset | None, revision: str | None = None, check: bool = True
) -> tuple[str, dict[str, Any]]:
    """The folder or hub id to load ``source`` from, and the identity facts that name it.

    A ``.gguf`` file is converted once to a cached safetensors folder (named by its sha256); a
    folder is named by its fingerprint (and, with ``check``, must hold a model); a hub id by
    its revision.
    """
    identity: dict[str, Any] = {"model": preset.name if preset else source}
    path = Path(source)
    if path.suffix.lower() == ".gguf":
        from amber_eval.judge.gguf_cache import ensure_converted

        converted, sha256 = ensure_converted(path)
        identity.update({"source": path.name, "file_sha256": sha256})
        return str(converted), identity
    if path.is_dir():
        if check:
            check_model_folder(path)
        identity.update({"source": str(path.resolve()), "folder_sha256": _folder_fingerprint(path)})
        return source, identity
    identity.update({"source": source, "revision": revision})
    return source, identity


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
    folder, identity = model_folder(
        source, preset=preset, revision=opts.revision, check=not opts.random_weights
    )
    common: dict[str, Any] = {"trust_remote_code": opts.trust_remote_code}
    if opts.revision is not None and not Path(folder).is_dir():
        common["revision"] = opts.revision
    if opts.random_weights:
        from amber_eval.judge.random_weights import random_weights_model

        tokenizer, model = random_weights_model(
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
            raise access_error(source, preset, exc) from exc
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
        mode=opts.answer_mode,
        raw_prompt=opts.raw_prompt,
        system_prompt=opts.system_prompt,
        max_new_tokens=opts.max_new_tokens,
        batch_tokens=batch_tokens,
        strategy=strategy,
        quantization=("nf4" if opts.load_in_4bit else "int8") if quantization is not None else None,
    )
