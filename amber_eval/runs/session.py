"""A run's session: everything decided before the judge is asked anything, in one frozen record.

:func:`prepare` builds it (captions, selection, prompts, judge, the fingerprint and the run
folder); the steps after it (answering the missing questions, finishing the folder) read it and
change nothing in it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval import __version__
from amber_eval.captions.records import ORACLE
from amber_eval.io import refuse_inputs_as_outputs
from amber_eval.judge.context import check_context
from amber_eval.run_folder.answer_line import AnswerLine, read_answer_lines
from amber_eval.run_folder.config import Fingerprint, RunConfig
from amber_eval.run_folder.files import RunFiles, check_writable, run_dir
from amber_eval.runs.answer_store import default_store_path
from amber_eval.runs.processes import Processes
from amber_eval.runs.provenance import data_sha256

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark
    from amber_eval.judge.base import Judge
    from amber_eval.prompting import PromptRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Questions:
    """The run's prompts in AMBER id order, and the text the model sees for each."""

    prompts: Sequence[PromptRecord]
    rendered: Mapping[int, str]

    def __len__(self) -> int:
        return len(self.prompts)

    def shard(self, procs: Processes) -> list[PromptRecord]:
        """This process's share: whole images, dealt round-robin in AMBER id order."""
        if procs.world_size == 1:
            return list(self.prompts)
        order: dict[str, int] = {}
        for q in self.prompts:
            order.setdefault(q.image, len(order))
        return [q for q in self.prompts if order[q.image] % procs.world_size == procs.rank]


@dataclass(frozen=True)
class RunSession:
    """One invocation of a run: its config, inputs, judge and folder."""

    config: RunConfig
    procs: Processes
    benchmark: Benchmark
    images: tuple[str, ...]
    selected: Mapping[str, list[str]]
    """Each image's selected captions (the prompts list them)."""
    questions: Questions
    judge: Judge
    identity: Mapping[str, Any]
    """The judge's identity: the answer store's key."""
    fingerprint: Fingerprint
    files: RunFiles
    store_path: Path
    echo: Callable[[str], None] | None = None
    """Receives the line announcing the prompt tokens about to be sent to an engine backend."""

    @property
    def config_hash(self) -> str:
        return self.fingerprint.digest

    def read_answers(self) -> dict[int, AnswerLine]:
        """The folder's ``answers.jsonl`` by id, read once per run (the main process repairs
        a torn last line); the steps after it add the lines they append."""
        lines = read_answer_lines(self.files.answers, repair=self.procs.is_main)
        return {line.id: line for line in lines}


def prepare(
    config: RunConfig,
    *,
    judge: Judge | None,
    procs: Processes,
    echo: Callable[[str], None] | None = None,
) -> RunSession:
    """The run's session: its captions selected, its prompts rendered, its judge loaded and
    its folder named by the fingerprint of all of them."""
    check_writable(config.out)
    store_path = config.store or default_store_path(config.out)
    refuse_inputs_as_outputs(
        {"--store": store_path},
        {
            "--captions": None if config.captions == ORACLE else config.captions,
            "--template": config.template,
        },
    )

    from amber_eval.captions.selection import select_captions
    from amber_eval.captions.sources import load_captions
    from amber_eval.data import load_benchmark

    benchmark = load_benchmark(config.data_dir)
    captions = load_captions(config.captions, benchmark)
    selected = select_captions(captions.dump, config.selection)
    images = list(benchmark.first_images(config.limit_images))
    template_name, template_sha = _template_info(config.template)
    records = _render(benchmark, selected, config.template, images)

    if judge is None:
        judge = _load_judge(config, procs)
    identity = dict(judge.identity)
    questions = Questions(records, {r.id: judge.render(r.prompt) for r in records})
    check_context(
        judge,
        [q.prompt for q in records],
        labels=[f"image {q.image}, question {q.id}" for q in records],
    )
    fingerprint = Fingerprint(
        judge_identity=identity,
        captions_sha256=captions.sha256,
        selection=config.selection.to_json(),
        template=template_name,
        template_sha256=template_sha,
        limit_images=config.limit_images,
        mode=config.answer_mode,
        data_sha256=data_sha256(),
        spacy_model=config.spacy_model,
        version=__version__,
    )
    folder = run_dir(config.out, config.model_name, _llm_label(config.llm), fingerprint.digest)
    return RunSession(
        config=config,
        procs=procs,
        benchmark=benchmark,
        images=tuple(images),
        selected={image: selected.get(image, []) for image in images},
        questions=questions,
        judge=judge,
        identity=identity,
        fingerprint=fingerprint,
        files=RunFiles(folder),
        store_path=store_path,
        echo=echo,
    )


def _llm_label(llm: str) -> str:
    """A preset name as is; a path by its last component (``.gguf`` dropped)."""
    path = Path(llm)
    if len(path.parts) > 1 or path.suffix == ".gguf":
        return path.stem if path.suffix == ".gguf" else path.name
    return llm


def _template_info(template: str) -> tuple[str, str]:
    """The template's name and the sha256 of its text."""
    from amber_eval.prompting import load_template

    loaded = load_template(template)
    return loaded.path or loaded.name, loaded.sha256


def _render(
    benchmark: Benchmark, selected: Mapping[str, list[str]], template: str, images: list[str]
) -> list[PromptRecord]:
    from amber_eval.prompting import render_prompts

    return render_prompts(benchmark, selected, template=template, images=images)


def _load_judge(config: RunConfig, procs: Processes) -> Judge:
    """The judge of ``config.llm``; with several processes, each on its own device."""
    from amber_eval.judge import load_judge

    options = config.judge_options
    if procs.world_size > 1 and procs.device is not None:
        asked = options.device
        if asked is None or asked == "cuda" or (asked == "cpu" and procs.device == "cpu"):
            options = dataclasses.replace(options, device=procs.device)
        elif asked != procs.device:
            log.warning("process %d uses --device %s as given", procs.rank, asked)
    return load_judge(config.llm, options=options)
