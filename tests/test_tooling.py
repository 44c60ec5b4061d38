"""ruff and mypy read every source file exactly once.

``amber_eval/segmenter`` and ``amber_eval/prompts`` are links to the top-level folders: ruff
reads the folders themselves (it leaves the links out), mypy reads them through the links as
``amber_eval.segmenter`` (the names they import each other by). Neither misses a file, and
neither reads one twice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _sources() -> set[str]:
    """Every Python file of the package, the segmenter included, by its real path."""
    found = {os.path.realpath(path) for path in (ROOT / "amber_eval").rglob("*.py")}
    found |= {os.path.realpath(path) for path in (ROOT / "segmenter").rglob("*.py")}
    return found


def _once(listed: list[str]) -> None:
    counts = Counter(os.path.realpath(path) for path in listed)
    twice = sorted(path for path, count in counts.items() if count > 1)
    missed = sorted(_sources() - set(counts))
    assert not twice, f"read twice: {twice[:5]}"
    assert not missed, f"not read: {missed[:5]}"
    assert any("/segmenter/pipeline.py" in path for path in counts)


def test_ruff_reads_each_file_once() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    result = subprocess.run(
        [ruff, "check", "--show-files", "."], cwd=ROOT, capture_output=True, text=True, check=True
    )
    files = [line for line in result.stdout.splitlines() if line.endswith(".py")]
    _once([path for path in files if not Path(path).is_relative_to(ROOT / "tests")])


def test_mypy_reads_each_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    main = pytest.importorskip("mypy.main")
    monkeypatch.chdir(ROOT)  # mypy reads its configuration from the working folder
    sources, _ = main.process_options([])
    _once([source.path for source in sources if source.path])
