"""``run --config`` with config files written by someone else: run.json and TOML.

A config file is data: it cannot run code, choose where prompts and the key are sent, which
tokenizer is loaded or which file is read into the prompts; those settings need their option
on the command line too. Every value goes through the same checks as the command line's (one
validator, :func:`amber_eval.judge_options.field_problem`), and a bad one is exit code 2
naming the key, before anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from amber_eval.captions.selection import SELECTION_OPTIONS

RunCli = Callable[[list[str]], tuple[int, str, str]]
BASE = {"captions": "oracle", "llm": "mock-no", "limit_images": 1, "answer_mode": "score"}

# name -> (top-level fields, judge options, the key the error names)
VALUES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "limit_images 1.5": ({"limit_images": 1.5}, {}, "limit_images"),
    "limit_images true": ({"limit_images": True}, {}, "limit_images"),
    "limit_images 0": ({"limit_images": 0}, {}, "limit_images"),
    "top_k '3'": ({"top_k": "3"}, {}, "top_k"),
    "top_k 0": ({"top_k": 0}, {}, "top_k"),
    "order_seed 'x'": ({"order_seed": "x"}, {}, "order_seed"),
    "order 'sideways'": ({"order": "sideways"}, {}, "order"),
    "min_score 'high'": ({"min_score": "high"}, {}, "min_score"),
    "chunk_questions -1": ({"chunk_questions": -1}, {}, "chunk_questions"),
    "template a number": ({"template": 7}, {}, "template"),
    "answer_mode 'maybe'": ({"answer_mode": "maybe"}, {}, "answer_mode"),
    "max_new_tokens '5'": ({}, {"max_new_tokens": "5"}, "judge_options.max_new_tokens"),
    "max_new_tokens -3": ({}, {"max_new_tokens": -3}, "judge_options.max_new_tokens"),
    "top_logprobs true": ({}, {"top_logprobs": True}, "judge_options.top_logprobs"),
    "timeout -5": ({}, {"backend": "openai", "timeout": -5}, "judge_options.timeout"),
    "concurrency 1e8": ({}, {"backend": "openai", "concurrency": 1e8}, "judge_options.concurrency"),
    "max_model_len true": (
        {},
        {"backend": "vllm", "max_model_len": True},
        "judge_options.max_model_len",
    ),
    "dtype 16": ({}, {"dtype": 16}, "judge_options.dtype"),
    "load_in_4bit 'yes'": ({}, {"load_in_4bit": "yes"}, "judge_options.load_in_4bit"),
}
# settings a file cannot choose by itself: (judge options or top-level fields, the key, the flag)
COMMAND_LINE_ONLY: dict[str, tuple[dict[str, Any], str, str]] = {
    "trust_remote_code": (
        {"judge_options": {"trust_remote_code": True}},
        "judge_options.trust_remote_code",
        "--trust-remote-code",
    ),
    "base_url": (
        {"judge_options": {"backend": "openai", "base_url": "http://127.0.0.1:9/v1"}},
        "judge_options.base_url",
        "--base-url",
    ),
    "tokenizer": (
        {"judge_options": {"backend": "openai", "tokenizer": "/tmp/x"}},
        "judge_options.tokenizer",
        "--tokenizer",
    ),
    "api_key_env": (
        {"judge_options": {"backend": "openai", "api_key_env": "HOME"}},
        "judge_options.api_key_env",
        "--api-key-env",
    ),
    "template path": ({"template": "secrets.txt"}, "template", "--template"),
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "nan"
    return json.dumps(value)


def _toml(fields: dict[str, Any], options: dict[str, Any]) -> str:
    lines = [f"{k} = {_toml_value(v)}" for k, v in fields.items()]
    if options:
        lines += ["[judge_options]", *(f"{k} = {_toml_value(v)}" for k, v in options.items())]
    return "\n".join(lines) + "\n"


def _run_json(fields: dict[str, Any], options: dict[str, Any]) -> str:
    config = {**fields, "judge_options": options}
    record = {"format": "amber-eval/run", "format_version": 1, "model": "oracle"}
    return json.dumps({**record, "config_hash": "0" * 64, "config": config})


def _write(tmp_path: Path, kind: str, fields: dict[str, Any], options: dict[str, Any]) -> Path:
    path = tmp_path / ("c.toml" if kind == "toml" else "run.json")
    merged = {**BASE, **fields}
    path.write_text(_toml(merged, options) if kind == "toml" else _run_json(merged, options))
    return path


def _refused(run_cli: RunCli, tmp_path: Path, kind: str, settings: dict[str, Any]) -> str:
    """``run --config`` of a file with ``settings`` (``judge_options`` apart): exit code 2
    before anything is written; the error text, which names the file."""
    options = settings.get("judge_options", {})
    fields = {k: v for k, v in settings.items() if k != "judge_options"}
    path = _write(tmp_path, kind, fields, options)
    code, _out, err = run_cli(["run", "--config", str(path), "--out", str(tmp_path / "r")])
    assert code == 2, err
    assert not (tmp_path / "r").exists()
    assert f"{path}: " in err
    return err


# every hostile file: name -> (its settings, the key the error names, what else it says)
CORPUS: dict[str, tuple[dict[str, Any], str, str]] = {
    **{
        name: (
            {**fields, "judge_options": options},
            key,
            "unknown caption order" if key == "order" else " must ",
        )
        for name, (fields, options, key) in VALUES.items()
    },
    **{
        name: (settings, key, f"give {flag} on the command line")
        for name, (settings, key, flag) in COMMAND_LINE_ONLY.items()
    },
}


@pytest.mark.parametrize("kind", ["toml", "run.json"])
@pytest.mark.parametrize("name", list(CORPUS))
def test_a_hostile_config_is_exit_2_naming_the_key(
    name: str, kind: str, tmp_path: Path, run_cli: RunCli
) -> None:
    """A bad value (checked as the command line checks its option), or a setting a file
    cannot choose by itself (code, endpoint, key variable, tokenizer, a template file)."""
    settings, key, says = CORPUS[name]
    err = _refused(run_cli, tmp_path, kind, settings)
    assert says in err
    if key in SELECTION_OPTIONS:  # the caption selection's own check names its option
        assert key in err
    else:
        assert f"config field {key!r} " in err


def test_a_toml_date_is_not_a_template(tmp_path: Path, run_cli: RunCli) -> None:
    path = tmp_path / "c.toml"
    path.write_text(_toml(BASE, {}) + "template = 2024-01-01\n")
    code, _out, err = run_cli(["run", "--config", str(path), "--out", str(tmp_path / "r")])
    assert code == 2 and "config field 'template' must be a string" in err


def test_the_command_line_may_give_what_the_file_cannot(tmp_path: Path) -> None:
    from amber_eval.runs.config_file import load_run_config

    path = _write(tmp_path, "toml", {"template": "mine.jinja"}, {"trust_remote_code": True})
    config = load_run_config(path, from_command_line={"template", "trust_remote_code"})
    assert config.template == "mine.jinja" and config.judge_options.trust_remote_code


@pytest.mark.usefixtures("amber_data_dir")
def test_run_config_prints_what_it_took_from_the_file(tmp_path: Path, run_cli: RunCli) -> None:
    path = _write(tmp_path, "toml", {"top_k": 3}, {"max_new_tokens": 4})
    args = ["run", "--config", str(path), "--out", str(tmp_path / "r"), "--no-progress"]
    code, _out, err = run_cli([*args, "--top-k", "2"])
    assert code == 0, err
    line = next(x for x in err.splitlines() if x.startswith(f"from {path}: "))
    assert line == (
        f"from {path}: captions='oracle', llm='mock-no', limit_images=1, "
        "judge_options.max_new_tokens=4"
    )  # top_k is the command line's; defaults are not listed
