"""The tables ``amber-eval run`` prints: strict (with the always-"No" line) and official."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from amber_eval.run_folder.metrics import warnings_of
from amber_eval.runs.judge_alarm import alarm_text
from amber_eval.terms import DISCRIMINATIVE_METRICS, QUESTION_BLOCKS

BLOCKS = QUESTION_BLOCKS
STRICT_METRICS = (*DISCRIMINATIVE_METRICS, "yes_ratio", "parse_failure_rate", "n")
OFFICIAL_METRICS = DISCRIMINATIVE_METRICS


def _blocks(score: Mapping[str, Any]) -> Mapping[str, Any]:
    blocks = score.get("blocks", score)
    return blocks if isinstance(blocks, Mapping) else {}


def _cell(value: Any, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}" if metric.endswith(("_ratio", "_rate")) else f"{value:.1f}"
    return str(value)


def format_table(
    title: str, rows: Sequence[tuple[str, Mapping[str, Any]]], metrics: Sequence[str]
) -> str:
    """A plain-text table: one row per (label, block name) found, one column per metric."""
    header = ["", "block", *metrics]
    lines: list[list[str]] = []
    for label, score in rows:
        blocks = _blocks(score)
        for name in BLOCKS:
            block = blocks.get(name)
            if isinstance(block, Mapping):
                lines.append([label, name, *(_cell(block.get(m), m) for m in metrics)])
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    out = [title]
    out.append(
        "  ".join(
            h.ljust(w) if i < 2 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for row in lines:
        out.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(out)


def format_metrics(metrics: Mapping[str, Any], *, label: str = "run") -> str:
    """Strict (this run, then the always-"No" baseline) and official tables of ``metrics.json``."""
    parts = []
    strict = metrics.get("strict")
    if isinstance(strict, Mapping):
        rows: list[tuple[str, Mapping[str, Any]]] = [(label, strict)]
        always_no = strict.get("always_no")
        if isinstance(always_no, Mapping):
            rows.append(('always "No"', always_no))
        amber = strict.get("AMBER")
        title = "strict" + (f" (AMBER score {_cell(amber)})" if amber is not None else "")
        parts.append(format_table(title, rows, STRICT_METRICS))
    official = metrics.get("official")
    if isinstance(official, Mapping):
        parts.append(
            format_table("official (upstream rules)", [(label, official)], OFFICIAL_METRICS)
        )
    coverage = metrics.get("coverage")
    if isinstance(coverage, Mapping) and coverage.get("available") is False:
        parts.append(f"caption coverage: not available ({coverage.get('reason')})")
    elif isinstance(coverage, Mapping):
        block = _blocks(coverage.get("strict") or {}).get("generative") or coverage.get("strict")
        if isinstance(block, Mapping):
            cells = ", ".join(
                f"{k} {_cell(block.get(k))}" for k in ("CHAIR", "Cover", "Hal", "Cog")
            )
            parts.append(f"caption coverage (strict): {cells}")
    return "\n\n".join(parts)


def format_summary(result: Any) -> str:
    """What ``amber-eval run`` prints at the end: where the run is, counts, then the tables."""
    head = (
        f"run folder: {result.folder}\n"
        f"questions: {result.questions} on {result.images} images; answered by the model now: "
        f"{result.computed}; from stored answers: {result.reused}"
    )
    if len(result.per_rank) > 1:
        head += f"\nper process: {', '.join(str(n) for n in result.per_rank)}"
    requests = getattr(result, "judge_requests", None)
    if requests:
        from amber_eval.judge.engine import describe_requests

        head += "\n" + describe_requests(requests)
    text = head + "\n\n" + format_metrics(result.metrics)
    alarm = alarm_text(warnings_of(result.metrics))
    return text + "\n\n" + alarm if alarm else text
