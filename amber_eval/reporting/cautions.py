"""What a reader of a comparison of runs must know first: the judges differ, a judge raised the
useless-judge alarm, the runs cover different questions. ``compare`` and ``agree`` print the
same sentences."""

from __future__ import annotations

from collections.abc import Sequence

from amber_eval.reporting.run_data import RunData


def judge_notes(runs: Sequence[RunData], labels: Sequence[str]) -> list[str]:
    """A line when the runs were judged by different judges, one per run that raised the alarm."""
    notes = []
    identities = [_judge(run) for run in runs]
    if any(identity != identities[0] for identity in identities[1:]):
        names = [_judge_name(run) for run in runs]
        if len(set(names)) < len(names):  # the same name, other settings: show the identity
            names = [
                name if not isinstance(identity, dict) else f"{name} {_short(identity)}"
                for name, identity in zip(names, identities, strict=True)
            ]
        judges = "; ".join(f"{label}: {name}" for label, name in zip(labels, names, strict=True))
        notes.append(
            f"The judges differ ({judges}): a difference mixes the models' and the judges' effects."
        )
    for run, label in zip(runs, labels, strict=True):
        warnings = run.judge_warnings()
        if warnings:
            notes.append(
                f"{label} raised the useless-judge alarm ({warnings[0].short}"
                f"{'; ...' if len(warnings) > 1 else ''}): its figures are the judge's bias, "
                "not the model's."
            )
    return notes


def left_out_note(what: str, left_out: Sequence[int], labels: Sequence[str]) -> str | None:
    """``Only the shared questions are compared: ...`` when some run had more, else None."""
    if not any(left_out):
        return None
    parts = [f"{n} only in {label}" for n, label in zip(left_out, labels, strict=True) if n]
    return f"Only the shared {what} are compared; left out: {', '.join(parts)}."


def _judge(run: RunData) -> object:
    """Who answered the Yes/No questions: the judge's identity, or the model itself (a scored
    response file: every such run is its own judge, so two of them do not differ in judge)."""
    if run.record.kind != "judge":
        return "the model itself"
    fingerprint = run.record.fingerprint
    return None if fingerprint is None else dict(fingerprint.judge_identity)


def _judge_name(run: RunData) -> str:
    return run.llm if run.record.kind == "judge" else "the model itself"


def _short(identity: dict[str, object]) -> str:
    """The identity's fields as ``key=value``, the model first (what tells two judges apart)."""
    shown = {k: v for k, v in identity.items() if v is not None}
    model = shown.pop("model", None)
    parts = ([f"model={model}"] if model is not None else []) + [
        f"{k}={v}" for k, v in sorted(shown.items()) if isinstance(v, str | int | float)
    ]
    return "(" + ", ".join(parts[:4]) + ")"
