"""``amber-eval llms`` and ``amber-eval ask``: output files and error exits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from parts import requires, requires_module

RunCli = Callable[[list[str]], tuple[int, str, str]]


def write_prompts(path: Path, lines: list[str] | None = None) -> Path:
    if lines is None:
        records = [
            {"id": 1005, "image": "AMBER_1.jpg", "dimension": "existence", "truth": "no",
             "prompt": "If an image contains a dog. Is there a cat in this image?"},
            {"id": 1006, "image": "AMBER_1.jpg", "dimension": "existence", "truth": "yes",
             "prompt": "If an image contains a dog. Is there a dog in this image?"},
            {"id": 1010, "image": "AMBER_2.jpg", "dimension": "attribute-state", "truth": "yes",
             "prompt": "If an image contains a red car. Is the car red?"},
        ]  # fmt: skip
        lines = [json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_llms_lists_presets_and_marks_test_doubles(run_cli: RunCli) -> None:
    code, out, _ = run_cli(["llms", "--json"])
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    for name in ("llama2-7b", "llama2-13b", "llama3-8b", "mistral-7b", "qwen2.5-7b"):
        assert rows[name]["hub_id"] and not rows[name]["test_double"]
    assert rows["llama2-7b"]["default"] and rows["llama2-7b"]["hub_id"] == (
        "meta-llama/Llama-2-7b-chat-hf"
    )
    assert rows["mock-no"]["test_double"] and rows["mock-yes"]["test_double"]
    assert rows["mock-no"]["source"] == "no model (test double)"
    code, out, _ = run_cli(["llms"])
    assert code == 0 and "smollm2-135m" in out and "test double" in out


def test_ask_with_a_mock_preset_writes_answer_lines(tmp_path: Path, run_cli: RunCli) -> None:
    prompts = write_prompts(tmp_path / "prompts.jsonl")
    out = tmp_path / "answers.jsonl"
    code, stdout, err = run_cli(
        ["ask", "--llm", "mock-yes", "--prompts", str(prompts), "--out", str(out)]
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [1005, 1006, 1010]
    assert lines[2]["image"] == "AMBER_2.jpg" and lines[2]["truth"] == "yes"
    assert all(line["parsed"] == "yes" and line["answer"] == "Yes" for line in lines)
    assert set(lines[0]) >= {"prompt", "p_yes", "margin", "token", "flagged", "dimension"}
    assert "3 answers" in stdout and "yes 3" in stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--llm", "lama2-7b"], "did you mean 'llama2-7b'?"),
        (["--llm", "smolm2-135m"], "did you mean 'smollm2-135m'?"),
        (["--llm", "/nowhere/model.gguf"], "GGUF file not found: /nowhere/model.gguf"),
        (["--llm", "mock-no", "--prompts-missing"], "prompts file not found"),
        (["--llm", "mock-no", "--bad-json"], "prompts.jsonl:2: not valid JSON"),
        (["--llm", "mock-no", "--missing-field"], "prompts.jsonl:1: missing field 'prompt'"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tmp_path: Path, run_cli: RunCli, args: list[str], expected: str
) -> None:
    prompts = write_prompts(tmp_path / "prompts.jsonl")
    if "--prompts-missing" in args:
        args = [a for a in args if a != "--prompts-missing"]
        prompts = tmp_path / "absent.jsonl"
    if "--bad-json" in args:
        args = [a for a in args if a != "--bad-json"]
        write_prompts(prompts, ['{"id": 1, "image": "a", "dimension": "d", "truth": "no", '
                                '"prompt": "p"}', "{not json"])  # fmt: skip
    if "--missing-field" in args:
        args = [a for a in args if a != "--missing-field"]
        write_prompts(prompts, ['{"id": 1, "image": "a", "dimension": "d", "truth": "no"}'])
    out = tmp_path / "answers.jsonl"
    code, _, err = run_cli(["ask", *args, "--prompts", str(prompts), "--out", str(out)])
    assert code == 2
    assert err.startswith("error: ") and expected in err
    assert not out.exists()


def test_quantization_without_cuda_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    torch = requires_module("torch")
    if torch.cuda.is_available():
        requires("no-gpu", "this checks the CPU-only behaviour")
    requires_module("transformers")
    folder = save_tiny_model(tmp_path / "tiny")
    prompts = write_prompts(tmp_path / "prompts.jsonl")
    for flag in ("--load-in-4bit", "--load-in-8bit"):
        code, _, err = run_cli(
            ["ask", "--llm", str(folder), flag, "--prompts", str(prompts), "--out",
             str(tmp_path / "a.jsonl")]
        )  # fmt: skip
        assert code == 2 and f"{flag} needs a CUDA GPU" in err


def save_tiny_model(folder: Path) -> Path:
    from llm_fixtures import tiny_llama, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    model = tiny_llama(tokenizer, seed=3, first=["▁Yes", "▁No"])
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_ask_with_a_model_folder_in_both_modes(tmp_path: Path, run_cli: RunCli) -> None:
    requires_module("torch")
    requires_module("transformers")
    folder = save_tiny_model(tmp_path / "tiny")
    prompts = write_prompts(tmp_path / "prompts.jsonl")
    results = {}
    for mode in ("score", "generate"):
        out = tmp_path / f"{mode}.jsonl"
        code, _, err = run_cli(
            ["ask", "--llm", str(folder), "--mode", mode, "--prompts", str(prompts),
             "--out", str(out)]
        )  # fmt: skip
        assert code == 0, err
        results[mode] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["token"] for r in results["score"]] == [r["token"] for r in results["generate"]]
    assert all(r["token"] in ("▁Yes", "▁No") for r in results["score"])
    assert all(0.0 <= r["p_yes"] <= 1.0 for r in results["score"])


def test_unreachable_gated_model_says_how_to_get_access(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    requires_module("transformers")
    prompts = write_prompts(tmp_path / "prompts.jsonl")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty hub cache: nothing is found offline
    result = subprocess.run(
        [sys.executable, "-m", "amber_eval", "ask", "--llm", "llama2-7b", "--prompts",
         str(prompts), "--out", str(tmp_path / "a.jsonl")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "accept its license" in result.stderr and "huggingface-cli login" in result.stderr
    assert "meta-llama/Llama-2-7b-chat-hf" in result.stderr
