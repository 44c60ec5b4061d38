"""Reading run folders (``results/<model>/<llm>-<hash>/``) for reports.

A report reads only the run folder: ``run.json`` (:class:`~amber_eval.run_folder.record.RunRecord`),
``metrics.json``, ``answers.jsonl`` (:class:`~amber_eval.run_folder.answer_line.AnswerLine`),
``coverage.jsonl`` and ``selected-captions.json``; a folder copied to another machine gives
the same report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError
from amber_eval.run_folder.files import METRICS_FILE, RUN_FILE, RunFiles
from amber_eval.run_folder.metrics import JudgeWarning, RunMetrics
from amber_eval.scoring.result import amber_score
from amber_eval.terms import BLOCK_ORDER, FRACTION_METRICS, QUESTION_BLOCKS, Rules, UnknownPolicy

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine
    from amber_eval.run_folder.coverage_line import CoverageLine
    from amber_eval.run_folder.record import RunRecord


BLOCKS = BLOCK_ORDER


def _read_json(path: Path) -> Any:
    from amber_eval.io import load_json, read_text

    if not path.exists():
        raise InputError(f"{path}: missing; is {path.parent} a finished run folder?")
    return load_json(read_text(path, "run file"), str(path))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if math.isnan(number) else number


@dataclass(frozen=True)
class RunData:
    """A run folder's record and scores (answers and coverage records are read on demand)."""

    path: Path
    record: RunRecord = field(repr=False)
    metrics: RunMetrics = field(repr=False)

    @property
    def model(self) -> str:
        return self.record.model

    @property
    def llm(self) -> str:
        value = self.record.config.llm
        # a local model folder or GGUF file: its name, not the whole path
        return Path(value).name if ("/" in value or "\\" in value) else value

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def default_label(self) -> str:
        if self.record.kind == "responses":  # the model answered itself: no judge to name
            return self.model
        return f"{self.model} + {self.llm}"

    def answers(self) -> list[AnswerLine]:
        from amber_eval.run_folder.answer_line import read_answer_lines

        return read_answer_lines(RunFiles(self.path).answers)

    def coverage_records(self, rules: Rules = "strict") -> list[CoverageLine]:
        """The run's description lines scored under ``rules`` (none without coverage)."""
        from amber_eval.run_folder.files import read_coverage_lines

        if not self.coverage_available:
            return []
        return read_coverage_lines(self.path, rules)

    def captions(self) -> dict[str, list[str]]:
        """Each image's selected captions, as the run's prompts listed them."""
        from amber_eval.run_folder.files import read_selected_captions

        return read_selected_captions(self.path)

    @property
    def coverage_available(self) -> bool:
        return self.metrics.coverage_available

    @property
    def coverage_reason(self) -> str | None:
        return self.metrics.coverage_reason

    def judge_warnings(self) -> list[JudgeWarning]:
        """The useless-judge alarm's warnings from ``metrics.json`` (empty when silent)."""
        return list(self.metrics.warnings)

    def values(self, rules: Rules, unknown: UnknownPolicy = "wrong") -> dict[str, float | None]:
        """Column key (``"overall.F1"``) -> value, for every metric the run has in ``rules``;
        ``unknown="exclude"`` takes the strict Yes/No blocks without the unparsed answers."""
        score = self.metrics.score(rules, where=str(self.path / METRICS_FILE))
        found = score.get("blocks", score)
        blocks = dict(found) if isinstance(found, Mapping) else {}
        amber = _number(score.get("AMBER"))
        if unknown == "exclude":
            blocks.update(self._unknown_excluded(rules, score))
            amber = None  # from the generative CHAIR and the overall F1 without them
        generative = self.metrics.coverage_score(rules)
        if generative is not None:
            # A judge run scores the questions only; its generative figures are the
            # captions' coverage, and the AMBER score combines them as the paper does.
            blocks["generative"] = generative.get("generative", generative)
        return metric_values(blocks, amber=amber)

    def _unknown_excluded(self, rules: Rules, score: Mapping[str, Any]) -> Mapping[str, Any]:
        from amber_eval.scoring.result import UNKNOWN_EXCLUDED

        if rules != "strict":
            raise InputError(
                "unparsed answers can be excluded from strict scores only: the official rules "
                "count every answer as the upstream scorer does (use --mode strict)"
            )
        blocks = score.get(UNKNOWN_EXCLUDED)
        if not any(name in score for name in QUESTION_BLOCKS):
            return {}  # no Yes/No answers: nothing to leave out
        if not isinstance(blocks, Mapping):
            raise InputError(
                f"{self.path / METRICS_FILE}: no strict {UNKNOWN_EXCLUDED!r} blocks (written by "
                "an older amber-eval); run the same command again to rescore it (its answers "
                "are reused)"
            )
        return blocks


def metric_values(
    blocks: Mapping[str, Any], *, amber: float | None = None
) -> dict[str, float | None]:
    """Column key (``"overall.F1"``) -> value of score blocks, as tables show them: fractions
    (the Yes-ratio, the parse-failure rate) as percentages, and ``score.AMBER`` (``amber``, else
    from the generative CHAIR and the overall F1). The run's figures and the bootstrap's
    resamples both go through here."""
    values: dict[str, float | None] = {}
    for block in BLOCKS:
        metrics = blocks.get(block)
        if isinstance(metrics, Mapping):
            for metric, value in metrics.items():
                number = _number(value)
                if metric in FRACTION_METRICS and number is not None:
                    number *= 100.0  # shown as percentages, like every other rate
                values[f"{block}.{metric}"] = number
    if amber is None:
        amber = amber_score(values.get("generative.CHAIR"), values.get("overall.F1"))
    values["score.AMBER"] = amber
    return values


def load_run(path: str | Path) -> RunData:
    from amber_eval.run_folder.record import read_run_record

    folder = Path(path)
    record = read_run_record(folder / RUN_FILE)
    if record.status != "success":
        # The folder's other files may be an earlier finished attempt of the same config:
        # they are kept, but never reported as this attempt's.
        how = (
            f"ended in error ({record.error})"
            if record.status == "error" and record.error
            else f"has not finished (status {record.status!r})"
        )
        raise InputError(
            f"{folder / RUN_FILE}: the last run in this folder {how}; any scores beside it are "
            "an earlier run's. Run the same command again to finish it (answers already "
            "stored are reused)."
        )
    metrics = RunMetrics.from_json(
        _read_json(folder / METRICS_FILE), where=str(folder / METRICS_FILE)
    )
    return RunData(path=folder, record=record, metrics=metrics)


def _finished_runs(folder: Path) -> list[Path]:
    """The finished runs (``<llm>-<hash>/`` with metrics.json and a run.json whose status is
    ``success``) of a model folder."""
    return sorted(
        child
        for child in folder.iterdir()
        if (child / METRICS_FILE).is_file() and _succeeded(child / RUN_FILE)
    )


def _succeeded(run_file: Path) -> bool:
    from amber_eval.run_folder.record import read_run_record

    if not run_file.is_file():
        return False
    try:
        return read_run_record(run_file).status == "success"
    except InputError:
        return True  # a foreign or damaged run.json: reading it later says what is wrong


def resolve_run_dirs(paths: Sequence[str | Path]) -> list[Path]:
    """Run folders from run folders, model folders (all their finished runs) or a results
    root (every finished run of every model, models in name order)."""
    found: list[Path] = []
    for given in paths:
        folder = Path(given)
        if (folder / RUN_FILE).is_file():
            found.append(folder)
            continue
        if not folder.is_dir():
            raise InputError(f"{folder}: no such run folder, model folder or results folder")
        runs = _finished_runs(folder)
        if not runs:  # a results root: <model>/<llm>-<hash>/
            models = sorted(child for child in folder.iterdir() if child.is_dir())
            runs = [run for model in models for run in _finished_runs(model)]
        if not runs:
            raise InputError(
                f"{folder}: neither a run folder (with run.json), nor a model folder holding "
                "finished runs (<llm>-<hash>/ with run.json and metrics.json), nor a results "
                "folder holding model folders"
            )
        found.extend(runs)
    unique: dict[Path, Path] = {}
    for folder in found:
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values())


def apply_names(runs: Sequence[RunData], names: Mapping[str, str]) -> list[str]:
    """The label of each run: ``names`` maps a run folder (path or its name) to a label."""
    labels = [run.default_label for run in runs]
    for key, label in names.items():
        target = Path(key).resolve()
        matched = [
            i for i, run in enumerate(runs) if run.path.resolve() == target or run.path.name == key
        ]
        if not matched:
            matched = [i for i, run in enumerate(runs) if run.path.resolve().parent == target]
        if not matched:
            raise InputError(
                f"--name {key}={label}: {key} is none of the reported runs "
                f"({', '.join(str(run.path) for run in runs)})"
            )
        for i in matched:
            labels[i] = label if len(matched) == 1 else f"{label} ({runs[i].llm})"
    return labels
