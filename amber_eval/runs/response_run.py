"""An MLLM's response file scored into a run folder (``amber-eval score FILE --model NAME``).

The folder is ``<out>/<model>/responses-<hash>/`` and holds the files a judge run holds, so
every reader (``report`` in every layout and format, ``--with-reference``, ``--ci``,
``compare``, the HTML report) takes it beside region-caption runs:

- ``run.json``: a :class:`~amber_eval.run_folder.record.RunRecord` of ``kind: "responses"``, with
  each scored file's name, sha256 and id count, and the spaCy pipeline;
- ``answers.jsonl``: one :class:`~amber_eval.run_folder.answer_line.AnswerLine` per Yes/No answer (the
  question as the prompt, the model's text as the answer, read by the strict grammar);
- ``coverage.jsonl``: each description's counts under the strict and the official rules;
- ``metrics.json``: ``strict`` and ``official`` scores of the answers (with the always-No
  baseline), the descriptions' generative metrics as the ``coverage`` block (as a judge run
  holds its captions' coverage), and no ``warnings``: the useless-judge alarm is about a judge
  reading captions, and here a Yes-bias is the model's own, which its figures measure;
- ``responses.json``: the scored responses in the upstream format.

The descriptions (ids 1..1004) and the answers (ids from 1005) may come from one file or from
several files of the same model (a ``g`` file and a ``d`` file); an id in two files is an error.
The config hash covers the files' sha256, the spaCy pipeline, AMBER's data and the version, so
scoring the same files again gives the same folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval import __version__
from amber_eval.captions.records import now_iso
from amber_eval.errors import InputError
from amber_eval.io import canonical_json, sha256_file, sha256_text

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark
    from amber_eval.run_folder.answer_line import AnswerLine
    from amber_eval.run_folder.record import RunRecord
    from amber_eval.scoring.responses import Response

#: ``config.llm`` and the folder prefix of a scored response file.
RESPONSES_LLM = "responses"


@dataclass(frozen=True)
class ResponseRun:
    """What :func:`score_response_run` wrote: the folder, the ``metrics.json`` content, and how
    many descriptions and Yes/No answers were scored."""

    folder: Path
    metrics: Mapping[str, Any]
    descriptions: int
    answers: int


def read_response_files(paths: Sequence[Path]) -> tuple[list[Response], dict[Path, int]]:
    """The responses of ``paths`` together, and how many each file gave; an id given by two
    files is an :class:`InputError` naming both."""
    from amber_eval.scoring.responses import read_responses

    owner: dict[int, Path] = {}
    merged: list[Response] = []
    counts: dict[Path, int] = {}
    for path in paths:
        read = read_responses(path)
        counts[path] = len(read)
        for response in read:
            first = owner.get(response.id)
            if first is not None and first != path:
                raise InputError(
                    f"{path}: id {response.id} is also in {first}; give each id in one file"
                )
            owner[response.id] = path
        merged.extend(read)
    return merged, counts


def answer_lines(benchmark: Benchmark, responses: Sequence[Response]) -> list[AnswerLine]:
    """The Yes/No responses as answer lines: the question is the prompt, the text the answer."""
    from amber_eval.run_folder.answer_line import AnswerLine
    from amber_eval.terms import parse_strict

    lines = []
    for response in sorted(responses, key=lambda r: r.id):
        question = benchmark.questions.get(response.id)
        if question is None:
            continue
        lines.append(
            AnswerLine(
                id=question.id,
                image=question.image,
                dimension=question.dimension.value,
                truth="yes" if question.truth else "no",
                prompt=question.text,
                answer=response.response,
                parsed=parse_strict(response.response),
            )
        )
    return lines


def response_run_folder(out: Path, model: str, config_hash: str) -> Path:
    """``<out>/<model>/responses-<first 12 hex digits of the hash>``."""
    from amber_eval.run_folder.files import run_dir

    return run_dir(out, model, RESPONSES_LLM, config_hash)


def score_response_run(
    paths: Sequence[str | Path],
    *,
    model: str,
    out: str | Path = Path("results"),
    spacy_model: str | None = None,
    data_dir: str | Path | None = None,
    allow_partial: bool = False,
    noun_cache: bool = True,
    progress: Any = None,
) -> ResponseRun:
    """Score the response file(s) ``paths`` of ``model`` and write its run folder under ``out``.

    Descriptions are scored with the generative rules (strict and official) into the
    ``coverage`` block and ``coverage.jsonl``; Yes/No answers become ``answers.jsonl`` and are
    scored from there as a judge run's answers are (so under the official rules an answer reads
    as its decision: ``Yes.`` counts as ``Yes``). Strict scoring refuses missing ids unless
    ``allow_partial``. Nothing is written when scoring fails; each file is written atomically,
    ``run.json`` last. ``progress`` is called with the number of descriptions scored.
    """
    from amber_eval.data import load_benchmark
    from amber_eval.run_folder.config import Fingerprint, RunConfig
    from amber_eval.run_folder.metrics import RunMetrics
    from amber_eval.run_folder.record import RunRecord
    from amber_eval.runs.provenance import data_sha256, git_revision
    from amber_eval.runs.scores import question_scores
    from amber_eval.scoring.similarity import DEFAULT_SPACY_MODEL

    started = now_iso()
    files = [Path(p) for p in paths]
    if not files:
        raise InputError("no response file to score")
    if not model.strip():
        raise InputError("--model needs a non-empty name")
    responses, counts = read_response_files(files)
    benchmark = load_benchmark(None if data_dir is None else Path(data_dir))
    unknown = sorted(
        r.id
        for r in responses
        if r.id not in benchmark.generative and r.id not in benchmark.questions
    )
    if unknown:
        raise InputError(f"{files[0]}: unknown AMBER id {unknown[0]} ({len(unknown)} unknown)")
    spacy_model = spacy_model or DEFAULT_SPACY_MODEL
    lines = answer_lines(benchmark, responses)
    described = [r for r in responses if r.id in benchmark.generative]
    scores = question_scores(benchmark, lines, complete=not allow_partial)
    coverage, coverage_items, pipeline = _description_coverage(
        benchmark,
        described,
        spacy_model=spacy_model,
        allow_partial=allow_partial,
        noun_cache=noun_cache,
        progress=progress,
    )
    # No warnings: the useless-judge alarm is about a judge reading captions; here the model
    # answered itself, and a Yes-bias is the model's own hallucination, which the figures measure.
    metrics = RunMetrics(
        strict=scores["strict"], official=scores["official"], coverage=coverage
    ).to_json()
    scored = tuple(
        {"file": str(path), "sha256": sha256_file(path), "ids": count}
        for path, count in counts.items()
    )
    fingerprint = Fingerprint(
        judge_identity={"kind": RESPONSES_LLM, "model": model},
        captions_sha256=sha256_text(canonical_json([f["sha256"] for f in scored])),
        selection={},
        template="",
        template_sha256="",
        limit_images=None,
        mode=RESPONSES_LLM,
        data_sha256=data_sha256(),
        spacy_model=None if pipeline is None else pipeline["sha256"],
        version=__version__,
    )
    config = RunConfig(
        captions=str(files[0]),
        llm=RESPONSES_LLM,
        out=Path(out),
        model=model,
        template="",
        spacy_model=spacy_model if described else None,
        data_dir=None if data_dir is None else Path(data_dir),
        show_progress=False,
    )
    images = {line.image for line in lines} | {benchmark.generative[r.id].image for r in described}
    record = RunRecord(
        config=config,
        model=model,
        config_hash=fingerprint.digest,
        fingerprint=fingerprint,
        status="success",
        version=__version__,
        git_revision=git_revision(),
        images=len(images),
        questions=len(lines),
        first_started=started,
        started=started,
        ended=now_iso(),
        computed=0,
        reused=0,
        kind="responses",
        responses=scored,
        spacy_pipeline=pipeline,
    )
    folder = response_run_folder(Path(out), model, fingerprint.digest)
    _write_folder(folder, record, lines, responses, metrics, coverage_items)
    return ResponseRun(folder, metrics, len(described), len(lines))


def _description_coverage(
    benchmark: Benchmark,
    described: Sequence[Response],
    *,
    spacy_model: str,
    allow_partial: bool,
    noun_cache: bool,
    progress: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    """The ``coverage`` block of the descriptions (generative metrics, strict and official),
    its ``coverage.jsonl`` lines and the spaCy pipeline's provenance."""
    from amber_eval.run_folder.coverage_line import RULES, coverage_json
    from amber_eval.scoring.records import DescriptionRecord
    from amber_eval.scoring.scorer import score_responses
    from amber_eval.scoring.similarity import pipeline_provenance

    if not described:
        reason = "the response file has no descriptions (ids 1..1004)"
        return {"available": False, "reason": reason}, [], None
    text = {r.id: r.response for r in described}
    blocks: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    for rules in RULES:
        result = score_responses(
            described,
            eval_type="g",
            rules=rules,
            benchmark=benchmark,
            spacy_model=spacy_model,
            allow_partial=allow_partial,
            noun_cache=noun_cache,
            progress=progress if rules == "strict" else None,
        )
        blocks[rules] = dict(result.blocks["generative"])
        items.extend(
            coverage_json(item, rules=rules, description=text[item.id])
            for item in result.items
            if isinstance(item, DescriptionRecord)
        )
    pipeline = pipeline_provenance(spacy_model)
    coverage = {
        "available": True,
        "source": "descriptions",
        "images": len(described),
        "similarity": f"{pipeline['name']} {pipeline['version']}",
        "spacy_pipeline": pipeline,
        **blocks,
    }
    return coverage, items, pipeline


def _write_folder(
    folder: Path,
    record: RunRecord,
    lines: Sequence[AnswerLine],
    responses: Sequence[Response],
    metrics: Mapping[str, Any],
    coverage_items: Sequence[Mapping[str, Any]],
) -> None:
    from amber_eval.run_folder.files import (
        RunFiles,
        check_writable,
        run_lock,
        write_json,
        write_jsonl,
        write_run_record,
    )

    check_writable(folder)
    files = RunFiles(folder)
    with run_lock(folder):
        write_jsonl(files.answers, [line.to_json() for line in lines])
        write_jsonl(files.coverage, coverage_items)
        # the responses as given (a judge run's responses.json holds its decisions)
        rows = [{"id": r.id, "response": r.response} for r in sorted(responses, key=_by_id)]
        write_json(files.responses, rows)
        write_json(files.metrics, metrics)
        write_run_record(files.run, record)


def _by_id(response: Response) -> int:
    return response.id
