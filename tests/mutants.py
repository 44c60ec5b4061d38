"""Apply each mutation of ``tests/mutations.toml`` in a scratch copy and report the survivors.

``python tests/mutants.py`` (``make mutants``): first the named tests must pass, without a
skip, on an unchanged copy; then each mutation is applied alone and its tests are run. A
mutation is killed when one of its tests fails; a survivor is listed and the exit code is 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("amber_eval", "prompts", "segmenter", "tests", "pyproject.toml")


@dataclass(frozen=True)
class Mutation:
    file: str
    change: str
    find: str
    replace: str
    tests: tuple[str, ...]


def load_mutations(path: Path) -> list[Mutation]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        Mutation(m["file"], m["change"], m["find"], m["replace"], tuple(m["tests"]))
        for m in data["mutation"]
    ]


def _copy(target: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                target / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
            )
        else:
            shutil.copy2(source, target / name)


def _pytest(copy: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("AMBER_EVAL_FUZZ_EXAMPLES", "200")
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, check=False)


def _apply(copy: Path, mutation: Mutation) -> None:
    path = copy / mutation.file
    text = path.read_text(encoding="utf-8")
    found = text.count(mutation.find)
    if found != 1:
        raise SystemExit(
            f"{mutation.file}: the text to mutate ({mutation.change}) occurs {found} times, "
            "not once: update tests/mutations.toml"
        )
    path.write_text(text.replace(mutation.find, mutation.replace), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--list", type=Path, default=ROOT / "tests" / "mutations.toml")
    args = parser.parse_args(argv)
    mutations = load_mutations(args.list)
    tests = tuple(dict.fromkeys(t for m in mutations for t in m.tests))
    with tempfile.TemporaryDirectory(prefix="amber-eval-mutants-") as scratch:
        base = Path(scratch) / "unchanged"
        base.mkdir()
        _copy(base)
        baseline = _pytest(base, (*tests, "-rs"))
        if baseline.returncode != 0 or " skipped" in baseline.stdout:
            print(baseline.stdout[-3000:] + baseline.stderr[-2000:])
            print("the mutation tests must pass, without skips, on the unchanged code")
            return 2
        survivors = []
        for number, mutation in enumerate(mutations, 1):
            copy = Path(scratch) / f"mutant-{number}"
            copy.mkdir()
            _copy(copy)
            _apply(copy, mutation)
            result = _pytest(copy, mutation.tests)
            killed = result.returncode == 1
            verdict = "killed" if killed else f"SURVIVED (pytest exit code {result.returncode})"
            print(f"{number}. {mutation.file}: {mutation.change}: {verdict}", flush=True)
            if not killed:
                survivors.append(mutation)
            shutil.rmtree(copy)
    print(
        f"{len(mutations) - len(survivors)} of {len(mutations)} killed, {len(survivors)} survivors"
    )
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
