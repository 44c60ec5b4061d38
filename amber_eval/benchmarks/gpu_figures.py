"""The figures of ``bench-gpu check``: the FLOP model, the cards' peaks, and the two outputs.

Achieved TFLOP/s counts ``2 x N x tokens``: a forward pass does one multiply and one add per
weight and token. ``N`` is the weights of the decoder layers and the LM head (the input
embedding is a lookup, not a product). The count leaves out the attention's score and value
products (a few percent at AMBER's prompt lengths) and counts the LM head on every token
although score mode applies it only where it reads logits: an estimate, good to a few percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

BF16_DENSE_PEAK_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H100 PCIE", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),
    ("H200", 989.0),
    ("GH200", 989.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("L4", 121.0),
)
"""Dense bf16 tensor-core peaks from NVIDIA's data sheets, matched on the device name in this
order (first hit): H100 SXM and H200 989 TFLOP/s, H100 PCIe 756, H100 NVL 835."""


def bf16_peak(device_name: str) -> float | None:
    """The card's dense bf16 peak in TFLOP/s, or None where the name is not in the table."""
    upper = device_name.upper()
    for key, peak in BF16_DENSE_PEAK_TFLOPS:
        if key in upper:
            return peak
    return None


def decoder_weights(config: Mapping[str, Any]) -> int:
    """Weights that multiply every token in a Llama-style decoder: the layers and the LM head.

    Per layer: the query and output projections (``h x h`` each), the key and value ones
    (``h x kv_heads x head_dim`` each), the MLP (``3 x h x i``); then the LM head
    (``vocab x h``). Norms and the input embedding are left out (no products).
    """
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or hidden // heads)
    layer = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim
    layer += 3 * hidden * int(config["intermediate_size"])
    return int(config["num_hidden_layers"]) * layer + int(config["vocab_size"]) * hidden


def tflops(weights: int, tokens: int, seconds: float) -> float | None:
    """Achieved TFLOP/s of ``tokens`` forward-pass tokens in ``seconds`` (``2 x N x tokens``)."""
    if seconds <= 0:
        return None
    return 2 * weights * tokens / seconds / 1e12


def judge_figures(
    bench: Mapping[str, Any], weights: int, peak: float | None
) -> list[dict[str, Any]]:
    """One row per phase of a ``bench --json`` report: rates, TFLOP/s, share of peak, memory."""
    phases = [*bench.get("optimized", []), *([bench["naive"]] if bench.get("naive") else [])]
    rows = []
    for phase in phases:
        seconds = float(phase["seconds_measured"])
        achieved = tflops(weights, int(phase["tokens_computed"]), seconds)
        rows.append(
            {
                "phase": phase["name"],
                "questions": phase["questions"],
                "timed_on": phase.get("sample") or phase["questions"],
                "seconds_measured": seconds,
                "seconds_all_questions": phase["seconds_all_questions"],
                "questions_per_second": phase["questions_per_second"],
                "tokens_per_second": round(int(phase["tokens_computed"]) / seconds, 1)
                if seconds > 0
                else None,
                "tflops": None if achieved is None else round(achieved, 1),
                "share_of_peak": None
                if achieved is None or peak is None
                else round(achieved / peak, 4),
                "peak_memory_gib": round(int(phase["peak_memory_bytes"]) / 2**30, 2),
            }
        )
    return rows


def agreement_figures(bench: Mapping[str, Any]) -> dict[str, Any] | None:
    """Score mode against generate mode on the naive loop's sample: decisions (first answer
    token) and parsed answers alike."""
    agreement = bench.get("agreement")
    if not agreement:
        return None
    compared = int(agreement["compared"])
    return {
        "compared": compared,
        "same_decision": int(agreement["same_token"]),
        "same_parsed": int(agreement["same_parsed"]),
        "decisions_identical": int(agreement["same_token"]) == compared,
    }


def render_markdown(result: Mapping[str, Any]) -> str:
    """``gpu-figures.md``: the environment, one table per measured part, each step's command."""
    env = result.get("environment") or {}
    lines = [
        "# GPU figures",
        "",
        f"- device: {env.get('device', 'unknown')} (driver {env.get('driver') or 'unknown'})",
        f"- bf16 dense peak: {_peak_text(env.get('bf16_peak_tflops'))}",
        f"- python {env.get('python', '?')}, torch {env.get('torch', '?')} "
        f"(CUDA {env.get('cuda', '?')}), transformers {env.get('transformers', '?')}, "
        f"accelerate {env.get('accelerate', '?')}, bitsandbytes {env.get('bitsandbytes', '-')}, "
        f"open_clip {env.get('open_clip_torch', '-')}",
        f"- dry run: {'yes (CPU, tiny model; not figures of a GPU)' if result.get('dry_run') else 'no'}",
        "",
        *_headline_lines(result.get("headline")),
        "| step | status | seconds | limit |",
        "| --- | --- | ---: | ---: |",
    ]
    lines += [
        f"| {s['name']} | {s['status']} | {s['seconds']:.1f} | {s['timeout_s']} |"
        for s in result.get("steps", [])
    ]
    for step in result.get("steps", []):
        lines += ["", f"## {step['name']}", "", f"`{step['command']}`", ""]
        if step.get("note"):
            lines += [step["note"], ""]
        if step["status"] != "ok":
            lines += [f"**{step['status']}**: {step.get('error') or 'see gpu-check.log'}"]
            continue
        lines += _figure_lines(step.get("figures") or {})
    return "\n".join(lines) + "\n"


def _headline_lines(headline: Mapping[str, Any] | None) -> list[str]:
    if not headline:
        return []
    return [
        f"**All {headline['questions']:,} questions: {headline['optimized']} "
        f"{headline['optimized_seconds']:.1f} s; the naive loop "
        f"{headline['naive_seconds_extrapolated']:.0f} s (its rate on "
        f"{headline['naive_timed_on']} questions, extrapolated); speed-up "
        f"{headline['speed_up']}x.**",
        "",
    ]


def _figure_lines(figures: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    phases: Sequence[Mapping[str, Any]] = figures.get("phases") or []
    if phases:
        lines += [
            "| phase | questions (timed on) | s, all questions | questions/s | tokens/s "
            "| TFLOP/s | of bf16 peak | peak memory |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {p['phase']} | {p['questions']} ({p['timed_on']}) | "
            f"{p['seconds_all_questions']:.1f} | {p['questions_per_second']:.1f} | "
            f"{_num(p['tokens_per_second'])} | {_num(p['tflops'])} | "
            f"{_share(p['share_of_peak'])} | {p['peak_memory_gib']:.2f} GiB |"
            for p in phases
        ]
    if figures.get("speed_up") is not None:
        lines += ["", f"speed-up of the fastest optimized phase over the naive loop on these "
                      f"questions: {figures['speed_up']}x"]  # fmt: skip
    agreement = figures.get("agreement")
    if agreement:
        lines += [
            "",
            f"score mode vs generate mode on {agreement['compared']} questions: same decision "
            f"{agreement['same_decision']}/{agreement['compared']}, same parsed answer "
            f"{agreement['same_parsed']}/{agreement['compared']}",
        ]
    if "images_per_second" in figures:
        lines += [
            f"{figures['images']} images, {figures['regions']} regions: "
            f"{figures['images_per_second']} images/s, {figures['regions_per_second']} regions/s",
        ]
    if "versions" in figures:
        lines += [f"- {name}: {value}" for name, value in figures["versions"].items()]
    return lines


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _peak_text(peak: float | None) -> str:
    if peak is None:
        return "unknown for this device (no share of peak)"
    return f"{peak:g} TFLOP/s (data sheet)"
