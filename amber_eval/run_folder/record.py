"""``run.json``: the typed record of one judge run, written by the run and read by every report.

The record says what ran (the :class:`~amber_eval.run_folder.config.RunConfig`), what decided its
results (the :class:`~amber_eval.run_folder.config.Fingerprint`, whose digest names the folder), with
which code and data, and how it went (status, times, counts). It starts with
``"format": "amber-eval/run"`` and ``"format_version"``. The record can grow: a new field comes
with a default, readers ignore fields they do not know, and the version only changes when a
field changes meaning or goes away. A folder without a format version (written before the
record had one), of another format or of a newer version is refused with an error naming the
field and the versions, never read by guessing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from amber_eval.errors import InputError
from amber_eval.run_folder.config import Fingerprint, RunConfig

RUN_FORMAT = "amber-eval/run"
RUN_FORMAT_VERSION = 1
RunStatus = Literal["started", "success", "error"]
STATUSES: tuple[RunStatus, ...] = ("started", "success", "error")
RunKind = Literal["judge", "responses", "jury"]
#: ``judge``: ``amber-eval run`` judged region captions; ``responses``: ``amber-eval score
#: --model`` scored an MLLM's response file(s) (no judge, no captions); ``jury``: ``amber-eval
#: jury`` took the majority of several runs' answers.
KINDS: tuple[RunKind, ...] = ("judge", "responses", "jury")


@dataclass(frozen=True)
class RunRecord:
    """The content of ``run.json``."""

    config: RunConfig
    """What was asked for (``amber-eval run --config run.json`` runs it again)."""
    model: str
    """The caption model's folder name (``<out>/<model>/``)."""
    config_hash: str
    """The digest of ``fingerprint``; its first 12 hex digits name the run folder."""
    fingerprint: Fingerprint | None = None
    """Every input that can change the results (None only in hand-made folders)."""
    status: RunStatus = "started"
    error: str | None = None
    """The error that ended the run (``status: error``)."""
    version: str | None = None
    """The amber-eval version that ran."""
    git_revision: str | None = None
    """The git commit of the source tree, when run from a checkout."""
    store: str | None = None
    """The answer store file."""
    images: int | None = None
    questions: int | None = None
    first_started: str | None = None
    attempts: int = 1
    started: str | None = None
    ended: str | None = None
    world_size: int = 1
    computed: int | None = None
    """Questions the model answered in the last invocation (all processes)."""
    reused: int | None = None
    """Questions answered from the store or the folder's ``answers.jsonl``."""
    per_rank_computed: tuple[int, ...] | None = None
    judge_requests: Mapping[str, Any] | None = None
    """Engine backends (vllm, openai): requests, retries by reason, seconds waited before
    retries and errors of the last invocation."""
    jury: Mapping[str, Any] | None = None
    """A jury folder (``amber-eval jury``): ``members`` (each run's ``folder``, ``label`` and
    ``config_hash``) and the ``tie`` rule; its answers are the members' majority."""
    kind: RunKind = "judge"
    """What made the folder: ``judge`` (a judge run) or ``responses`` (a scored response file;
    ``config.captions`` is then the first response file and ``config.llm`` is ``responses``)."""
    responses: tuple[Mapping[str, Any], ...] | None = None
    """``kind: responses``: each scored file as ``{"file", "sha256", "ids"}``."""
    spacy_pipeline: Mapping[str, Any] | None = None
    """The spaCy pipeline of the generative metrics (``name``, ``version``, ``vectors`` shape,
    ``sha256``; :func:`amber_eval.scoring.similarity.pipeline_provenance`), when it was found."""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Fields this version does not know (kept when the record is written again)."""

    def replace(self, **changes: Any) -> RunRecord:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """``run.json``'s object. The fingerprint's hashes and judge identity are repeated at
        the top for people reading the file; readers take them from ``fingerprint``."""
        fingerprint = self.fingerprint
        data: dict[str, Any] = {
            "format": RUN_FORMAT,
            "format_version": RUN_FORMAT_VERSION,
            "status": self.status,
            "model": self.model,
            "config_hash": self.config_hash,
            "config": self.config.to_json(),
            "fingerprint": None if fingerprint is None else fingerprint.to_json(),
            "version": self.version,
            "git_revision": self.git_revision,
            "data_sha256": None if fingerprint is None else fingerprint.data_sha256,
            "template_sha256": None if fingerprint is None else fingerprint.template_sha256,
            "captions_sha256": None if fingerprint is None else fingerprint.captions_sha256,
            "judge_identity": None if fingerprint is None else dict(fingerprint.judge_identity),
        }
        for item in dataclasses.fields(self):
            if item.name not in data and item.name != "extra":
                value = getattr(self, item.name)
                data[item.name] = list(value) if isinstance(value, tuple) else value
        for name, value in self.extra.items():
            data.setdefault(name, value)
        return data

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> RunRecord:
        """Read ``run.json``'s object; ``where`` names the file in errors."""
        if not isinstance(data, Mapping):
            raise InputError(f"{where}: expected a JSON object (a run record)")
        _check_format(data, where)
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name in ("config", "model", "config_hash"):
            if name not in data:
                raise InputError(
                    f"{where}: required field {name!r} is missing "
                    f"(run format version {RUN_FORMAT_VERSION})"
                )
        values["config"] = RunConfig.from_json(_mapping(data, "config", where), where=where)
        if data.get("fingerprint") is not None:
            values["fingerprint"] = Fingerprint.from_json(data["fingerprint"], where=where)
        for name, kinds in _SCALARS.items():
            if name in data and data[name] is not None:
                value = data[name]
                if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                    raise InputError(f"{where}: field {name!r} has the wrong type ({value!r:.40})")
                values[name] = value
        if values.get("kind", "judge") not in KINDS:
            raise InputError(
                f"{where}: field 'kind' is {values['kind']!r}; expected one of {', '.join(KINDS)}"
            )
        listed = data.get("responses")
        if listed is not None:
            if not isinstance(listed, list) or not all(isinstance(f, dict) for f in listed):
                raise InputError(f"{where}: field 'responses' must be a list of objects")
            values["responses"] = tuple(listed)
        if values.get("status", "started") not in STATUSES:
            raise InputError(
                f"{where}: field 'status' is {values['status']!r}; expected one of "
                f"{', '.join(STATUSES)}"
            )
        ranks = data.get("per_rank_computed")
        if ranks is not None:
            if not isinstance(ranks, list) or not all(isinstance(n, int) for n in ranks):
                raise InputError(f"{where}: field 'per_rank_computed' must be a list of integers")
            values["per_rank_computed"] = tuple(ranks)
        shown = {"format", "format_version", *_TOP_COPIES}
        values["extra"] = {k: v for k, v in data.items() if k not in known and k not in shown}
        return cls(**values)


_SCALARS: dict[str, tuple[type, ...]] = {
    "judge_requests": (dict,),
    "jury": (dict,),
    "kind": (str,),
    "spacy_pipeline": (dict,),
    "model": (str,),
    "config_hash": (str,),
    "status": (str,),
    "error": (str,),
    "version": (str,),
    "git_revision": (str,),
    "store": (str,),
    "images": (int,),
    "questions": (int,),
    "first_started": (str,),
    "attempts": (int,),
    "started": (str,),
    "ended": (str,),
    "world_size": (int,),
    "computed": (int,),
    "reused": (int,),
}
_TOP_COPIES = ("data_sha256", "template_sha256", "captions_sha256", "judge_identity")


def _mapping(data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = data[name]
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: field {name!r} must be an object")
    return value


def _check_format(data: Mapping[str, Any], where: str) -> None:
    version = data.get("format_version")
    if data.get("format") not in (None, RUN_FORMAT):
        raise InputError(
            f"{where}: field 'format' is {data.get('format')!r}, not {RUN_FORMAT!r}: "
            "not an amber-eval run record"
        )
    if version is None or "format" not in data:
        raise InputError(
            f"{where}: field 'format_version' is missing: this run folder was written by an "
            f"amber-eval older than run format version {RUN_FORMAT_VERSION}, or by another "
            "program. Run it again with this version (the answer store keeps its answers)."
        )
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"{where}: field 'format_version' must be an integer, not {version!r}")
    if version > RUN_FORMAT_VERSION:
        raise InputError(
            f"{where}: run format version {version} is newer than this amber-eval reads "
            f"(version {RUN_FORMAT_VERSION}); upgrade amber-eval"
        )
    if version < RUN_FORMAT_VERSION:
        raise InputError(
            f"{where}: run format version {version} is older than this amber-eval reads "
            f"(version {RUN_FORMAT_VERSION}); run it again with this version"
        )


def read_run_record(path: str | Path) -> RunRecord:
    """Read and check a ``run.json`` file."""
    from amber_eval.io import load_json, read_text

    source = Path(path)
    if not source.exists():
        raise InputError(f"{source}: missing; is {source.parent} a run folder?")
    data = load_json(read_text(source, "run record"), str(source))
    return RunRecord.from_json(data, where=str(source))


def config_file_settings(config: RunConfig, overridden: Collection[str]) -> list[str]:
    """``name=value`` for each setting of ``config`` (as :meth:`RunConfig.to_json` writes it)
    away from its default that the command line did not override (``overridden``: field and
    option names)."""
    default = RunConfig(captions="", llm="").to_json()
    shown = []
    for name, value in config.to_json().items():
        if name == "judge_options":
            shown += [
                f"judge_options.{key}={item!r}"
                for key, item in value.items()
                if key not in overridden
            ]
        elif name in ("captions", "llm") or (value != default[name] and name not in overridden):
            shown.append(f"{name}={value!r}")
    return shown


def read_run_config(source: Path) -> RunConfig:
    """The :class:`RunConfig` a ``run.json`` or TOML file holds, read and checked as data
    (the settings a config file may not choose are refused by
    :func:`amber_eval.runs.config_file.load_run_config`)."""
    if source.suffix.lower() != ".toml":
        record = read_run_record(source)
        if record.kind == "jury":
            raise InputError(
                f"{source}: this folder is a jury of other runs (kind 'jury'), not a judge run; "
                "make it again with `amber-eval jury RUN RUN...`"
            )
        if record.kind != "judge":
            raise InputError(
                f"{source}: this folder holds a scored response file (kind {record.kind!r}), "
                "not a judge run; score the file again with `amber-eval score FILE --model NAME`"
            )
        return record.config
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise InputError(
            f"{source}: reading TOML needs Python 3.11 or later; give a run.json instead"
        ) from None
    from amber_eval.io import read_text

    text = read_text(source, "config file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not a readable TOML file ({exc})") from exc
    return RunConfig.from_json(data, where=str(source))
