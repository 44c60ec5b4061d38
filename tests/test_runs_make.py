"""``make eval``: the commands it runs (dry run), for oracle captions, a caption file, and
captioning first."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from parts import requires

ROOT = Path(__file__).resolve().parent.parent


def _dry_run(*variables: str) -> list[list[str]]:
    if shutil.which("make") is None:
        requires("make", "make is not installed")
    result = subprocess.run(
        ["make", "-s", "-n", "eval", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line.split() for line in result.stdout.splitlines() if line.strip()]


def test_oracle_with_limit() -> None:
    (command,) = _dry_run("MODEL=oracle", "LLM=smollm2-135m", "LIMIT=20")
    assert command[0].endswith("amber-eval") and command[1] == "run"
    args = command[2:]
    assert args[args.index("--captions") + 1] == "oracle"
    assert args[args.index("--llm") + 1] == "smollm2-135m"
    assert args[args.index("--limit-images") + 1] == "20"
    assert args[args.index("--mode") + 1] == "score"


def test_caption_file_and_default_llm() -> None:
    (command,) = _dry_run("MODEL=grit")
    args = command[2:]
    assert args[args.index("--captions") + 1] == "results/grit/captions.jsonl"
    assert args[args.index("--llm") + 1] == "llama2-7b"
    assert "--limit-images" not in args


def test_captioning_first() -> None:
    segment, run = _dry_run("MODEL=grit", "CAPTIONER=c", "MASKS=m", "IMAGES=i", "MODE=generate")
    assert segment[1:] == [
        "segment", "--images", "i", "--masks", "m", "--captioner", "c",
        "--out", "results/grit/captions.jsonl",
    ]  # fmt: skip
    args = run[2:]
    assert args[args.index("--captions") + 1] == "results/grit/captions.jsonl"
    assert args[args.index("--mode") + 1] == "generate"


def test_backend_and_judge_arguments_reach_the_run() -> None:
    (command,) = _dry_run(
        "MODEL=oracle", "BACKEND=openai", "JUDGE_ARGS=--base-url http://127.0.0.1:8000/v1"
    )
    args = command[2:]
    assert args[args.index("--backend") + 1] == "openai"
    assert args[args.index("--base-url") + 1] == "http://127.0.0.1:8000/v1"
    assert "--backend" not in _dry_run("MODEL=oracle")[0]
