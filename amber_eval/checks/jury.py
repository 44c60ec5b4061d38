"""``amber-eval jury``: a run folder whose answer to each question is the majority of several
runs' answers.

Each member run votes with its strict reading of its answer (``yes``, ``no`` or ``unknown``).
An unparsed answer abstains. The verdict is the answer with more votes; when Yes and No have as
many votes, the ``tie`` rule decides (``unknown`` by default: no majority, which the strict
rules count as an unparsed answer, i.e. wrong, or excluded under ``--unknown exclude``); when
every member's answer is unparsed the verdict is ``unknown`` whatever the tie rule. The jury's
P(yes) is the mean of the members' P(yes) where all have one. The folder is scored like any
run (``metrics.json`` through :func:`amber_eval.runs.scores.judged_metrics`), its tables are
written, and every report reads it; ``run.json``'s ``jury`` field names the member runs.

The members' caption coverage is carried when all of them selected the same captions (the
same caption dump and selection); otherwise the folder says coverage is not available.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from amber_eval import __version__
from amber_eval.captions.records import now_iso
from amber_eval.errors import InputError
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.terms import AnswerLabel

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark
    from amber_eval.reporting.run_data import RunData

TieRule = Literal["unknown", "no", "yes"]
TIE_RULES: tuple[TieRule, ...] = ("unknown", "no", "yes")
JURY_LLM = "jury"


def majority(readings: Sequence[AnswerLabel], tie: TieRule = "unknown") -> AnswerLabel:
    """The verdict of the members' readings: the decision with more votes; unparsed answers
    abstain; ``tie`` decides equal votes; all unparsed is ``unknown``.

    >>> majority(["yes", "no", "yes"]), majority(["yes", "no"]), majority(["yes", "no"], "no")
    ('yes', 'unknown', 'no')
    >>> majority(["unknown", "unknown", "no"]), majority(["unknown", "unknown"], "no")
    ('no', 'unknown')
    """
    yes = sum(reading == "yes" for reading in readings)
    no = sum(reading == "no" for reading in readings)
    if yes > no:
        return "yes"
    if no > yes:
        return "no"
    return "unknown" if yes == 0 else tie


def verdict_line(members: Sequence[AnswerLine], tie: TieRule = "unknown") -> AnswerLine:
    """The jury's answer line for one question answered by every member (the first member's
    prompt; the decision ``Yes``/``No``, or a note of the votes when there is no majority, worded
    so that neither grammar reads it as an answer)."""
    first = members[0]
    parsed = majority([line.parsed for line in members], tie)
    votes = {label: sum(line.parsed == label for line in members) for label in ("yes", "no")}
    unparsed = len(members) - votes["yes"] - votes["no"]
    if parsed == "yes":
        answer = "Yes"
    elif parsed == "no":
        answer = "No"
    else:
        answer = f"jury without majority: {votes['yes']} yes, {votes['no']} no, {unparsed} unparsed"
    p_yes = [line.p_yes for line in members if line.p_yes is not None]
    return AnswerLine(
        id=first.id,
        image=first.image,
        dimension=first.dimension,
        truth=first.truth,
        prompt=first.prompt,
        answer=answer,
        parsed=parsed,
        p_yes=statistics.fmean(p_yes) if len(p_yes) == len(members) else None,
        flagged=any(line.flagged for line in members),
    )


@dataclass(frozen=True)
class JuryResult:
    folder: Path
    members: tuple[str, ...]
    """The member run folders, in the order given."""
    questions: int
    images: int
    ties: int
    """Questions whose Yes and No votes were equal (decided by the tie rule)."""
    no_verdict: int
    """Questions whose verdict is ``unknown`` (a tie under the ``unknown`` rule, or every
    member's answer unparsed)."""
    metrics: Mapping[str, Any]
    note: str | None = None
    """What was left out when the runs judged different questions (only the shared ones are
    voted on, as ``agree`` and ``compare`` take them)."""


def _tied(readings: Sequence[str]) -> bool:
    yes = readings.count("yes")
    return yes > 0 and yes == readings.count("no")


def jury_hash(runs: Sequence[RunData], tie: TieRule, model: str) -> str:
    """The digest naming the jury folder: the members' config hashes, the tie rule, the model."""
    from amber_eval import __version__
    from amber_eval.io import canonical_json

    key = {
        "members": [run.record.config_hash for run in runs],
        "tie": tie,
        "model": model,
        "version": __version__,
    }
    return hashlib.sha256(canonical_json(key).encode("utf-8")).hexdigest()


def _model(runs: Sequence[RunData], model: str | None) -> str:
    if model:
        return model
    models = sorted({run.model for run in runs})
    if len(models) > 1:
        raise InputError(
            f"the runs are of different caption models ({', '.join(models)}); name the jury's "
            "model folder with --model NAME"
        )
    return models[0]


def _carried_coverage(runs: Sequence[RunData]) -> tuple[dict[str, Any], Path | None]:
    """The members' coverage block and the file to copy, when all selected the same captions."""
    from amber_eval.run_folder.files import COVERAGE_FILE

    first = runs[0]
    captions = first.captions()
    if any(run.captions() != captions for run in runs[1:]):
        return {
            "available": False,
            "reason": "the jury's members judged different captions",
        }, None
    coverage = first.metrics.coverage
    if not isinstance(coverage, Mapping):
        return {"available": False, "reason": "the members have no coverage block"}, None
    source = first.path / COVERAGE_FILE
    return dict(coverage), (source if source.is_file() else None)


def make_jury(
    runs: Sequence[RunData],
    *,
    out: str | Path = "results",
    labels: Sequence[str] | None = None,
    tie: TieRule = "unknown",
    model: str | None = None,
    benchmark: Benchmark | None = None,
    write_tables: bool = True,
) -> JuryResult:
    """Write ``<out>/<model>/jury-<hash>/`` from two or more runs over the same questions."""
    from amber_eval.checks.agreement_report import shared_answer_sets
    from amber_eval.io import atomic_write_text, read_text
    from amber_eval.reporting.cautions import left_out_note
    from amber_eval.run_folder.files import (
        RunFiles,
        check_writable,
        run_dir,
        run_lock,
        write_json,
        write_jsonl,
        write_responses,
        write_run_record,
        write_selected_captions,
    )
    from amber_eval.run_folder.record import RunRecord
    from amber_eval.runs.scores import judged_metrics

    if len(runs) < 2:
        raise InputError(f"a jury needs at least two runs, found {len(runs)}")
    if tie not in TIE_RULES:
        raise InputError(f"unknown tie rule {tie!r}: use one of {', '.join(TIE_RULES)}")
    names = list(labels) if labels is not None else [run.default_label for run in runs]
    answers, left_out = shared_answer_sets(runs, names)
    ids = sorted(answers[0])
    lines = [verdict_line([member[i] for member in answers], tie) for i in ids]
    ties = sum(1 for i in ids if _tied([member[i].parsed for member in answers]))
    if benchmark is None:
        from amber_eval.data import load_benchmark

        benchmark = load_benchmark()
    name = _model(runs, model)
    digest = jury_hash(runs, tie, name)
    folder = run_dir(Path(out), name, JURY_LLM, digest)
    members = tuple(str(run.path) for run in runs)
    record = RunRecord(
        config=replace(runs[0].record.config, llm=JURY_LLM, out=Path(out), model=name),
        model=name,
        config_hash=digest,
        version=__version__,
        images=len({line.image for line in lines}),
        questions=len(lines),
        first_started=now_iso(),
        started=now_iso(),
        kind="jury",
        jury={
            "members": [
                {"folder": path, "label": label, "config_hash": run.record.config_hash}
                for path, label, run in zip(members, names, runs, strict=True)
            ],
            "tie": tie,
        },
    )
    complete = len(lines) == len(benchmark.questions)
    coverage, coverage_file = _carried_coverage(runs)
    # scored before anything is written
    metrics = judged_metrics(benchmark, lines, coverage=coverage, complete=complete).to_json()
    check_writable(folder)
    files = RunFiles(folder)
    with run_lock(folder):
        write_run_record(files.run, record)
        write_jsonl(files.answers, [line.to_json() for line in lines])
        write_responses(files.responses, lines)
        if coverage_file is not None:  # the members selected the same captions
            write_selected_captions(files.captions, runs[0].captions())
            atomic_write_text(files.coverage, read_text(coverage_file, "coverage"))
        write_json(files.metrics, metrics)
        write_run_record(files.run, record.replace(status="success", ended=now_iso()))
    if write_tables:
        from amber_eval.reporting import write_run_report, write_run_tables

        write_run_tables(folder)
        write_run_report(folder)
    return JuryResult(
        folder=folder,
        members=members,
        questions=len(lines),
        images=record.images or 0,
        ties=ties,
        no_verdict=sum(line.parsed == "unknown" for line in lines),
        metrics=metrics,
        note=left_out_note("questions", left_out, names),
    )
