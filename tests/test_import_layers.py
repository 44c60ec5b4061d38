"""The package's layers: no import circles, no import of a higher layer, no heavy reading path.

The import graph is read from the source (``ast``), so a failure names the modules and the
line; the fresh-interpreter tests import a layer and list the modules it pulled in.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import amber_eval

PACKAGE = Path(amber_eval.__file__).resolve().parent

#: Lowest first: a module may import its own layer and the ones below it, never one above.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "base",
        frozenset(
            {
                "amber_eval",
                "amber_images",
                "errors",
                "io",
                "terms",
                "registry",
                "progress",
                "torch_device",
                "distributed",
                "cache",
                "judge_options",
                "nltk_resources",
            }
        ),
    ),
    # the caption records and selection settings a run config holds (the captions package
    # itself names its exports lazily)
    (
        "data",
        frozenset(
            {"data", "file_digests", "captions.__init__", "captions.records", "captions.selection"}
        ),
    ),
    ("run folder", frozenset({"run_folder"})),
    ("scoring", frozenset({"scoring", "statistics"})),
    ("stages", frozenset({"captions", "prompting", "judge", "pairs", "segmenter"})),
    ("runs", frozenset({"runs"})),
    ("reports", frozenset({"reporting", "checks"})),
    ("benchmarks", frozenset({"benchmarks"})),
    ("command line", frozenset({"cli", "__main__"})),
)

#: Import circles still allowed, each as its set of modules (to be emptied, not grown).
ALLOWED_CYCLES: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    top: bool
    """At module level (run on import), not inside a function."""


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, _dirs, files in os.walk(PACKAGE, followlinks=True):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = Path(folder) / name
            parts = ["amber_eval", *path.relative_to(PACKAGE).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _edges(module: str, path: Path) -> list[Edge]:
    """The imports of ``module`` of other amber_eval modules (``TYPE_CHECKING`` ones left out)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges: list[Edge] = []

    def add(target: str, node: ast.stmt, top: bool) -> None:
        resolved = _resolve(target)
        if resolved and resolved != module:
            edges.append(Edge(module, resolved, node.lineno, top))

    def visit(nodes: list[ast.stmt], top: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _type_checking(node):
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("amber_eval"):
                        add(alias.name, node, top)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                if base.startswith("amber_eval"):
                    for alias in node.names:
                        add(f"{base}.{alias.name}", node, top)
            inner = top and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    visit(children, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")).body, True)
    return edges


EDGES = sorted(
    {edge for module, path in MODULES.items() for edge in _edges(module, path)},
    key=lambda edge: (edge.source, edge.line, edge.target),
)


def _layer(module: str) -> int:
    """The rank of ``module``'s layer: its own entry in LAYERS (a package's own module is
    ``package.__init__``), else its package's."""
    parts = module.split(".")[1:] or ["amber_eval"]
    names = [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
    if MODULES.get(module, Path()).name == "__init__.py":
        names.insert(0, ".".join(parts) + ".__init__")
    for name in names:
        for rank, (_layer_name, members) in enumerate(LAYERS):
            if name in members:
                return rank
    raise AssertionError(f"{module}: in no layer of LAYERS; add its package to one")


def cycles(edges: list[Edge]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def strong(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                strong(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            strong(node)
    return found


def test_the_cycle_finder_finds_a_circle_and_nothing_else() -> None:
    edges = [Edge("a", "b", 1, True), Edge("b", "c", 1, True), Edge("c", "a", 1, True)]
    edges += [Edge("c", "d", 1, True), Edge("d", "e", 1, True)]
    assert cycles(edges) == [frozenset({"a", "b", "c"})]


def test_the_graph_sees_relative_and_function_level_imports() -> None:
    # runs.pipeline imports the run folder at module level and the scores inside a function
    pipeline = {(e.target, e.top) for e in EDGES if e.source == "amber_eval.runs.pipeline"}
    assert ("amber_eval.run_folder.record", True) in pipeline
    assert ("amber_eval.runs.scores", False) in pipeline
    assert "amber_eval.segmenter.pipeline" in MODULES  # the linked folder is walked too


def test_no_import_cycles() -> None:
    found = cycles([edge for edge in EDGES if edge.top])
    new = [sorted(cycle) for cycle in found if cycle not in ALLOWED_CYCLES]
    assert not new, "import circles (module-level imports): " + "; ".join(
        " <-> ".join(cycle) for cycle in new
    )


def test_every_allowed_cycle_still_exists() -> None:
    """An allowed circle that is gone leaves the list, so it cannot come back unnoticed."""
    found = cycles([edge for edge in EDGES if edge.top])
    gone = [sorted(cycle) for cycle in ALLOWED_CYCLES if cycle not in found]
    assert not gone, "remove from ALLOWED_CYCLES: " + "; ".join(" <-> ".join(c) for c in gone)


def test_no_import_cycles_through_function_level_imports_between_packages() -> None:
    """Lazy imports may close a circle inside one package, never across packages."""
    found = cycles(EDGES)
    crossing = [
        sorted(cycle)
        for cycle in found
        if cycle not in ALLOWED_CYCLES and len({m.split(".")[1] for m in cycle}) > 1
    ]
    assert not crossing, "import circles across packages: " + "; ".join(
        " <-> ".join(cycle) for cycle in crossing
    )


def test_no_upward_imports() -> None:
    upward = [
        f"{edge.source}:{edge.line} imports {edge.target} "
        f"({LAYERS[_layer(edge.source)][0]} -> {LAYERS[_layer(edge.target)][0]})"
        for edge in EDGES
        if _layer(edge.target) > _layer(edge.source)
    ]
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def _loaded_by(modules: list[str]) -> list[str]:
    """The modules a fresh interpreter holds after importing ``modules``."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def _layer_modules(rank: int) -> list[str]:
    return sorted(m for m in MODULES if _layer(m) == rank and not m.endswith("__main__"))


HEAVY = ("torch", "transformers", "open_clip", "spacy", "nltk", "matplotlib", "vllm")


@pytest.mark.parametrize("rank", range(len(LAYERS)), ids=[name for name, _ in LAYERS])
def test_importing_a_layer_loads_no_higher_layer_and_nothing_heavy(rank: int) -> None:
    loaded = _loaded_by(_layer_modules(rank))
    above = [m for m in loaded if m.startswith("amber_eval") and _layer(m) > rank]
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    assert not above, f"importing the {LAYERS[rank][0]} layer loaded: {', '.join(above)}"
    assert not heavy, f"importing the {LAYERS[rank][0]} layer loaded: {', '.join(heavy)}"


def test_the_run_folder_layer_loads_only_the_vocabulary_io_and_errors() -> None:
    loaded = _loaded_by(_layer_modules(_layer("amber_eval.run_folder")))
    allowed = {"amber_eval", "amber_eval.terms", "amber_eval.io", "amber_eval.errors"}
    # the option records a run config holds (data and their checks, no judge or caption code)
    allowed |= {"amber_eval.judge_options", "amber_eval.captions"}
    allowed |= {"amber_eval.captions.records", "amber_eval.captions.selection"}
    others = [
        m
        for m in loaded
        if m.startswith("amber_eval")
        and m not in allowed
        and not m.startswith("amber_eval.run_folder")
    ]
    assert not others, f"reading a run folder loaded: {', '.join(others)}"


def test_reading_reports_loads_no_judge_and_no_run_pipeline() -> None:
    loaded = _loaded_by(["amber_eval.reporting", "amber_eval.reporting.run_data"])
    forbidden = [
        m
        for m in loaded
        if m.startswith(("amber_eval.judge.", "amber_eval.runs", "amber_eval.captions"))
        or m == "amber_eval.judge"
    ]
    assert not forbidden, f"import amber_eval.reporting loaded: {', '.join(forbidden)}"
