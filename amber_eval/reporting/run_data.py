"""Reading run folders (``results/<model>/<llm>-<hash>/``) for reports.

A report reads only the run folder: ``run.json`` (:class:`~amber_eval.run_folder.record.RunRecord`),
``metrics.json``, ``answers.jsonl`` (:class:`~amber_eval.run_folder.answer_line.AnswerLine`),
``coverage.jsonl`` and ``selected-captions.json``; a folder copied to another machine gives
the same report.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.errors import InputError
from amber_eval.reporting.metric_values import metric_values, number_or_none
from amber_eval.run_folder.files import METRICS_FILE, RUN_FILE, RunFiles
from amber_eval.run_folder.metrics import JudgeWarning, RunMetrics
from amber_eval.terms import QUESTION_BLOCKS, Rules, UnknownPolicy

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine
    from amber_eval.run_folder.coverage_line import CoverageLine
    from amber_eval.run_folder.record import RunRecord


def _read_json(path: Path) -> Any:
    from amber_eval.io import load_json, read_text

    if not path.exists():
        raise InputError(f"{path}: missing; is {path.parent} a finished run folder?")
    return load_json(read_text(path, "run file"), str(path))


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
        """The run's answer lines, each question once (see
        :func:`amber_eval.run_folder.answer_line.read_finished_answers`)."""
        return list(self._answer_lines)

    @functools.cached_property
    def _answer_lines(self) -> list[AnswerLine]:
        from amber_eval.run_folder.answer_line import read_finished_answers

        return read_finished_answers(RunFiles(self.path).answers, questions=self.record.questions)

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

    @property
    def images(self) -> int | None:
        """The images the run covers (from ``run.json``)."""
        return self.record.images

    @property
    def questions(self) -> int | None:
        """The Yes/No questions the run judged (from ``run.json``)."""
        return self.record.questions

    @property
    def scope(self) -> str:
        """``"1004 images, 14216 questions"`` (what the run covers; ``?`` when not recorded)."""
        images = "?" if self.images is None else str(self.images)
        questions = "?" if self.questions is None else str(self.questions)
        return f"{images} images, {questions} questions"

    @property
    def spacy_pipeline(self) -> Mapping[str, Any] | None:
        """The spaCy pipeline of the run's generative metrics (``name``, ``version``,
        ``vectors``, ``sha256``), when the run recorded it."""
        coverage = self.metrics.coverage
        found = coverage.get("spacy_pipeline") if isinstance(coverage, Mapping) else None
        if isinstance(found, Mapping):
            return found
        return self.record.spacy_pipeline

    def judge_warnings(self) -> list[JudgeWarning]:
        """The useless-judge alarm's warnings from ``metrics.json`` (empty when silent)."""
        return list(self.metrics.warnings)

    def values(self, rules: Rules, unknown: UnknownPolicy = "wrong") -> dict[str, float | None]:
        """Column key (``"overall.F1"``) -> value, for every metric the run has in ``rules``;
        ``unknown="exclude"`` takes the strict Yes/No blocks without the unparsed answers."""
        score = self.metrics.score(rules, where=str(self.path / METRICS_FILE))
        found = score.get("blocks", score)
        blocks = dict(found) if isinstance(found, Mapping) else {}
        amber = number_or_none(score.get("AMBER"))
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
    run = RunData(path=folder, record=record, metrics=metrics)
    verify_metrics(run)
    return run


# how far metrics.json may be from the figure recomputed here: the official rules round to one
# decimal as the official script does
_SHOWN: dict[str, float] = {"strict": 1e-6, "official": 0.05 + 1e-6}


def verify_metrics(run: RunData) -> None:
    """Check ``metrics.json`` against ``answers.jsonl``: every question figure (both rule
    sets) recomputed from the answers through scoring's aggregation, and the useless-judge
    alarm. A figure or a warning that differs means the file was edited or is another run's:
    an :class:`InputError` naming the figure, never a table showing it. (A folder without
    ``answers.jsonl`` has nothing to check against: its figures are shown as they are, and
    whatever needs the answers, such as intervals, refuses it.)"""
    if not RunFiles(run.path).answers.exists():
        return
    from amber_eval.reporting.bootstrap import image_counts, metrics_from_sums
    from amber_eval.runs.judge_alarm import judge_warnings

    where = run.path / METRICS_FILE
    answers = run.answers()
    rule_sets: tuple[Rules, ...] = ("strict", "official")
    for rules in rule_sets:
        if (run.metrics.strict if rules == "strict" else run.metrics.official) is None:
            continue
        stated = run.values(rules)
        counts = image_counts(answers, rules=rules)
        for key, values in metrics_from_sums(counts.counts.sum(axis=0), rules=rules).items():
            if key.startswith(("generative.", "score.")) or key not in stated:
                continue
            value = float(values)
            found = stated[key]
            same = (
                math.isnan(value)
                if found is None
                else math.isclose(found, value, rel_tol=1e-6, abs_tol=_SHOWN[rules])
            )
            if not same:
                raise InputError(
                    f"{where}: {rules} {key} is {found}, but the run's answers.jsonl gives "
                    f"{value:.6g}: the file was edited or belongs to another run; run the same "
                    "command again to rewrite it"
                )
    stated_kinds = sorted(f"{w.code} ({w.block})" for w in run.judge_warnings())
    # a response file's model answered itself: there is no judge to raise the alarm about
    raised = [] if run.record.kind == "responses" else judge_warnings(answers)
    found_kinds = sorted(f"{w.code} ({w.block})" for w in raised)
    if stated_kinds != found_kinds:
        raise InputError(
            f"{where}: its judge warnings ({', '.join(stated_kinds) or 'none'}) are not the "
            f"ones the run's answers.jsonl raises ({', '.join(found_kinds) or 'none'}): the "
            "file was edited or belongs to another run; run the same command again"
        )


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


def unique_labels(runs: Sequence[RunData]) -> list[str]:
    """Each run's default label, made unique where runs share one: the image and question
    counts are added where they tell the runs apart, else the run folder's name."""
    labels = [run.default_label for run in runs]
    for label in set(labels):
        same = [i for i, other in enumerate(labels) if other == label]
        if len(same) < 2:
            continue
        counts = [runs[i].scope for i in same]
        for i, scope in zip(same, counts, strict=True):
            told_apart = counts.count(scope) == 1
            labels[i] = f"{label} ({scope})" if told_apart else f"{label} ({runs[i].path.name})"
    return labels


def apply_names(runs: Sequence[RunData], names: Mapping[str, str]) -> list[str]:
    """The label of each run: ``names`` maps a run folder (path or its name) to a label; other
    runs get their default label, made unique (:func:`unique_labels`)."""
    labels = unique_labels(runs)
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
