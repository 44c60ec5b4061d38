"""``amber-eval run`` through the CLI: tables, exit codes, and ``responses.json`` re-scored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[[list[str]], tuple[int, str, str]]


pytestmark = pytest.mark.usefixtures("amber_data_dir")


def _run_args(out: Path, *extra: str) -> list[str]:
    return ["run", "--captions", "oracle", "--limit-images", "2", "--out", str(out), "--no-progress", *extra]  # fmt: skip


def _folder(out: Path, llm: str) -> Path:
    (folder,) = (out / "oracle").glob(f"{llm}-*")
    return folder


def test_run_prints_strict_with_always_no_and_official(tmp_path: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli(_run_args(tmp_path / "r", "--llm", "mock-yes"))
    assert code == 0, err
    assert "strict" in out and 'always "No"' in out and "official (upstream rules)" in out
    folder = _folder(tmp_path / "r", "mock-yes")
    assert f"run folder: {folder}" in out
    metrics = json.loads((folder / "metrics.json").read_text())
    # an always-Yes judge on the first two images: every existence question (all truth "No")
    # is wrong, so existence accuracy is 0, while the always-"No" line gets 100
    assert metrics["strict"]["existence"]["Accuracy"] == 0.0
    assert metrics["strict"]["always_no"]["existence"]["Accuracy"] == 100.0
    assert metrics["strict"]["overall"]["yes_ratio"] == 1.0


def test_unknown_preset_exits_2_and_touches_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "r"
    assert run_cli(_run_args(out, "--llm", "mock-no"))[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "sqlite" not in p.name}
    code, _, err = run_cli(_run_args(out, "--llm", "mock-noo"))
    assert code == 2
    assert "error: unknown LLM preset 'mock-noo'" in err and "mock-no" in err
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "sqlite" not in p.name}
    assert after == before


def test_malformed_captions_exit_2(tmp_path: Path, run_cli: RunCli) -> None:
    bad = tmp_path / "captions.jsonl"
    bad.write_text("not json\n")
    args = _run_args(tmp_path / "r", "--llm", "mock-no")
    args[args.index("oracle")] = str(bad)
    code, _, err = run_cli(args)
    assert code == 2 and err.startswith("error: ") and "captions.jsonl:1" in err


def test_unwritable_out_exit_2(tmp_path: Path, run_cli: RunCli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(_run_args(blocker / "r", "--llm", "mock-no"))
    assert code == 2 and "cannot write to the output folder" in err


@pytest.mark.parametrize("llm", ["mock-no", "mock-yes"])
def test_responses_rescored_by_score_command_give_the_run_metrics(
    tmp_path: Path, run_cli: RunCli, llm: str
) -> None:
    out = tmp_path / "r"
    assert run_cli(_run_args(out, "--llm", llm))[0] == 0
    folder = _folder(out, llm)
    metrics = json.loads((folder / "metrics.json").read_text())
    responses = str(folder / "responses.json")
    official = tmp_path / "official.json"
    code, _, err = run_cli(
        ["score", responses, "--mode", "official", "--type", "d", "--json", str(official)]
    )
    assert code == 0, err
    assert json.loads(official.read_text()) == metrics["official"]
    strict = tmp_path / "strict.json"
    code, _, err = run_cli(
        ["score", responses, "--type", "d", "--allow-partial", "--json", str(strict)]
    )
    assert code == 0, err
    assert json.loads(strict.read_text()) == metrics["strict"]


def test_unknown_template_exits_2(tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli(_run_args(tmp_path / "r", "--llm", "mock-no", "--template", "papr"))
    assert code == 2 and "unknown prompt template 'papr'" in err and "paper" in err
    assert not (tmp_path / "r" / "oracle").exists()


def test_judge_options_reach_the_judge(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "r"
    assert run_cli(_run_args(out, "--llm", "mock-no"))[0] == 0
    code, stdout, err = run_cli(
        _run_args(out, "--llm", "mock-no", "--raw-prompt", "--system-prompt", "Be brief.")
    )
    assert code == 0, err
    folders = sorted((out / "oracle").iterdir())
    assert len(folders) == 2  # a judge setting is a new run, never the old folder
    runs = [json.loads((f / "run.json").read_text()) for f in folders]
    identities = sorted((r["judge_identity"]["chat_template"], r["judge_identity"]["system_prompt"]) for r in runs)  # fmt: skip
    assert identities == [(False, "Be brief."), (True, None)]
    assert "from stored answers: 0" in stdout  # another rendered prompt: nothing reused


def test_shared_judge_options_reach_the_model_judge(
    tmp_path: Path, run_cli: RunCli, tiny_model_dir: Path
) -> None:
    out = tmp_path / "r"
    base = ["run", "--captions", "oracle", "--limit-images", "1", "--out", str(out), "--no-progress", "--llm", str(tiny_model_dir)]  # fmt: skip
    code, _, err = run_cli(base)
    assert code == 0, err
    extra = ["--mode", "generate", "--max-new-tokens", "3", "--attn-implementation", "eager"]
    code, _, err = run_cli([*base, *extra, "--strategy", "packed"])
    assert code == 0, err
    runs = [json.loads((f / "run.json").read_text()) for f in sorted((out / "oracle").iterdir())]
    assert len(runs) == 2  # generate mode with 3 new tokens answers differently: a new run
    by_mode = {r["judge_identity"]["mode"]: r for r in runs}
    # defaults leave the recorded judge options empty; set options are recorded as given
    assert by_mode["score"]["config"]["judge_options"] == {}
    assert by_mode["generate"]["config"]["judge_options"] == {
        "attn_implementation": "eager",
        "max_new_tokens": 3,
        "strategy": "packed",
    }
    assert by_mode["generate"]["judge_identity"]["max_new_tokens"] == 3
    assert "max_new_tokens" not in by_mode["score"]["judge_identity"]


def test_run_still_requires_llm(tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli(_run_args(tmp_path / "r"))
    assert code == 2 and "Missing option '--llm'" in err


def test_run_again_from_its_run_json(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "r"
    code, _, err = run_cli(_run_args(out, "--llm", "mock-no", "--mode", "generate"))
    assert code == 0, err
    folder = _folder(out, "mock-no")
    code, stdout, err = run_cli(["run", "--config", str(folder / "run.json")])
    assert code == 0, err
    assert f"run folder: {folder}" in stdout  # the same hash, so the same folder
    assert "answered by the model now: 0" in stdout
    assert len(list((out / "oracle").iterdir())) == 1
    run = json.loads((folder / "run.json").read_text())
    assert run["attempts"] == 2 and run["config"]["answer_mode"] == "generate"


def test_run_from_a_toml_config_and_override(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "r"
    assert run_cli(_run_args(out, "--llm", "mock-no"))[0] == 0
    folder = _folder(out, "mock-no")
    toml = tmp_path / "run.toml"
    toml.write_text(
        f'captions = "oracle"\nllm = "mock-no"\nlimit_images = 2\nout = "{out}"\n'
        "show_progress = false\n",
        encoding="utf-8",
    )
    code, stdout, err = run_cli(["run", "--config", str(toml)])
    assert code == 0, err
    assert f"run folder: {folder}" in stdout and "answered by the model now: 0" in stdout
    code, stdout, err = run_cli(["run", "--config", str(toml), "--limit-images", "1"])
    assert code == 0, err
    assert f"run folder: {folder}" not in stdout  # an option given overrides the file's
    assert len(list((out / "oracle").iterdir())) == 2


def test_a_bad_config_file_exits_2_naming_the_field(tmp_path: Path, run_cli: RunCli) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('captions = "oracle"\nllm = "mock-no"\nlimit_imgs = 2\n', encoding="utf-8")
    code, _, err = run_cli(["run", "--config", str(toml)])
    assert code == 2 and "limit_imgs" in err
    old = tmp_path / "run.json"
    old.write_text(json.dumps({"status": "success", "config": {"captions": "oracle"}}))
    code, _, err = run_cli(["run", "--config", str(old)])
    assert code == 2 and "format_version" in err and "version 1" in err
