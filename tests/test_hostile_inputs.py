"""Every hostile input through every command that reads it: exit code 2, an ``error:`` line
naming the file, no traceback, and every file that was there before left byte for byte.

The corpus is ``tests/hostile_inputs.py``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile_inputs import KINDS, Hostile, Reader, cases
from parts import requires_module

pytestmark = pytest.mark.usefixtures("amber_data_dir", "nltk_data_dir")

RunCli = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    requires_module("open_clip")
    from amber_eval.benchmarks.synthetic_pairs import write_tiny_clip

    return str(write_tiny_clip(tmp_path_factory.mktemp("clip"), seed=7))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("hostile", "reader"), cases(), ids=[f"{h.name}-{r.name}" for h, r in cases()]
)
def test_hostile_input_is_a_clear_error(
    hostile: Hostile,
    reader: Reader,
    tmp_path: Path,
    run_cli: RunCli,
    request: pytest.FixtureRequest,
) -> None:
    if "spacy" in reader.needs:
        request.getfixturevalue("parity_dir")
    work = tmp_path / "work"
    work.mkdir()
    if "clip" in reader.needs:
        (work / "clip-model.txt").write_text(request.getfixturevalue("clip_dir"), "utf-8")
    kind = KINDS[reader.kind]
    path = tmp_path / kind.file_name
    if hostile.folder:
        path.mkdir()
    else:
        content = hostile.build(kind)
        assert content is not None
        path.write_bytes(content)
    args = reader.args(path, work)
    before = _hashes(tmp_path)
    code, out, err = run_cli(args)
    assert "Traceback" not in out + err
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert lines, err
    assert kind.file_name in err, err
    after = _hashes(tmp_path)
    assert {name: after.get(name) for name in before} == before
