"""The documentation runs: every command and Python snippet of README.md and docs/*.md.

Every fenced block of README.md and docs/*.md whose language is bash, console, sh, python or
none is found here; a new page or block is picked up without changing this file. Each
``amber-eval`` command of a block is checked against the CLI (the command exists, every option
it names exists), then the block is run in a scratch folder prepared by ``workspace`` (run
folders, a caption dump, responses, pairs): commands in this process, Python with ``exec``.

An HTML comment right before a block says how to test it where running it as written is not
possible (it needs a GPU, a download or another tool); the comment is not shown on the page:

- ``<!-- docs-test: offline ... -->``: the lines after ``offline`` run instead (commands, or
  Python for a Python block), the offline equivalent of the example (``$VAR`` is expanded,
  ``*`` is globbed in the workspace);
- ``<!-- docs-test: setup ... -->`` (Python): the lines run first, then the block as written;
- ``<!-- docs-test: synopsis -->``: a usage line; its command and options are checked;
- ``<!-- docs-test: not run: REASON -->``: checked like a synopsis, never run.

A block without a comment runs as written; a line of it that is not an ``amber-eval`` command
(make, pip, accelerate, ...) fails the test until its block says how to test it.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGUAGES = {"bash", "console", "sh", "shell", "python", ""}
_FENCE = re.compile(
    r"(?:^ *<!-- docs-test: (?P<kind>offline|setup|synopsis|not run)"
    r"(?::? ?(?P<body>(?:(?!-->).)*))?-->\s*\n)?"
    r"^(?P<indent> *)```(?P<lang>[a-z]*)\n(?P<code>.*?)^(?P=indent)```",
    re.S | re.M,
)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    code: str
    kind: str | None
    body: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks() -> Iterator[Block]:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for found in _FENCE.finditer(text):
            code = textwrap.dedent(found.group("code"))
            language = found.group("lang")
            if language not in RUN_LANGUAGES:
                continue
            if not language and "amber-eval " not in code:  # a template, a grammar, a diagram
                continue
            yield Block(
                page=str(page.relative_to(ROOT)),
                line=text.count("\n", 0, found.start("lang")) + 1,
                language=language,
                code=code,
                kind=found.group("kind"),
                body=textwrap.dedent(found.group("body") or "").strip(),
            )


def command_lines(code: str) -> list[str]:
    """The shell commands of a block: continuations joined, prompts and comments removed."""
    joined = re.sub(r"\\\n\s*", " ", code)
    lines = []
    for raw in joined.splitlines():
        line = raw.strip().removeprefix("$ ")
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _words(line: str) -> list[str]:
    return shlex.split(line, comments=True)


def amber_eval_args(line: str) -> list[str] | None:
    """The arguments after ``amber-eval`` (or ``-m amber_eval``) in ``line``, else None."""
    words = _words(line)
    for i, word in enumerate(words):
        if word == "amber-eval":
            return words[i + 1 :]
        if word == "amber_eval" and i > 0 and words[i - 1] == "-m":
            return words[i + 1 :]
    return None


def _resolve(args: list[str]) -> tuple[str, click.Command, list[str]]:
    from amber_eval.cli.main import cli

    command: click.Command = cli
    names: list[str] = []
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"no command `amber-eval {' '.join([*names, rest[0]])}`"
        names.append(rest.pop(0))
        command = sub
    return " ".join(names), command, rest


def option_problems(args: list[str]) -> list[str]:
    """What in ``args`` the CLI does not have: an unknown command or option."""
    try:
        name, command, rest = _resolve(args)
    except AssertionError as exc:
        return [str(exc)]
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    known.add("--help")
    problems = []
    for word in rest:
        for option in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", word.split("=", 1)[0]):
            if option not in known:
                problems.append(f"`amber-eval {name}` has no option {option}")
    return problems


def test_the_pages_hold_runnable_blocks() -> None:
    found = list(blocks())
    assert len({b.page for b in found}) >= 8 and len(found) >= 40


@pytest.mark.parametrize("block", list(blocks()), ids=lambda b: b.where)
def test_documented_commands_and_options_exist(block: Block) -> None:
    if block.language == "python":
        return
    problems = []
    for line in command_lines(block.code):
        args = amber_eval_args(line)
        if args is not None:
            problems += [f"{block.where}: {p} ({line})" for p in option_problems(args)]
    assert not problems, "\n".join(problems)


def inline_commands() -> Iterator[tuple[str, str]]:
    """``amber-eval ...`` commands written inline in the text (between backticks)."""
    for page in PAGES:
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
        for found in re.finditer(r"`(amber-eval [^`]+)`", text):
            line = text.count("\n", 0, found.start()) + 1
            yield f"{page.relative_to(ROOT)}:{line}", found.group(1)


def test_inline_commands_and_options_exist() -> None:
    problems = []
    for where, command in inline_commands():
        if "*" in command:  # a family of commands, `amber-eval bench*`
            continue
        args = shlex.split(command)[1:]
        problems += [f"{where}: {p} ({command})" for p in option_problems(args)]
    assert not problems, "\n".join(problems)


# -- running the blocks -------------------------------------------------------------------


def _expand(line: str, folder: Path) -> list[str]:
    words = []
    for word in _words(os.path.expandvars(line)):
        matches = sorted(glob.glob(word, root_dir=folder)) if "*" in word else []
        words += matches or [word]
    return words


def _run_commands(lines: list[str], run_cli: Callable[[list[str]], tuple[int, str, str]],
                  block: Block, folder: Path) -> None:  # fmt: skip
    for line in lines:
        args = amber_eval_args(line)
        assert args is not None, (
            f"{block.where}: `{line}` is not an amber-eval command: say how to test the block "
            "in an HTML comment before it (see tests/test_docs.py)"
        )
        words = _expand(line, folder)
        code, out, err = run_cli(words[words.index("amber-eval") + 1 :] if "amber-eval" in words
                                 else words[words.index("amber_eval") + 1 :])  # fmt: skip
        assert code == 0, f"{block.where}: `{line}` exited {code}\n{out[-2000:]}\n{err[-2000:]}"


def _run_python(code: str, block: Block) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(code, block.where, "exec"), namespace)


RUNNABLE = [b for b in blocks() if b.kind not in ("synopsis", "not run")]


@pytest.mark.slow
@pytest.mark.usefixtures("nltk_data_dir")
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.where)
def test_documented_examples_run(
    block: Block,
    workspace: Path,
    run_cli: Callable[[list[str]], tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.chdir(workspace)
    if "AMBER_EVAL_PARITY" in block.body:  # the offline stand-in for en_core_web_lg's vectors
        request.getfixturevalue("parity_dir")
    if block.language == "python":
        if block.kind == "offline":
            _run_python(block.body, block)
        else:
            _run_python((block.body if block.kind == "setup" else "") + "\n" + block.code, block)
        return
    lines = command_lines(block.body if block.kind == "offline" else block.code)
    _run_commands(lines, run_cli, block, workspace)


@pytest.fixture(scope="session")
def workspace(
    tmp_path_factory: pytest.TempPathFactory, amber_data_dir: Path, benchmark: Any
) -> Iterator[Path]:
    """A user's working folder after the quick start: what the documented examples read.

    ``results/oracle``, ``results/mymodel`` and ``results/regioncap`` hold mock-judge runs
    (three images), ``results/mymodel/captions.jsonl`` and ``my-dump.jsonl`` the oracle caption
    dump of every image, ``responses.json`` an answer for every AMBER item, ``pairs.jsonl``/``pairs.csv``
    with ``images/`` and ``feats/`` a two-pair parse-and-filter corpus; ``$DOCS_TINY_CLIP`` names
    a random tiny CLIP, the offline stand-in for the default weights.
    """
    import json

    import numpy as np
    from PIL import Image

    from amber_eval.benchmarks.synthetic_pairs import write_tiny_clip
    from amber_eval.captions.oracle import oracle_dump
    from amber_eval.captions.writer import write_dump
    from amber_eval.runs import RunConfig, run_evaluation

    folder = tmp_path_factory.mktemp("docs") / "work"
    folder.mkdir()
    images = benchmark.first_images(3)
    dump, _report = oracle_dump(benchmark)
    write_dump(folder / "my-dump.jsonl", dump.header, dump.images)
    for model in ("mymodel", "regioncap"):
        (folder / "results" / model).mkdir(parents=True)
        write_dump(folder / "results" / model / "captions.jsonl", dump.header, dump.images)
    for model in ("oracle", "mymodel", "regioncap"):
        captions = folder / "results" / model / "captions.jsonl"
        run_evaluation(
            RunConfig(
                captions="oracle" if model == "oracle" else str(captions),
                model=model,
                llm="mock-no",
                limit_images=3,
                out=folder / "results",
                show_progress=False,
            )
        )
    answers = [{"id": i, "response": "A dog on the grass."} for i in benchmark.generative]
    answers += [{"id": i, "response": "No"} for i in benchmark.questions]
    (folder / "responses.json").write_text(json.dumps(answers), encoding="utf-8")
    (folder / "images").mkdir()
    (folder / "feats").mkdir()
    rng = np.random.default_rng(0)
    for image in images[:2]:
        pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "images" / image)
        features = rng.standard_normal((3, 64)).astype(np.float32)
        np.savez(folder / "feats" / Path(image).with_suffix(".npz"), features=features)
    pairs = [
        {"id": "1", "image": images[0], "caption": "A brown dog on the green grass."},
        {"id": "2", "image": images[1], "caption": "A red car next to a tall tree."},
    ]
    (folder / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    rows = "".join(f'{p["id"]},{p["image"]},"{p["caption"]}"\n' for p in pairs)
    (folder / "pairs.csv").write_text("id,image,caption\n" + rows)
    clip = write_tiny_clip(folder.parent / "clip")
    before = os.environ.get("DOCS_TINY_CLIP")
    os.environ["DOCS_TINY_CLIP"] = clip
    yield folder
    if before is None:
        del os.environ["DOCS_TINY_CLIP"]
    else:
        os.environ["DOCS_TINY_CLIP"] = before
