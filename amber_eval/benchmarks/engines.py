"""``amber-eval bench --backend vllm|openai``: an engine backend against the naive HF loop.

Both run on the same questions in one invocation. The naive loop (one greedy ``generate()``
per question in this process, the HF backend's reference protocol) runs first, on all
questions or an evenly spaced sample, and its model is freed before the engine judge is
loaded, so an in-process vLLM engine can take the GPU memory it wants. The engine judge then
answers every question in score mode. Answer agreement is counted on the questions both
answered.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from amber_eval.benchmarks.judge import (
    BenchReport,
    Phase,
    agreement,
    describe_phase,
    naive_phase,
)
from amber_eval.judge.base import Answer, Judge

if TYPE_CHECKING:
    from amber_eval.judge.hf import HFJudge
    from amber_eval.prompting import PromptRecord


def run_engine_bench(
    load_naive: Callable[[], HFJudge],
    load_engine: Callable[[], Judge],
    records: Sequence[PromptRecord],
    *,
    naive: bool = True,
    naive_sample: int | None = None,
    echo: Callable[[str], None] = print,
) -> tuple[BenchReport, float]:
    """The naive loop, then the engine judge; returns the report and the engine's load time."""
    naive_result: Phase | None = None
    chosen: list[int] = []
    slow: list[Answer] = []
    device = "engine"
    if naive:
        start = time.perf_counter()
        reference = load_naive()
        device = str(next(reference.model.parameters()).device)
        echo(f"naive loop: hf backend loaded in {time.perf_counter() - start:.1f} s on {device}")
        naive_result, chosen, slow = naive_phase(
            reference, records, naive_sample, name="naive loop (hf)"
        )
        del reference
        gc.collect()
        if device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
    start = time.perf_counter()
    engine = load_engine()
    loaded = time.perf_counter() - start
    identity = dict(engine.identity)
    echo(f"{identity.get('backend')} backend ready in {loaded:.1f} s")
    prompts = [r.prompt for r in records]
    groups = [r.image for r in records]
    start = time.perf_counter()
    fast = engine.answer(prompts, groups=groups)
    seconds = time.perf_counter() - start
    stats_of = getattr(engine, "run_stats", None)
    details: dict[str, Any] = stats_of() if callable(stats_of) else {}
    phase = Phase(
        name=f"{identity.get('backend')} backend (score)",
        questions=len(records),
        seconds=seconds,
        tokens_computed=0,
        peak_memory_bytes=0,
        details={"load_seconds": round(loaded, 2), **details},
    )
    echo(describe_engine_phase(phase))
    if naive_result is not None:
        echo(describe_phase(naive_result))
    compared = None
    if naive_result is not None:
        compared = agreement([records[i] for i in chosen], slow, [fast[i] for i in chosen])
    report = BenchReport(
        questions=len(records),
        images=len(set(groups)),
        device=device,
        identity=identity,
        naive=naive_result,
        optimized=[phase],
        agreement=compared,
        tokens_exact=True,
    )
    return report, loaded


def describe_engine_phase(phase: Phase) -> str:
    """The engine phase's line: questions, time, rate and the requests it made."""
    line = (
        f"{phase.name}: {phase.questions} questions, {phase.seconds:.2f} s, "
        f"{phase.rate:.2f} questions/s (load {phase.details.get('load_seconds', 0):.1f} s)"
    )
    if "retries" in phase.details:
        line += f"; retries {phase.details['retries']}, errors {phase.details.get('errors', 0)}"
    return line
