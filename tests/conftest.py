"""Shared fixtures. Data folders come from the documented environment variables."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from parts import NEVER_REQUIRED, PARTS, declared_parts, part_of, requires, requires_module


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


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def _require_declared(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skip for a part this run declares it provides into a failure naming the part."""
    declared = declared_parts()
    if declared is None or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    part = part_of(reason)
    if part is None:
        problem = "skipped without naming a part (skip through tests/parts.py's requires)"
    elif part in declared and part not in NEVER_REQUIRED:
        problem = f"{part} is declared in AMBER_EVAL_CI_PROVIDES but missing: {PARTS[part]}"
    else:
        return
    report.outcome = "failed"
    report.longrepr = f"{problem}\n  skip reason: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    _require_declared(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    _require_declared(outcome.get_result())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line: how many tests skipped, per missing part, and why."""
    reports = [r for r in terminalreporter.stats.get("skipped", []) if r.skipped]
    if not reports:
        return
    reasons: Counter[tuple[str, str]] = Counter()
    for report in reports:
        reason = _skip_reason(report)
        reasons[(part_of(reason) or "unnamed", reason.split("] ", 1)[-1])] += 1
    parts = ", ".join(f"{n} for {part} ({why})" for (part, why), n in sorted(reasons.items()))
    terminalreporter.write_line(f"skipped {sum(reasons.values())}: {parts}")
