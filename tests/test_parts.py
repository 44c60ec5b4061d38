"""The skip policy: a skip names its part; where the part is declared provided, it fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SUITE = """
import pytest
from parts import requires, requires_mark

def test_passes():
    pass

def test_needs_latex():
    requires("latex", "pdflatex is not installed")

@requires_mark("browser", True, "Chromium is not installed")
def test_needs_browser():
    pass

def test_needs_a_gpu():
    requires("gpu", "needs a CUDA GPU")

def test_skips_without_a_part():
    pytest.skip("some reason")
"""


def _run(tmp_path: Path, provides: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "AMBER_EVAL_CI_PROVIDES"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if provides is not None:
        env["AMBER_EVAL_CI_PROVIDES"] = provides
    command = [sys.executable, "-m", "pytest", "-p", "parts", "-p", "no:cacheprovider", "-q",
               "-rfEs", "--rootdir", str(tmp_path), str(tmp_path / "test_suite.py")]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def test_locally_skips_stay_skips_and_are_summed_up(tmp_path: Path) -> None:
    result = _run(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 4 skipped" in result.stdout
    summary = next(line for line in result.stdout.splitlines() if line.startswith("skipped 4:"))
    assert "1 for latex (pdflatex is not installed)" in summary
    assert "1 for browser (Chromium is not installed)" in summary
    assert "1 for gpu (needs a CUDA GPU)" in summary and "1 for unnamed (some reason)" in summary


@pytest.mark.parametrize("how", ["in the test", "by a mark"])
def test_a_declared_part_that_is_missing_fails_naming_it(tmp_path: Path, how: str) -> None:
    part, test = {"in the test": ("latex", "test_needs_latex"),
                  "by a mark": ("browser", "test_needs_browser")}[how]  # fmt: skip
    result = _run(tmp_path, f"data,{part},gpu")
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert any(test in line for line in failed), result.stdout
    assert f"{part} is declared in AMBER_EVAL_CI_PROVIDES but missing" in result.stdout
    # the GPU stays a skip even where declared; a skip without a part fails in CI
    assert not any("test_needs_a_gpu" in line for line in failed)
    assert any("test_skips_without_a_part" in line for line in failed)
    assert "skipped without naming a part" in result.stdout


def test_undeclared_parts_stay_skips_in_ci(tmp_path: Path) -> None:
    result = _run(tmp_path, "data")
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert [line.split()[1].split("::")[1] for line in failed] == ["test_skips_without_a_part"]


def test_a_module_that_skips_for_a_declared_part_fails(tmp_path: Path) -> None:
    (tmp_path / "test_module.py").write_text(
        'from parts import requires\nrequires("vllm", "no .venv-vllm")\n\ndef test_x():\n    pass\n',
        encoding="utf-8",
    )
    env = dict(os.environ, AMBER_EVAL_CI_PROVIDES="vllm")
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "pytest", "-p", "parts", "-p", "no:cacheprovider", "-q",
               "--rootdir", str(tmp_path), str(tmp_path / "test_module.py")]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "vllm is declared in AMBER_EVAL_CI_PROVIDES but missing" in result.stdout
