"""Shared fixtures. Data folders come from the documented environment variables."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from parts import (  # noqa: F401 (the skip policy's hooks, see tests/parts.py)
    pytest_make_collect_report,
    pytest_runtest_makereport,
    pytest_terminal_summary,
    requires,
    requires_module,
)


def _env_dir(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value and Path(value).is_dir() else None


@pytest.fixture(scope="session")
def amber_data_dir() -> Path:
    """AMBER's data folder (``AMBER_EVAL_DATA``)."""
    folder = _env_dir("AMBER_EVAL_DATA")
    if folder is None:
        requires("data", "AMBER_EVAL_DATA is not set to AMBER's data folder (make test sets it)")
    return folder


@pytest.fixture(scope="session")
def benchmark(amber_data_dir: Path):  # type: ignore[no-untyped-def]
    from amber_eval.data import load_benchmark

    return load_benchmark(amber_data_dir)


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    """The official-scorer parity fixture (``AMBER_EVAL_PARITY``)."""
    folder = _env_dir("AMBER_EVAL_PARITY")
    if folder is None:
        requires(
            "parity",
            "AMBER_EVAL_PARITY is not set to the parity fixture folder (make test sets it)",
        )
    return folder


@pytest.fixture(scope="session")
def nltk_data_dir() -> Path:
    folder = _env_dir("NLTK_DATA")
    if folder is None:
        requires("data", "NLTK_DATA is not set (make test sets it)")
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama judge and its tokenizer saved to a folder, loadable by path.

    "Yes" and "No" are both pushed up as the first answer token: the context decides.
    """
    requires_module("transformers")
    from llm_fixtures import tiny_llama, tiny_tokenizer

    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = tiny_tokenizer()
    model = tiny_llama(tokenizer, first=["▁Yes", "▁No"])
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[[list[str]], tuple[int, str, str]]:
    """Run ``amber-eval ARGS`` in this process: returns (exit code, stdout, stderr)."""
    from amber_eval.cli.main import main

    def invoke(args: list[str]) -> tuple[int, str, str]:
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke
