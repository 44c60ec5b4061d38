"""The folder a GPU machine without network needs for ``bench-gpu check`` (``make gpu-wheels``).

A bare GPU image already holds torch, transformers, accelerate, numpy, pandas, jinja2, click,
rich, pillow and friends (:data:`ON_THE_IMAGE`). The folder adds what it lacks, within the size
that may travel with the working tree:

- ``wheels/``: the project's own wheel and the dependency wheels the check imports that the
  image does not have (:data:`PARTS`; CPython 3.12, manylinux x86_64), pinned to the versions
  installed here; bitsandbytes only if it fits;
- ``data/``: the AMBER data files (verified by sha256);
- ``llama2-7b/``: Llama-2-7B's configuration and the stand-in tokenizer, which
  ``--random-weights`` loads with no network;
- ``bundle.json``: what went in, with sizes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from amber_eval.errors import InputError, ResourceError

TRAVEL_LIMIT_BYTES = 64 * 2**20
"""What may travel to the GPU machine: the working tree and the folder together."""

PYTHON_VERSION = "3.12"
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)

ON_THE_IMAGE = frozenset(
    {
        "accelerate",
        "click",
        "filelock",
        "huggingface-hub",
        "jinja2",
        "markupsafe",
        "numpy",
        "packaging",
        "pandas",
        "pillow",
        "pyyaml",
        "regex",
        "rich",
        "safetensors",
        "scikit-image",
        "scipy",
        "sentencepiece",
        "timm",
        "tokenizers",
        "torch",
        "torchvision",
        "tqdm",
        "transformers",
    }
)
"""Distributions the check imports that the bare GPU image holds (docs/gpu.md)."""

PARTS: dict[str, tuple[str, ...]] = {
    "judge": ("platformdirs",),
    "segmenter": ("open_clip_torch", "ftfy", "wcwidth", "pycocotools"),
    "nf4": ("bitsandbytes",),
}
"""Dependency wheels per part of the check, the image lacking each of them."""

MODEL_FOLDER = "llama2-7b"
DATA_FOLDER = "data"
WHEELS_FOLDER = "wheels"


@dataclass
class BundleReport:
    """What ``build_bundle`` put in the folder."""

    folder: Path
    files: dict[str, int] = field(default_factory=dict)
    """Path relative to the folder -> bytes."""
    tree_bytes: int = 0
    left_out: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(self.files.values())

    @property
    def travelling_bytes(self) -> int:
        return self.bytes + self.tree_bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "tree_bytes": self.tree_bytes,
            "travelling_bytes": self.travelling_bytes,
            "limit_bytes": TRAVEL_LIMIT_BYTES,
            "left_out": self.left_out,
        }


def pinned(name: str) -> str:
    """``name==<version installed here>`` (the versions the tests ran on), else ``name``."""
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return name


def pip_download(requirement: str, target: Path) -> None:
    """Download one wheel (no dependencies) for CPython 3.12 on manylinux x86_64."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    _pip(
        "download", "--no-deps", "--only-binary=:all:", "--python-version", PYTHON_VERSION,
        "--implementation", "cp", *platforms, "-d", str(target), requirement,
    )  # fmt: skip


def project_wheel(source: Path, target: Path) -> None:
    """Build the project's own wheel (no dependencies, no download) from a copy of the files
    git would send, so no build folder of an earlier build slips in and none is left behind."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="amber-eval-wheel-") as scratch:
        copy = Path(scratch) / "amber-eval"
        for name in tree_files(source):
            origin, path = source / name, copy / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_symlink():
                path.symlink_to(origin.readlink())
            elif origin.is_file():
                shutil.copy2(origin, path)
        _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(target), str(copy))


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise ResourceError(f"`pip {' '.join(args)}` failed (exit {done.returncode}):\n{tail}")


def source_root() -> Path:
    """The checkout this package runs from (the folder holding pyproject.toml)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise ResourceError(
            f"{root} holds no pyproject.toml: build the GPU folder from a checkout of amber-eval"
        )
    return root


def tree_files(root: Path) -> list[str]:
    """The files git would send: tracked, and untracked ones it does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        raise ResourceError(f"{root}: `git ls-files` failed; build the GPU folder in a checkout")
    return sorted({name for name in listed.stdout.decode("utf-8").split("\0") if name})


def tree_bytes(root: Path) -> int:
    """Bytes of :func:`tree_files` (a symbolic link travels as a link: not counted)."""
    paths = (root / name for name in tree_files(root))
    return sum(path.stat().st_size for path in paths if path.is_file() and not path.is_symlink())


def _sizes(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def build_bundle(
    folder: Path,
    *,
    data_dir: Path | None = None,
    parts: Sequence[str] = tuple(PARTS),
    root: Path | None = None,
    download: Callable[[str, Path], None] = pip_download,
    build_wheel: Callable[[Path, Path], None] = project_wheel,
    echo: Callable[[str], None] = print,
) -> BundleReport:
    """Fill ``folder`` (emptied first) with what ``bench-gpu check`` needs there.

    The ``nf4`` part (bitsandbytes) goes in last, and only if the working tree and the folder
    stay within :data:`TRAVEL_LIMIT_BYTES`; the rest must fit, or this raises.
    """
    from amber_eval.data.benchmark import verify_data_dir
    from amber_eval.data.location import resolve_data_dir
    from amber_eval.data.manifest import FILES
    from amber_eval.judge.random_weights import write_config_folder

    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise InputError(f"unknown part(s) {', '.join(unknown)}; parts: {', '.join(PARTS)}")
    root = root if root is not None else source_root()
    if folder.resolve() == root.resolve() or root.resolve().is_relative_to(folder.resolve()):
        raise InputError(f"{folder}: the GPU folder must be a folder of its own in the checkout")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "bundle.json").is_file():
        raise InputError(
            f"{folder} holds files and no bundle.json: it is not a folder this command filled, "
            "so it is left alone. Give a new or empty folder (or remove this one)"
        )
    if folder.exists():
        shutil.rmtree(folder)
    wheels = folder / WHEELS_FOLDER
    wheels.mkdir(parents=True)
    echo(f"building the amber-eval wheel from {root}")
    build_wheel(root, wheels)
    for part in parts:
        if part == "nf4":
            continue
        for name in PARTS[part]:
            echo(f"downloading {pinned(name)} ({part})")
            download(pinned(name), wheels)
    source = resolve_data_dir(data_dir)
    verify_data_dir(source)
    for file in FILES:
        target = folder / DATA_FOLDER / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / file.path, target)
    echo(f"copied {len(FILES)} AMBER data files from {source}")
    write_config_folder(folder / MODEL_FOLDER, "llama2-7b")
    echo(f"wrote {MODEL_FOLDER}/: Llama-2-7B's configuration and the stand-in tokenizer")
    report = BundleReport(folder, _sizes(folder), tree_bytes(root))
    if report.travelling_bytes > TRAVEL_LIMIT_BYTES:
        raise ResourceError(
            f"{folder}: {_mib(report.bytes)} and the working tree's {_mib(report.tree_bytes)} "
            f"exceed the {_mib(TRAVEL_LIMIT_BYTES)} that may travel"
        )
    if "nf4" in parts:
        _add_if_it_fits(report, wheels, download, echo)
    _write_manifest(report)
    echo(
        f"{folder}: {_mib(report.bytes)} in {len(report.files)} files; with the working tree "
        f"{_mib(report.travelling_bytes)} of {_mib(TRAVEL_LIMIT_BYTES)}"
    )
    for name in report.left_out:
        echo(f"left out: {name}")
    return report


def _add_if_it_fits(
    report: BundleReport,
    wheels: Path,
    download: Callable[[str, Path], None],
    echo: Callable[[str], None],
) -> None:
    """Download the nf4 wheels to the side; move them in only if the total stays in the limit."""
    side = report.folder / ".nf4"
    side.mkdir()
    try:
        for name in PARTS["nf4"]:
            echo(f"downloading {pinned(name)} (nf4)")
            download(pinned(name), side)
        extra = _sizes(side)
        if report.travelling_bytes + sum(extra.values()) > TRAVEL_LIMIT_BYTES:
            report.left_out.extend(
                f"{name} ({_mib(size)}: over the limit; NF4 needs a folder of its own, "
                "`make gpu-wheels GPU_PARTS=judge,nf4`)"
                for name, size in extra.items()
            )
            return
        for name, size in extra.items():
            shutil.move(side / name, wheels / name)
            report.files[f"{WHEELS_FOLDER}/{name}"] = size
    finally:
        shutil.rmtree(side, ignore_errors=True)


def _write_manifest(report: BundleReport) -> None:
    from amber_eval.io import atomic_write_json

    atomic_write_json(report.folder / "bundle.json", report.to_json())
    report.files["bundle.json"] = (report.folder / "bundle.json").stat().st_size


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
