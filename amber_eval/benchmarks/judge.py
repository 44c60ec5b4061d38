"""The judge benchmark: the naive loop against the optimized judge, on the same questions.

Questions are AMBER's, with oracle captions, whole images in id order until at least ``N``
questions. (a) The naive loop is one greedy ``generate()`` per question (batch 1,
``do_sample=False``, the judge's ``max_new_tokens``), optionally timed on an evenly spaced sample and
extrapolated. (b) The optimized judge is ``score`` mode (shared prefixes, token-budget batches).
Both use the same loaded model.
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amber_eval.judge.base import Answer
from amber_eval.judge.batching import Row, common_prefix_length, split_row

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark
    from amber_eval.judge.hf import HFJudge
    from amber_eval.prompting import PromptRecord


def oracle_records(
    benchmark: Benchmark, questions: int | None, *, template: str = "paper"
) -> list[PromptRecord]:
    """Prompts with oracle captions for whole images in id order until ``questions`` (all: None)."""
    from amber_eval.captions.selection import select_captions
    from amber_eval.captions.sources import ORACLE, load_captions
    from amber_eval.prompting import render_prompts

    images: list[str] = []
    count = 0
    for image in benchmark.images:
        if questions is not None and count >= questions:
            break
        asked = len(benchmark.questions_by_image.get(image, ()))
        if asked:
            images.append(image)
            count += asked
    captions = select_captions(load_captions(ORACLE, benchmark).dump)
    return render_prompts(benchmark, captions, template=template, images=images)


def expected_tokens(
    token_ids: Sequence[Sequence[int]],
    groups: Sequence[str],
    *,
    batch_tokens: int | None = None,
    strategy: str = "cache",
) -> tuple[int, int]:
    """(unique prefix tokens, suffix tokens): per image the longest common token prefix once
    (each prompt keeps at least its last token), then each prompt's rest plus the probe.

    With ``batch_tokens``, an image whose prompts do not fit the budget together computes
    its prefix once per piece it is split into (:func:`amber_eval.judge.batching.split_row`).
    """
    members: dict[str, list[Sequence[int]]] = {}
    for ids, group in zip(token_ids, groups, strict=True):
        members.setdefault(group, []).append(ids)
    prefix = suffix = 0
    for sequences in members.values():
        shared = min(common_prefix_length(sequences), min(len(s) for s in sequences) - 1)
        pieces = 1
        if batch_tokens is not None:
            row = Row(
                prefix=tuple(sequences[0][:shared]),
                items=tuple((i, (0,) * (len(s) - shared + 1)) for i, s in enumerate(sequences)),
            )
            pieces = len(split_row(row, batch_tokens, strategy))
        prefix += shared * pieces
        suffix += sum(len(s) - shared + 1 for s in sequences)
    return prefix, suffix


@dataclass
class Phase:
    """One timed phase."""

    name: str
    questions: int
    seconds: float
    tokens_computed: int
    peak_memory_bytes: int
    extrapolated_from: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        base = self.extrapolated_from or self.questions
        return base / self.seconds if self.seconds > 0 else float("inf")

    @property
    def total_seconds(self) -> float:
        """Time for all questions (extrapolated from the sample when there is one)."""
        return self.questions / self.rate

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "questions": self.questions,
            "sample": self.extrapolated_from,
            "seconds_measured": round(self.seconds, 3),
            "seconds_all_questions": round(self.total_seconds, 3),
            "questions_per_second": round(self.rate, 3),
            "tokens_computed": self.tokens_computed,
            "peak_memory_bytes": self.peak_memory_bytes,
            **self.details,
        }


@dataclass
class Agreement:
    """Parsed answers and first tokens of the two modes on the questions both answered."""

    compared: int
    same_parsed: int
    same_token: int
    per_class: dict[str, dict[str, int]]

    def to_json(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "same_parsed": self.same_parsed,
            "same_token": self.same_token,
            "per_class": self.per_class,
        }


def agreement(
    records: Sequence[PromptRecord],
    naive: Sequence[Answer],
    fast: Sequence[Answer],
) -> Agreement:
    """Counts per truth class and per dimension: n, agreeing, and each mode's yes/no/unknown."""
    per_class: dict[str, Counter[str]] = {}
    same_parsed = same_token = 0
    for record, slow, quick in zip(records, naive, fast, strict=True):
        same = slow.parsed == quick.parsed
        same_parsed += same
        same_token += slow.token == quick.token
        for key in (f"truth={record.truth}", f"dimension={record.dimension}"):
            counts = per_class.setdefault(key, Counter())
            counts["n"] += 1
            counts["agree"] += same
            counts[f"generate_{slow.parsed}"] += 1
            counts[f"score_{quick.parsed}"] += 1
    return Agreement(
        compared=len(naive),
        same_parsed=same_parsed,
        same_token=same_token,
        per_class={key: dict(counts) for key, counts in sorted(per_class.items())},
    )


def _peak_memory(device: str) -> int:
    """Peak CUDA memory allocated since the last reset, or the process's peak RSS on CPU."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.max_memory_allocated())
    scale = 1 if sys.platform == "darwin" else 1024
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * scale


def _reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def sample_indices(total: int, sample: int | None) -> list[int]:
    """Evenly spaced indices (all when ``sample`` is None or not smaller than ``total``)."""
    if sample is None or sample >= total:
        return list(range(total))
    step = total / sample
    return sorted({int(i * step) for i in range(sample)})


@dataclass
class BenchReport:
    questions: int
    images: int
    device: str
    identity: dict[str, Any]
    naive: Phase | None
    optimized: list[Phase]
    agreement: Agreement | None
    tokens_exact: bool

    @property
    def best(self) -> Phase:
        return min(self.optimized, key=lambda phase: phase.total_seconds)

    @property
    def speed_up(self) -> float | None:
        if self.naive is None:
            return None
        return self.naive.total_seconds / self.best.total_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "images": self.images,
            "device": self.device,
            "judge": self.identity,
            "naive": None if self.naive is None else self.naive.to_json(),
            "optimized": [phase.to_json() for phase in self.optimized],
            "best": self.best.name,
            "agreement": None if self.agreement is None else self.agreement.to_json(),
            "tokens_computed_equal_unique_prefix_plus_suffix": self.tokens_exact,
            "speed_up": None if self.speed_up is None else round(self.speed_up, 2),
        }


def naive_phase(
    judge: HFJudge,
    records: Sequence[PromptRecord],
    naive_sample: int | None,
    *,
    name: str = "naive loop",
    progress: Callable[[], Any] | None = None,
) -> tuple[Phase, list[int], list[Answer]]:
    """Time one greedy ``generate()`` per (sampled) question: the reference protocol.

    Returns the phase, the indices of the questions it answered and their answers."""
    from amber_eval.judge.batching import ForwardStats

    device = str(next(judge.model.parameters()).device)
    generator = judge.with_mode("generate")
    generator.stats = ForwardStats()
    chosen = sample_indices(len(records), naive_sample)
    _reset_peak(device)
    start = time.perf_counter()
    answers: list[Answer] = []
    for index in chosen:
        answers.extend(generator.answer([records[index].prompt]))
        if progress is not None:
            progress()
    _sync(device)
    seconds = time.perf_counter() - start
    phase = Phase(
        name=name,
        questions=len(records),
        seconds=seconds,
        tokens_computed=generator.stats.tokens_computed,
        peak_memory_bytes=_peak_memory(device),
        extrapolated_from=len(chosen) if len(chosen) < len(records) else None,
        details={"max_new_tokens": generator.max_new_tokens, "do_sample": False},
    )
    return phase, chosen, answers


def run_bench(
    judge: HFJudge,
    records: Sequence[PromptRecord],
    *,
    naive: bool = True,
    naive_sample: int | None = None,
    strategies: Sequence[str] = ("cache",),
    repeats: int = 1,
    echo: Callable[[str], None] = print,
    progress: Callable[[int, str], Any] | None = None,
) -> BenchReport:
    """Time the naive loop and the optimized judge (one phase per strategy) on ``records``.

    With ``repeats`` > 1 the strategies run that many times, interleaved, half of the rounds
    before the naive loop and half after it, and each keeps its fastest run: on a shared
    machine the load changes during a run, and this way it hits both sides.
    """
    from amber_eval.judge.batching import ForwardStats

    device = str(next(judge.model.parameters()).device)
    prompts = [r.prompt for r in records]
    groups = [r.image for r in records]
    token_ids = [judge.encode(p) for p in prompts]

    best: dict[str, Phase] = {}
    fast_answers: list[Answer] = []
    tokens_exact = True

    def timed_round(_round: int) -> None:
        nonlocal fast_answers, tokens_exact
        for strategy in strategies:
            scorer = judge.with_mode("score", strategy=strategy)
            if device.startswith("cuda"):  # one warm-up batch: CUDA context and kernels
                scorer.answer(prompts[: min(len(prompts), 32)], groups=groups[:32])
            scorer.stats = ForwardStats()
            _reset_peak(device)
            start = time.perf_counter()
            answers = scorer.answer(prompts, groups=groups)
            _sync(device)
            seconds = time.perf_counter() - start
            stats = scorer.stats
            unique_prefix, suffix = expected_tokens(
                token_ids, groups, batch_tokens=scorer.batch_tokens, strategy=strategy
            )
            exact = stats.prefix_tokens == unique_prefix and stats.suffix_tokens == suffix
            tokens_exact = tokens_exact and exact
            phase = Phase(
                name=f"optimized ({strategy})",
                questions=len(prompts),
                seconds=seconds,
                tokens_computed=stats.tokens_computed,
                peak_memory_bytes=_peak_memory(device),
                details={
                    **stats.to_json(),
                    "strategy": strategy,
                    "batch_tokens": scorer.batch_tokens,
                    "expected_prefix_tokens": unique_prefix,
                    "expected_suffix_tokens": suffix,
                    "tokens_exact": exact,
                    "repeats": max(1, repeats),
                },
            )
            if repeats > 1:
                echo(f"  round {_round + 1}: {strategy} {seconds:.2f} s")
            if strategy not in best or seconds < best[strategy].seconds:
                best[strategy] = phase
            if not fast_answers:
                fast_answers = answers
            elif [a.token for a in answers] != [a.token for a in fast_answers]:
                raise RuntimeError(f"strategy {strategy} decided other tokens than the first run")

    rounds = max(1, repeats)
    before = (rounds + 1) // 2 if naive else rounds
    for index in range(before):
        timed_round(index)
    naive_result: Phase | None = None
    compared = None
    slow_answers: list[Answer] = []
    chosen: list[int] = []
    if naive:
        naive_result, chosen, slow_answers = naive_phase(
            judge,
            records,
            naive_sample,
            progress=None if progress is None else (lambda: progress(1, "naive")),
        )
        if naive_result.extrapolated_from:
            scale = len(prompts) / len(chosen)
            naive_result.details["tokens_computed_extrapolated"] = round(
                naive_result.tokens_computed * scale
            )
    for index in range(before, rounds):  # the rest after the naive loop: load changes hit both
        timed_round(index)
    optimized = [best[strategy] for strategy in strategies]
    for phase in optimized:
        echo(describe_phase(phase))
    if naive_result is not None:
        echo(describe_phase(naive_result))
        compared = agreement(
            [records[i] for i in chosen], slow_answers, [fast_answers[i] for i in chosen]
        )
    return BenchReport(
        questions=len(prompts),
        images=len(set(groups)),
        device=device,
        identity=judge.identity,
        naive=naive_result,
        optimized=optimized,
        agreement=compared,
        tokens_exact=tokens_exact,
    )


def _memory(value: int) -> str:
    return f"{value / 2**30:.2f} GiB"


def describe_phase(phase: Phase) -> str:
    sample = ""
    if phase.extrapolated_from:
        sample = (
            f" (timed on {phase.extrapolated_from}, extrapolated to {phase.questions}: "
            f"{phase.total_seconds:.1f} s)"
        )
    line = (
        f"{phase.name}: {phase.questions} questions, {phase.seconds:.2f} s{sample}, "
        f"{phase.rate:.2f} questions/s, tokens computed {phase.tokens_computed:,}, "
        f"peak memory {_memory(phase.peak_memory_bytes)}"
    )
    details = phase.details
    if "expected_prefix_tokens" in details:
        line += (
            f"\n  tokens computed {phase.tokens_computed:,} = prefix {details['prefix_tokens']:,}"
            f" + suffix {details['suffix_tokens']:,}; unique prefix + suffix by hand: "
            f"{details['expected_prefix_tokens']:,} + {details['expected_suffix_tokens']:,} -> "
            f"{'exact' if details['tokens_exact'] else 'MISMATCH'}; without sharing "
            f"{details['prompt_tokens_with_probe']:,}; padding {details['padded_tokens']:,}; "
            f"{details['batches']} batches of <= {details['batch_tokens']} tokens"
        )
    return line


def describe_report(report: BenchReport) -> list[str]:
    """The summary lines; the last one is ``speed-up <ratio>x``."""
    lines = []
    if report.agreement is not None:
        agree = report.agreement
        lines.append(
            f"answer agreement (generate vs score): parsed {agree.same_parsed}/{agree.compared}"
            f", first token {agree.same_token}/{agree.compared}"
        )
        for key, counts in agree.per_class.items():
            generated = "/".join(str(counts.get(f"generate_{p}", 0)) for p in PARSED)
            scored = "/".join(str(counts.get(f"score_{p}", 0)) for p in PARSED)
            lines.append(
                f"  {key}: n={counts['n']} agree={counts['agree']} "
                f"generate yes/no/unknown={generated} score yes/no/unknown={scored}"
            )
    if len(report.optimized) > 1:
        lines.append(f"fastest optimized strategy: {report.best.name}")
    if report.speed_up is not None:
        lines.append(f"speed-up {report.speed_up:.1f}x")
    return lines


PARSED = ("yes", "no", "unknown")
