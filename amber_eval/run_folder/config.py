"""The frozen configuration of a judge run, its provenance and its hash.

The config hash names the run folder. It covers everything that can change the run's results:
the judge's identity (model, revision or file hash, answer mode, dtype, quantization, decoding
settings, chat template, system prompt), the captions file's sha256 and the caption selection,
the prompt template and its sha256, the image limit, AMBER's data files, the spaCy pipeline used
for coverage scoring, and the package version. Where results are written, the answer store and
batching settings do not change results and stay out of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from amber_eval.captions.records import ORACLE
from amber_eval.captions.selection import SELECTION_OPTIONS, SelectionSettings
from amber_eval.errors import InputError
from amber_eval.io import canonical_json
from amber_eval.judge_options import JudgeOptions
from amber_eval.terms import ANSWER_MODES, AnswerMode

_PATH_FIELDS = ("out", "store", "data_dir")


@dataclass(frozen=True)
class RunConfig:
    """Everything ``amber-eval run`` needs; the CLI builds one from its options."""

    captions: str
    """A caption dump file, or ``"oracle"`` for the oracle captions built from AMBER's truth."""
    llm: str
    """An LLM preset name, a local model folder or a GGUF file."""
    limit_images: int | None = None
    """Only the first N images by AMBER id (all when None)."""
    out: Path = Path("results")
    """The results root: runs go to ``<out>/<model>/<llm>-<hash>/``."""
    model: str | None = None
    """The caption model's name in ``<out>/<model>``; derived from ``captions`` when None."""
    template: str = "paper"
    """The prompt template (a shipped name or a ``.jinja`` file)."""
    selection: SelectionSettings = field(default_factory=SelectionSettings)
    """Which captions go into the prompts (:class:`SelectionSettings`; ``run.json`` and a
    TOML config hold it as the options ``top_k``, ``min_score``, ``order``, ``order_seed`` and
    ``keep_duplicates``)."""
    spacy_model: str | None = None
    """The spaCy pipeline used to score caption coverage (None: the scoring default)."""
    judge_options: JudgeOptions = field(default_factory=JudgeOptions)
    """How the judge is loaded and asked: the answer mode (``score`` compares the Yes/No token
    logits, ``generate`` decodes greedily and parses), dtype, device, quantization, attention,
    strategy, revision, ... (:class:`amber_eval.judge.JudgeOptions`)."""
    store: Path | None = None
    """The answer store file (None: ``<out>/.answers.sqlite``)."""
    data_dir: Path | None = None
    """AMBER's data folder (None: ``$AMBER_EVAL_DATA`` or the cache)."""
    chunk_questions: int | None = None
    """Questions sent to the judge per call (whole images); each call's answers are stored at
    once. None sizes calls to about 10 s of work each."""
    show_progress: bool = True
    """Show a progress bar on stderr."""

    def __post_init__(self) -> None:
        for name in _PATH_FIELDS:  # a path given as a string is a path
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value))
        if not isinstance(self.judge_options, JudgeOptions):
            raise TypeError("judge_options must be a JudgeOptions")
        if not isinstance(self.selection, SelectionSettings):
            raise TypeError("selection must be a SelectionSettings")
        if self.answer_mode not in ANSWER_MODES:
            raise ValueError(f"answer mode must be 'score' or 'generate', not {self.answer_mode!r}")
        if self.limit_images is not None and self.limit_images < 1:
            raise ValueError("--limit-images must be at least 1")
        if self.chunk_questions is not None and self.chunk_questions < 1:
            raise ValueError("chunk_questions must be at least 1")

    @property
    def answer_mode(self) -> AnswerMode:
        """The judge's answer mode (``score`` or ``generate``)."""
        return self.judge_options.answer_mode  # type: ignore[return-value]

    @property
    def model_name(self) -> str:
        """The name of ``<out>/<model>``: ``model``, else ``oracle``, else from the file path."""
        if self.model:
            return self.model
        if self.captions == ORACLE:
            return ORACLE
        path = Path(self.captions)
        # results/<model>/captions.jsonl -> <model>; anything else -> the file's stem
        if path.name == "captions.jsonl" and path.parent.name:
            return path.parent.resolve().name
        return path.stem

    def to_json(self) -> dict[str, Any]:
        """The config as ``run.json`` holds it: the answer mode apart, and only the judge
        options set away from their defaults (a TOML file for ``run --config`` has the same
        fields)."""
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "judge_options":
                data["answer_mode"] = self.answer_mode
                changed = self.judge_options.changed()
                changed.pop("answer_mode", None)
                value = changed
            elif item.name == "selection":
                data.update(self.selection.to_options())
                continue
            elif isinstance(value, Path):
                value = str(value)
            data[item.name] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str) -> RunConfig:
        """The config of :meth:`to_json`'s form; ``where`` names the file in errors.

        Fields left out take their defaults; a field this version does not know, or a value
        of the wrong type, is an :class:`InputError` naming it.
        """
        known = [
            name
            for item in dataclasses.fields(cls)
            for name in (SELECTION_OPTIONS if item.name == "selection" else (item.name,))
        ]
        values: dict[str, Any] = {}
        options: dict[str, Any] = {}
        selection: dict[str, Any] = {}
        for name, value in data.items():
            if name == "answer_mode":
                options["answer_mode"] = value
                continue
            if name in SELECTION_OPTIONS:
                selection[name] = value
                continue
            if name not in known:
                raise InputError(
                    f"{where}: unknown config field {name!r}; the fields are "
                    f"answer_mode, {', '.join(known)}"
                )
            if name == "judge_options":
                if not isinstance(value, Mapping):
                    raise InputError(f"{where}: config field 'judge_options' must be a table")
                unknown = sorted(
                    set(value) - set(JudgeOptions.names()) | ({"answer_mode"} & set(value))
                )
                if unknown:
                    raise InputError(
                        f"{where}: unknown judge option {unknown[0]!r} in 'judge_options' (the "
                        f"answer mode is the field 'answer_mode'); the options are "
                        f"{', '.join(n for n in JudgeOptions.names() if n != 'answer_mode')}"
                    )
                options.update(value)
                continue
            if name in _PATH_FIELDS and value is not None and not isinstance(value, str):
                raise InputError(f"{where}: config field {name!r} must be a path string")
            values[name] = value
        for name in ("captions", "llm"):
            if not isinstance(values.get(name), str):
                raise InputError(f"{where}: config field {name!r} is missing or not a string")
        try:
            values["selection"] = SelectionSettings.from_options(**selection)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        try:
            return cls(judge_options=JudgeOptions(**options), **values)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class Fingerprint:
    """The inputs that decide a run's results; ``digest`` is the config hash."""

    judge_identity: Mapping[str, Any]
    captions_sha256: str
    selection: Mapping[str, Any]
    template: str
    template_sha256: str
    limit_images: int | None
    mode: str
    data_sha256: str
    spacy_model: str | None
    version: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["judge_identity"] = dict(self.judge_identity)
        data["selection"] = dict(self.selection)
        return data

    @property
    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.to_json()).encode("utf-8")).hexdigest()

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> Fingerprint:
        """The fingerprint of :meth:`to_json`'s form; a missing field is an :class:`InputError`."""
        if not isinstance(data, Mapping):
            raise InputError(f"{where}: field 'fingerprint' must be an object")
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [name for name in names if name not in data]
        if missing:
            raise InputError(f"{where}: field 'fingerprint.{missing[0]}' is missing")
        return cls(**{name: data[name] for name in names})
