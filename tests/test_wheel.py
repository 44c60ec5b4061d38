"""The built wheel: contents, and a working non-editable install in a fresh virtual environment.

Slow (builds a wheel, creates a venv, installs the core dependencies from the package index).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "results",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".cache",
    ".whl",
    ".gl",
    "tests",
)

pytestmark = pytest.mark.slow


def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the working tree (the tree itself stays untouched)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=IGNORED)
    out = base / "dist"
    args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)]
    if importlib.util.find_spec("setuptools") is not None:
        args.insert(4, "--no-build-isolation")  # build with the installed setuptools, offline
    run(args, cwd=base)
    (built,) = out.glob("amber_eval-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "amber_eval/prompts/paper.jinja",
        "amber_eval/prompts/paper-alt.jinja",
        "amber_eval/segmenter/__init__.py",
        "amber_eval/resources/caption-dump.schema.json",
        "amber_eval/cli/main.py",
        "amber_eval/py.typed",
    ):
        assert required in names, f"{required} is missing from {wheel.name}"
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level - {"amber_eval"} == {
        n for n in top_level if n.endswith((".dist-info", ".data"))
    }, f"unexpected top-level entries: {sorted(top_level)}"
    assert "segmenter" not in top_level and "prompts" not in top_level
    assert not any(name.startswith("tests/") for name in names)


def test_installed_wheel_works(wheel: Path, tmp_path: Path, amber_data_dir: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheel),
        ],
        cwd=tmp_path,
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(
        AMBER_EVAL_DATA=str(amber_data_dir),
        AMBER_EVAL_CACHE=str(tmp_path / "cache"),
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    work = tmp_path / "work"  # outside the repository: only the installed package is importable
    work.mkdir()
    amber = str(venv / "bin" / "amber-eval")

    location = run(
        [str(python), "-c", "import amber_eval; print(amber_eval.__file__)"], cwd=work, env=env
    )
    assert Path(location.strip()).is_relative_to(venv), location
    assert run([amber, "--version"], cwd=work, env=env).strip() == "amber-eval, version 0.1.0"

    # Templates and the schema are package data of the installed wheel.
    rendered = run(
        [
            str(python),
            "-c",
            "from amber_eval.prompting import load_template, template_names;"
            "from amber_eval.captions.dump import schema;"
            "print(template_names(), sorted(schema()['$defs']));"
            "print(load_template('paper').render(['a dog.'.rstrip('.')], 'Is there a cat?'))",
        ],
        cwd=work,
        env=env,
    ).splitlines()
    assert rendered == [
        "['paper', 'paper-alt'] ['header', 'image', 'region', 'rle']",
        "If an image contains a dog. Is there a cat? Answer the Yes-No question with only the "
        "single word with nothing else.",
    ]
    run([str(python), "-c", "import amber_eval.segmenter"], cwd=work, env=env)

    # captions check on a small dump.
    dump = work / "dump.jsonl"
    header = {
        "format": "amber-eval/region-captions",
        "version": 1,
        "captioner": {"name": "toy"},
        "created": "2026-01-01T00:00:00Z",
    }
    lines = [header, {"image": "AMBER_1.jpg", "regions": [{"caption": "a dog"}]}]
    dump.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert "valid caption dump" in run([amber, "captions", "check", str(dump)], cwd=work, env=env)

    # score, strict, type de: "Yes" to the first quarter of the existence questions (all of
    # whose truths are "no"), "No" to the rest. Positive class "No": 3,693 true positives,
    # 1,231 false negatives, no false positives.
    queries = json.loads(
        (amber_data_dir / "query" / "query_discriminative-existence.json").read_text()
    )
    assert len(queries) == 4924
    answers = [
        {"id": q["id"], "response": "Yes" if i < 1231 else "No"} for i, q in enumerate(queries)
    ]
    responses = work / "responses.json"
    responses.write_text(json.dumps(answers))
    out = work / "scores.json"
    printed = run(
        [amber, "score", str(responses), "--type", "de", "--mode", "strict", "--json", str(out)],
        cwd=work,
        env=env,
    )
    assert "existence" in printed
    existence = json.loads(out.read_text())["existence"]
    assert existence["n"] == 4924
    assert existence["Accuracy"] == pytest.approx(75.0)
    assert existence["Precision"] == pytest.approx(100.0)
    assert existence["Recall"] == pytest.approx(75.0)
    assert existence["F1"] == pytest.approx(2 * 100 * 75 / 175)
