"""The hostile-input corpus: every malformed input class, and every command that reads one.

Each :class:`Kind` is a kind of input file (responses, caption dumps, prompts, pairs, ...) with
one valid sample; :data:`GENERIC` damages any sample the same way (bytes that are not UTF-8,
100,000 nested arrays, a lone surrogate, ...), :data:`SPECIFIC` holds the malformed inputs of
one kind (garbage RLE counts, an unterminated CSV quote, a bbox of 1e309, ...). Each
:class:`Reader` is a command line that reads a kind of input. ``tests/test_hostile_inputs.py``
runs every input through every reader of its kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEADER = {
    "format": "amber-eval/region-captions",
    "version": 1,
    "captioner": {"name": "hostile", "version": None, "settings": {}},
    "created": "2026-01-01T00:00:00+00:00",
}


def _jsonl(*records: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _dump(*regions: dict[str, object], image: str = "AMBER_1.jpg") -> str:
    return _jsonl(HEADER, {"image": image, "width": 640, "height": 480, "regions": list(regions)})


PROMPT = {
    "id": 1005,
    "image": "AMBER_1.jpg",
    "dimension": "existence",
    "truth": "no",
    "prompt": "If an image contains a dog. Is there a cat in this image?",
}


@dataclass(frozen=True)
class Kind:
    """A kind of input file: its file name and a valid sample, with ``TEXT`` where a string of
    the input's own text goes (the place a lone surrogate is planted)."""

    name: str
    file_name: str
    sample: str
    nests: bool = True
    """JSON: deep nesting applies."""
    binary: bool = False
    """Not text: only the byte-level damage applies."""
    folder_ok: bool = True
    """A folder in the file's place applies (not where a folder there means another thing)."""

    def data(self) -> bytes:
        if self.binary:
            return _npz()
        return self.sample.replace("TEXT", "a dog").encode("utf-8")


def _npz() -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, features=np.ones((2, 64), dtype=np.float32))
    return buffer.getvalue()


KINDS = {
    kind.name: kind
    for kind in [
        Kind(
            "responses",
            "responses.json",
            json.dumps([{"id": 1, "response": "TEXT"}, {"id": 1005, "response": "Yes"}]),
        ),
        Kind("dump", "captions.jsonl", _dump({"caption": "TEXT", "score": 0.9})),
        Kind("prompts", "prompts.jsonl", _jsonl({**PROMPT, "prompt": "TEXT"})),
        Kind(
            "pairs-jsonl",
            "pairs.jsonl",
            _jsonl({"id": "p1", "image": "x.jpg", "caption": "TEXT"}),
        ),
        Kind("pairs-csv", "pairs.csv", "id,image,caption\np1,x.jpg,TEXT\n", nests=False),
        Kind(
            "import-jsonl",
            "regions.jsonl",
            _jsonl(
                {"image": "AMBER_1.jpg", "regions": [{"caption": "TEXT", "bbox": [1, 2, 30, 40]}]}
            ),
        ),
        Kind(
            "import-coco",
            "coco.json",
            json.dumps([{"image_id": 1, "caption": "TEXT", "bbox": [1, 2, 30, 40], "score": 0.5}]),
        ),
        Kind("features", "x.npz", "", nests=False, binary=True),
        Kind("metrics", "metrics.json", json.dumps({"strict": {"blocks": {}}, "note": "TEXT"})),
        Kind("run-record", "run.json", json.dumps({"status": "TEXT"}), folder_ok=False),
        Kind(
            "template",
            "template.jinja",
            "If an image contains {{ captions }}. TEXT {{ question }}",
            nests=False,
        ),
    ]
}


@dataclass(frozen=True)
class Hostile:
    """One malformed input: ``build(kind)`` gives the file's bytes (None: not for this kind);
    ``folder`` makes the input path a folder instead of a file."""

    name: str
    build: Callable[[Kind], bytes | None]
    folder: bool = False


def _with_text(text: str) -> Callable[[Kind], bytes | None]:
    def build(kind: Kind) -> bytes | None:
        if kind.name in ("template", "pairs-csv") or kind.binary:
            return None  # a CSV field holds "\\ud800" as plain text, not an escape
        return kind.sample.replace("TEXT", text).encode("utf-8")

    return build


def _deep(kind: Kind) -> bytes | None:
    if not kind.nests:
        return None
    return ("[" * 100_000 + "]" * 100_000 + "\n").encode()


def _truncated(kind: Kind) -> bytes | None:
    if kind.name in ("pairs-csv", "template"):
        return None
    data = kind.data()
    return data[: len(data) // 2 + 3]


GENERIC = [
    Hostile("empty", lambda kind: b""),
    Hostile("not-utf8", lambda kind: None if kind.binary else kind.data() + b"\xff\xfe\xc3(\n"),
    Hostile("binary", lambda kind: bytes(range(256)) * 4),
    Hostile("deep-nesting", _deep),
    # Valid JSON that Python cannot encode as UTF-8: "\ud800" is a lone surrogate.
    Hostile("lone-surrogate", _with_text("a dog \\ud800 on grass")),
    Hostile("truncated", _truncated),
    Hostile("wrong-type", lambda kind: None if kind.name in ("pairs-csv", "template") else b"42\n"),
    Hostile("a-folder", lambda kind: b"" if kind.folder_ok else None, folder=True),
]


def _only(kind_name: str, text: str) -> Callable[[Kind], bytes | None]:
    return lambda kind: text.encode("utf-8") if kind.name == kind_name else None


SPECIFIC = [
    Hostile(
        "rle-garbage",
        _only(
            "dump",
            _dump({"caption": "a dog", "mask": {"size": [480, 640], "counts": "!!!garbage\u00ff"}}),
        ),
    ),
    Hostile("caption-empty-after-cleaning", _only("dump", _dump({"caption": "..."}))),
    Hostile(
        "bbox-1e309",
        _only(
            "import-jsonl",
            '{"image": "AMBER_1.jpg", "regions": [{"caption": "a dog", "bbox": [0, 0, 1e309, 5]}]}\n',
        ),
    ),
    Hostile(
        "coco-bbox-1e309",
        _only("import-coco", '[{"image_id": 1, "caption": "a dog", "bbox": [0, 0, 1e309, 5]}]'),
    ),
    Hostile(
        "csv-unterminated-quote", _only("pairs-csv", 'id,image,caption\np1,x.jpg,"a dog on grass\n')
    ),
    Hostile(
        "pairs-caption-not-string",
        _only("pairs-jsonl", _jsonl({"id": "p1", "image": "x.jpg", "caption": 7})),
    ),
    Hostile(
        "pairs-duplicate-id",
        _only("pairs-jsonl", _jsonl(*[{"id": "p1", "image": "x.jpg", "caption": "a dog"}] * 2)),
    ),
    Hostile(
        "csv-duplicate-id", _only("pairs-csv", "id,image,caption\np1,x.jpg,a dog\np1,x.jpg,a cat\n")
    ),
    Hostile("pairs-only-blank-lines", _only("pairs-jsonl", "\n\n")),
    Hostile("csv-header-only", _only("pairs-csv", "id,image,caption\n")),
    Hostile(
        "template-raises", _only("template", "{{ range(10**9) | list | length }} {{ question }}")
    ),
    Hostile("template-syntax", _only("template", "{% for %} {{ question }}")),
    Hostile("prompt-id-not-int", _only("prompts", _jsonl({**PROMPT, "id": "x"}))),
    Hostile("response-nan-id", _only("responses", '[{"id": NaN, "response": "Yes"}]')),
]

INPUTS = GENERIC + SPECIFIC


@dataclass(frozen=True)
class Reader:
    """A command line reading one kind of input: ``args(input, work)`` (``work`` is a scratch
    folder for outputs and helper files)."""

    name: str
    kind: str
    args: Callable[[Path, Path], list[str]]
    needs: tuple[str, ...] = ()
    """Fixtures the command needs: ``spacy`` (a vectors pipeline), ``clip`` (a tiny CLIP)."""


def _spacy() -> str:
    import os

    return str(Path(os.environ["AMBER_EVAL_PARITY"]) / "glove50-amber-vocab")


def _clip(work: Path) -> str:
    """The tiny CLIP model the test wrote down in ``work/clip-model.txt``."""
    return (work / "clip-model.txt").read_text(encoding="utf-8")


def _features(work: Path) -> Path:
    import numpy as np

    folder = work / "features"
    folder.mkdir(exist_ok=True)
    np.savez(folder / "x.npz", features=np.ones((2, 64), dtype=np.float32))
    return folder


def _filter_pairs(pairs: Path, features: Path, work: Path) -> list[str]:
    options = {
        "--pairs": pairs,
        "--ratio": "0.5",
        "--out": work / "filtered",
        "--features": features,
    }
    args = [text for option, value in options.items() for text in (option, str(value))]
    return ["filter-pairs", *args, "--clip-model", _clip(work), "--no-progress"]


def _features_args(features: Path, work: Path) -> list[str]:
    pairs = work / "pairs.jsonl"
    pairs.write_text(json.dumps({"id": "p1", "image": "x.jpg", "caption": "a dog"}) + "\n", "utf-8")
    return _filter_pairs(pairs, features.parent, work)


def _pairs_args(pairs: Path, work: Path) -> list[str]:
    return _filter_pairs(pairs, _features(work), work)


def _dump_file(work: Path) -> str:
    path = work / "good-captions.jsonl"
    path.write_text(_dump({"caption": "a dog", "score": 0.9}), encoding="utf-8")
    return str(path)


MOCK_RUN = ["--llm", "mock-no", "--limit-images", "1", "--no-progress"]


def _report_args(hostile: Path, work: Path) -> list[str]:
    """``report`` of a finished run folder whose file of the hostile input's name is replaced
    by it."""
    import shutil

    from amber_eval.judge.mock import MockJudge
    from amber_eval.run_folder.config import RunConfig
    from amber_eval.runs.pipeline import run_evaluation

    config = RunConfig(captions="oracle", llm="mock", limit_images=1, out=work / "results",
                       show_progress=False)  # fmt: skip
    folder = run_evaluation(config, judge=MockJudge("No")).folder
    target = folder / hostile.name
    target.unlink()
    if hostile.is_dir():
        target.mkdir()
    else:
        shutil.copyfile(hostile, target)
    return ["report", str(folder), "--out", str(work / "table.md")]


def _jury_args(hostile: Path, work: Path) -> list[str]:
    """``jury`` of two finished runs, the second with the hostile input's file replaced."""
    from amber_eval.judge.mock import MockJudge
    from amber_eval.run_folder.config import RunConfig
    from amber_eval.runs.pipeline import run_evaluation

    config = RunConfig(captions="oracle", llm="mock", limit_images=1, out=work / "results",
                       show_progress=False)  # fmt: skip
    first = run_evaluation(config, judge=MockJudge("Yes", name="yes")).folder
    second = _report_args(hostile, work)[1]
    return ["jury", str(first), second, "--out", str(work / "jury")]


def _gap_args(descriptions: Path, answers: Path, work: Path) -> list[str]:
    return [
        "protocol-gap",
        "--descriptions",
        str(descriptions),
        "--answers",
        str(answers),
        "--model",
        "m",
        "--out",
        str(work / "results"),
        "--resamples",
        "10",
        *MOCK_RUN,
    ]


def _valid_descriptions(work: Path) -> Path:
    path = work / "valid-descriptions.json"
    path.write_text('[{"id": 1, "response": "A dog on the grass."}]')
    return path


def _valid_answers(work: Path) -> Path:
    path = work / "valid-answers.json"
    path.write_text('[{"id": 1005, "response": "No"}]')
    return path


READERS = [
    Reader("score", "responses", lambda f, w: ["score", str(f), "--allow-partial", "--type", "d"]),
    Reader(
        "score-items",
        "responses",
        lambda f, w: [
            "score",
            str(f),
            "--type",
            "d",
            "--allow-partial",
            "--items",
            str(w / "items.jsonl"),
            "--json",
            str(w / "scores.json"),
        ],
    ),
    *[
        Reader(
            f"score-g-{mode}",
            "responses",
            lambda f, w, mode=mode: [
                "score",
                str(f),
                "--type",
                "g",
                "--mode",
                mode,
                "--allow-partial",
                "--spacy-model",
                _spacy(),
                "--items",
                str(w / "items.jsonl"),
            ],
            needs=("spacy",),
        )
        for mode in ("strict", "official")
    ],
    Reader(
        "captions-import-descriptions",
        "responses",
        lambda f, w: [
            "captions",
            "import",
            "--from",
            "descriptions",
            str(f),
            "--out",
            str(w / "captions.jsonl"),
        ],
    ),
    Reader("captions-check", "dump", lambda f, w: ["captions", "check", str(f)]),
    Reader(
        "captions-score",
        "dump",
        lambda f, w: [
            "captions",
            "score",
            str(f),
            "--limit-images",
            "1",
            "--spacy-model",
            _spacy(),
        ],
        needs=("spacy",),
    ),
    Reader(
        "prompts",
        "dump",
        lambda f, w: [
            "prompts",
            "--captions",
            str(f),
            "--limit-images",
            "1",
            "--out",
            str(w / "prompts.jsonl"),
        ],
    ),
    Reader(
        "run",
        "dump",
        lambda f, w: ["run", "--captions", str(f), "--out", str(w / "results"), *MOCK_RUN],
    ),
    Reader(
        "ask",
        "prompts",
        lambda f, w: [
            "ask",
            "--llm",
            "mock-no",
            "--prompts",
            str(f),
            "--out",
            str(w / "answers.jsonl"),
            "--no-progress",
        ],
    ),
    Reader("filter-pairs-jsonl", "pairs-jsonl", _pairs_args, needs=("clip",)),
    Reader("filter-pairs-csv", "pairs-csv", _pairs_args, needs=("clip",)),
    Reader("filter-pairs-features", "features", _features_args, needs=("clip",)),
    Reader(
        "protocol-gap-descriptions",
        "responses",
        lambda f, w: _gap_args(f, _valid_answers(w), w),
    ),
    Reader(
        "protocol-gap-answers",
        "responses",
        lambda f, w: _gap_args(_valid_descriptions(w), f, w),
    ),
    Reader("jury-metrics", "metrics", _jury_args),
    Reader("jury-run-record", "run-record", _jury_args),
    Reader("report-metrics", "metrics", _report_args),
    Reader("report-run-record", "run-record", _report_args),
    Reader(
        "import-jsonl",
        "import-jsonl",
        lambda f, w: [
            "captions",
            "import",
            str(f),
            "--from",
            "jsonl",
            "--out",
            str(w / "dump.jsonl"),
        ],
    ),
    Reader(
        "import-coco",
        "import-coco",
        lambda f, w: [
            "captions",
            "import",
            str(f),
            "--from",
            "coco",
            "--out",
            str(w / "dump.jsonl"),
        ],
    ),
    Reader(
        "prompts-template",
        "template",
        lambda f, w: [
            "prompts",
            "--captions",
            _dump_file(w),
            "--limit-images",
            "1",
            "--template",
            str(f),
            "--out",
            str(w / "prompts.jsonl"),
        ],
    ),
    Reader(
        "run-template",
        "template",
        lambda f, w: [
            "run",
            "--captions",
            _dump_file(w),
            "--template",
            str(f),
            "--out",
            str(w / "results"),
            *MOCK_RUN,
        ],
    ),
]


def cases() -> list[tuple[Hostile, Reader]]:
    """Every (input, reader) pair whose input applies to the reader's kind."""
    return [
        (hostile, reader)
        for hostile in INPUTS
        for reader in READERS
        if hostile.build(KINDS[reader.kind]) is not None
    ]
