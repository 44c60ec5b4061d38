"""``bench-gpu check``: every GPU figure in one command, each step in its own process.

The steps are ``amber-eval`` commands a user can type (``bench``, ``bench-segment``), run one
after the other, each in a process of its own with its own time limit, killed with its
children when it runs over: a slow or crashing step is recorded as such and the next one
runs. Their JSON reports become ``gpu-figures.json`` and ``gpu-figures.md``; their output goes
to ``gpu-check.log``. ``dry_run`` runs the same steps on the CPU with a tiny random model and a
few questions, so the GPU call cannot fail on a typo (docs/gpu.md).
"""

from __future__ import annotations

import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from amber_eval.benchmarks.gpu_bundle import DATA_FOLDER, MODEL_FOLDER
from amber_eval.errors import AmberEvalError, InputError, ResourceError
from amber_eval.io import load_json, read_text

STEPS = ("versions", "judge", "naive", "segmenter", "nf4")
"""The steps of :func:`plan`, in the order they run."""

NAIVE_SAMPLE = 300
"""Questions the naive ``generate()`` loop is timed on (and both modes compared on)."""

TINY_LLAMA = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "num_hidden_layers": 2,
}
"""The dry run's model: Llama-2's configuration at test size."""

MODULES: dict[str, tuple[str, ...]] = {
    "judge": ("torch", "transformers", "accelerate", "safetensors", "tokenizers", "jinja2",
              "click", "rich", "numpy", "platformdirs"),
    "segmenter": ("open_clip", "ftfy", "wcwidth", "pycocotools", "PIL", "skimage", "torchvision"),
    "nf4": ("bitsandbytes",),
}  # fmt: skip
"""Modules each part of the check imports; a part whose modules are missing is skipped."""

DISTRIBUTIONS = ("torch", "transformers", "accelerate", "bitsandbytes", "open_clip_torch",
                 "tokenizers", "safetensors", "numpy", "amber-eval")  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One step: a command, its time limit, the JSON report it writes."""

    name: str
    argv: tuple[str, ...]
    timeout_s: int
    report: Path
    needs: tuple[str, ...] = ()
    note: str = ""

    @property
    def command(self) -> str:
        """The command as a user types it (``amber-eval ...``)."""
        words = list(self.argv)
        if words[1:3] == ["-m", "amber_eval"]:
            words = ["amber-eval", *words[3:]]
        return shlex.join(words)


@dataclass
class StepResult:
    name: str
    command: str
    status: str
    """``ok``, ``failed`` (non-zero exit or no report), ``timeout`` or ``skipped``."""
    seconds: float
    timeout_s: int
    returncode: int | None = None
    error: str | None = None
    note: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": self.command,
            "status": self.status,
            "seconds": round(self.seconds, 1),
            "timeout_s": self.timeout_s,
            "returncode": self.returncode,
            "error": self.error,
            "note": self.note,
            "figures": self.figures,
        }


def plan(bundle: Path, model: Path, work: Path, *, dry_run: bool) -> list[Step]:
    """The steps, in order of value: versions, the optimized judge on every question (both
    prefix strategies), the naive loop on a sample (score mode compared with it), the
    segmenter, NF4. The naive loop has a step of its own, so a slow loop cannot take the
    optimized figures down with it."""
    python = (sys.executable, "-m", "amber_eval")
    data = ("--data-dir", str(bundle / DATA_FOLDER)) if (bundle / DATA_FOLDER).is_dir() else ()
    judge = (*python, "bench", "--llm", str(model), "--random-weights", *data)
    images: tuple[str, ...]
    if dry_run:
        device, dtype = ("--device", "cpu"), ("--dtype", "float32")
        questions, sample, images = "30", "12", ("--size", "tiny", "--images", "2")
        limits = {"versions": 120, "judge": 300, "naive": 300, "segmenter": 180, "nf4": 300}
    else:
        device, dtype = ("--device", "cuda"), ("--dtype", "bfloat16")
        questions, sample, images = "14216", str(NAIVE_SAMPLE), ("--images", "64")
        limits = {"versions": 30, "judge": 180, "naive": 140, "segmenter": 40, "nf4": 85}
    versions = [*python, "bench-gpu", "versions", "--json", str(work / "versions.json")]
    nf4 = [*judge, *device, "--no-naive", "--json", str(work / "nf4.json")]
    if dry_run:
        nf4 += ["--questions", questions]
    else:
        versions.append("--require-cuda")
        nf4 += ["--load-in-4bit", "--questions", "1000"]
    return [
        Step("versions", tuple(versions), limits["versions"], work / "versions.json"),
        Step(
            "judge",
            (
                *judge,
                *device,
                *dtype,
                "--questions",
                questions,
                "--no-naive",
                "--compare-strategies",
                "--json",
                str(work / "judge.json"),
            ),
            limits["judge"],
            work / "judge.json",
            needs=MODULES["judge"],
        ),
        Step(
            "naive",
            (*judge, *device, *dtype, "--questions", sample, "--json", str(work / "naive.json")),
            limits["naive"],
            work / "naive.json",
            needs=MODULES["judge"],
            note=f"the naive loop and score mode on the first whole images (>= {sample} "
            "questions), answers compared question by question",
        ),
        Step(
            "segmenter",
            (
                *python,
                "bench-segment",
                "--random-weights",
                *images,
                *device,
                "--json",
                str(work / "segmenter.json"),
            ),
            limits["segmenter"],
            work / "segmenter.json",
            needs=MODULES["segmenter"],
        ),
        Step(
            "nf4",
            tuple(nf4),
            limits["nf4"],
            work / "nf4.json",
            needs=() if dry_run else MODULES["nf4"],
            note="dry run: --load-in-4bit left out (bitsandbytes needs CUDA)" if dry_run else "",
        ),
    ]


def headline(results: Sequence[StepResult]) -> dict[str, Any] | None:
    """The optimized judge on every question against the naive loop's rate on its sample,
    extrapolated to the same questions."""
    done = {result.name: result.report for result in results if result.status == "ok"}
    if "judge" not in done or not (done.get("naive") or {}).get("naive"):
        return None
    fastest = min(done["judge"]["optimized"], key=lambda phase: phase["seconds_all_questions"])
    naive = done["naive"]["naive"]
    questions = int(fastest["questions"])
    naive_seconds = questions / float(naive["questions_per_second"])
    return {
        "questions": questions,
        "optimized": fastest["name"],
        "optimized_seconds": fastest["seconds_all_questions"],
        "naive_seconds_extrapolated": round(naive_seconds, 1),
        "naive_timed_on": naive["questions"],
        "speed_up": round(naive_seconds / float(fastest["seconds_all_questions"]), 1),
    }


def missing_modules(names: Sequence[str]) -> list[str]:
    """The modules of ``names`` that cannot be imported here (found without importing)."""
    import importlib.util

    return [name for name in names if importlib.util.find_spec(name) is None]


def run_step(step: Step, log: IO[str], *, env: dict[str, str] | None = None) -> StepResult:
    """Run one step in a new process session, killed with its children at its time limit."""
    result = StepResult(step.name, step.command, "skipped", 0.0, step.timeout_s, note=step.note)
    missing = missing_modules(step.needs)
    if missing:
        result.error = f"not installed: {', '.join(missing)}"
        log.write(f"\n=== {step.name}: skipped ({result.error})\n")
        log.flush()
        return result
    log.write(f"\n=== {step.name} (limit {step.timeout_s} s): {step.command}\n")
    log.flush()
    step.report.unlink(missing_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        step.argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    try:
        result.returncode = process.wait(timeout=step.timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        result.seconds = time.perf_counter() - started
        result.status = "timeout"
        result.error = f"ran over its limit of {step.timeout_s} s and was stopped"
        return result
    result.seconds = time.perf_counter() - started
    if result.returncode != 0:
        result.status, result.error = "failed", f"exit code {result.returncode}"
    elif not step.report.is_file():
        result.status, result.error = "failed", f"wrote no report {step.report.name}"
    else:
        try:
            report = load_json(read_text(step.report, "step report"), str(step.report))
            if not isinstance(report, dict):
                raise InputError(f"{step.report}: a JSON object was expected")
            result.report, result.status = report, "ok"
        except AmberEvalError as exc:
            result.status, result.error = "failed", str(exc)
    log.write(f"=== {step.name}: {result.status} in {result.seconds:.1f} s\n")
    log.flush()
    return result


def figures_of(result: StepResult, weights: int, peak: float | None) -> dict[str, Any]:
    """The figures of one finished step, from its report."""
    from amber_eval.benchmarks.gpu_figures import agreement_figures, judge_figures

    report = result.report
    if result.name in ("judge", "naive", "nf4"):
        return {
            "phases": judge_figures(report, weights, peak),
            "speed_up": report.get("speed_up"),
            "agreement": agreement_figures(report),
            "tokens_exact": report.get("tokens_computed_equal_unique_prefix_plus_suffix"),
            "load_seconds": report.get("load_seconds"),
            "weights_in_flop_model": weights,
        }
    if result.name == "versions":
        return {"versions": {name: report.get(name) for name in DISTRIBUTIONS}}
    return dict(report)


def run_check(
    out: Path,
    *,
    bundle: Path,
    dry_run: bool = False,
    only: Sequence[str] | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the steps; write ``gpu-figures.json``, ``gpu-figures.md``, ``gpu-check.log`` and each
    step's own report, ``steps/<name>.json``, under ``out`` (eight files in all)."""
    from amber_eval.benchmarks.gpu_figures import decoder_weights, render_markdown
    from amber_eval.io import atomic_write_json, atomic_write_text

    unknown = sorted(set(only or ()) - set(STEPS))
    if unknown:
        raise InputError(f"unknown step(s) {', '.join(unknown)}; steps: {', '.join(STEPS)}")
    model = bundle / MODEL_FOLDER
    if not dry_run and not (model / "config.json").is_file():
        raise InputError(
            f"{bundle} holds no {MODEL_FOLDER}/config.json: build the folder with "
            "`make gpu-wheels` and send it with the working tree"
        )
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    steps_run: list[StepResult] = []
    work = out / "steps"
    work.mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="amber-eval-gpu-") as scratch,
        open(out / "gpu-check.log", "w", encoding="utf-8") as log,
    ):
        if dry_run:
            from amber_eval.judge.random_weights import write_config_folder

            model = write_config_folder(Path(scratch) / "tiny-llama", "llama2-7b", **TINY_LLAMA)
        config = model / "config.json"
        weights = decoder_weights(load_json(read_text(config, "model configuration"), str(config)))
        steps = plan(bundle, model, work, dry_run=dry_run)
        environment: dict[str, Any] = {}
        for step in steps:
            if only and step.name not in only:
                continue
            echo(f"{step.name}: {step.command}")
            result = run_step(step, log, env=env)
            if result.name == "versions" and result.status == "ok":
                environment = result.report
                echo(found_versions(environment))
            if result.status == "ok":
                peak = environment.get("bf16_peak_tflops")
                try:
                    result.figures = figures_of(result, weights, peak)
                except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
                    result.status = "failed"
                    result.error = (
                        f"{step.report.name} not understood ({type(exc).__name__}: {exc})"
                    )
            echo(f"{step.name}: {result.status} in {result.seconds:.1f} s"
                 + (f" ({result.error})" if result.error else ""))  # fmt: skip
            steps_run.append(result)
    summary = {
        "dry_run": dry_run,
        "environment": environment,
        "flop_model": "2 x decoder weights (layers and LM head) x tokens computed",
        "headline": headline(steps_run),
        "steps": [result.to_json() for result in steps_run],
    }
    atomic_write_json(out / "gpu-figures.json", summary)
    markdown = render_markdown(summary)
    atomic_write_text(out / "gpu-figures.md", markdown)
    echo(f"wrote {out / 'gpu-figures.json'} and {out / 'gpu-figures.md'}:\n")
    echo(markdown)
    return summary


def found_versions(found: dict[str, Any]) -> str:
    """One line: the versions the check found, the device and its driver."""
    names = ("torch", "transformers", "accelerate", "bitsandbytes", "open_clip_torch")
    versions = ", ".join(f"{name} {found.get(name) or 'missing'}" for name in names)
    missing = found.get("missing_modules") or {}
    return (
        f"found: python {found.get('python')}, {versions} (CUDA {found.get('cuda')}); "
        f"{found.get('device')}, driver {found.get('driver') or 'unknown'}"
        + "".join(f"; {part} lacks {', '.join(names)}" for part, names in missing.items())
    )


def environment(*, require_cuda: bool = False) -> dict[str, Any]:
    """Versions of what the check uses, the device, its driver and its bf16 peak."""
    import torch

    from amber_eval.benchmarks.gpu_figures import bf16_peak

    found: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cuda": torch.version.cuda,
        "amber_eval_path": str(Path(__file__).resolve().parents[1]),
    }
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["missing_modules"] = {
        part: missing for part, names in MODULES.items() if (missing := missing_modules(names))
    }
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        found["device"] = torch.cuda.get_device_name(0)
        found["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
        found["memory_gib"] = round(properties.total_memory / 2**30, 1)
        found["driver"] = _driver()
        found["bf16_peak_tflops"] = bf16_peak(found["device"])
    else:
        if require_cuda:
            raise ResourceError("torch sees no CUDA device: the check needs one (or --dry-run)")
        found["device"] = f"cpu ({platform.processor() or platform.machine()})"
        found["driver"] = None
        found["bf16_peak_tflops"] = None
    return found


def _driver() -> str | None:
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout else None
