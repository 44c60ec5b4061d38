"""The one registry (deferred imports, fill on first read, did-you-mean) and what is built on it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing

import click
import pytest
from click.testing import CliRunner

from amber_eval.errors import UnknownNameError
from amber_eval.registry import Registry, import_target


def test_deferred_entries_load_once_and_only_when_asked() -> None:
    calls: list[str] = []

    def build() -> list[str]:
        calls.append("built")
        return ["value"]

    registry: Registry[object] = Registry("thing")
    registry.add_lazy("built", build, "built by a callable")
    registry.add_lazy("imported", "amber_eval.registry:unknown_name_message", "an attribute")
    assert registry.names() == ["built", "imported"]
    assert [entry.description for entry in registry] == ["built by a callable", "an attribute"]
    assert calls == []  # listing loads nothing
    assert registry.load("built") is registry["built"]
    assert calls == ["built"]
    assert registry.get("imported").target == "amber_eval.registry:unknown_name_message"
    assert registry.load("imported") is import_target("amber_eval.registry:unknown_name_message")
    with pytest.raises(ValueError, match="already registered"):
        registry.add("built", "again")


def test_unknown_names_get_a_did_you_mean() -> None:
    registry: Registry[int] = Registry("colour")
    registry.add("green", 1)
    registry.add("grey", 2)
    with pytest.raises(UnknownNameError, match=r"unknown colour 'gren'; did you mean 'green'\?"):
        registry.load("gren")
    assert "gren" not in registry


def test_fill_runs_on_first_read_only() -> None:
    filled: list[int] = []

    def fill(registry: Registry[int]) -> None:
        filled.append(1)
        registry.add("one", 1)

    registry: Registry[int] = Registry("number", fill=fill)
    assert filled == []
    assert registry.names() == ["one"]
    assert len(registry) == 1 and registry["one"] == 1
    assert filled == [1]


def test_import_target_rejects_a_name_without_attribute() -> None:
    with pytest.raises(ValueError, match=r"package\.module:attribute"):
        import_target("amber_eval.registry")


def test_presets_and_loading_import_without_a_cycle() -> None:
    # presets is data only: importing it (first, in a fresh interpreter) loads no loading code;
    # loading, imported first, finds the presets fully defined.
    checks = {
        "amber_eval.judge.presets": "'amber_eval.judge.loading' not in sys.modules",
        "amber_eval.judge.loading": "sys.modules['amber_eval.judge.presets'].PRESETS['mock-no']",
    }
    for module, check in checks.items():
        code = f"import sys, {module}; assert {check}; assert 'torch' not in sys.modules"
        subprocess.run([sys.executable, "-c", code], check=True)


def test_every_judge_setting_is_an_option_of_every_judge_command() -> None:
    from amber_eval.cli.main import cli
    from amber_eval.judge_options import JudgeOptions

    runner = CliRunner()
    opt_in = {f.name for f in dataclasses.fields(JudgeOptions) if f.metadata["opt_in"]}
    assert opt_in == {"random_weights"}
    for command in ("ask", "bench", "run"):
        result = runner.invoke(cli, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        for field in dataclasses.fields(JudgeOptions):
            flag = field.metadata["flag"] or "--" + field.name.replace("_", "-")
            offered = field.name not in opt_in or command == "bench"
            assert (f"{flag} " in result.output) == offered, (command, flag)
    help_text = runner.invoke(cli, ["ask", "--help"], terminal_width=200).output
    assert "--max-new-tokens INTEGER RANGE" in help_text and "[default: 5; x>=1]" in help_text


def test_choices_may_come_from_a_callable() -> None:
    from amber_eval.cli.judge import _field_option
    from amber_eval.judge_options import setting

    names = Registry[int]("backend")
    names.add("alpha", 1)
    names.add("beta", 2)

    @dataclasses.dataclass(frozen=True)
    class Options:
        backend: str = setting("alpha", "Which backend.", choices=names.names)

    (spec,) = dataclasses.fields(Options)
    hints = typing.get_type_hints(Options)

    @click.command()
    @_field_option(spec, hints["backend"])
    def show(backend: str) -> None:
        click.echo(backend)

    runner = CliRunner()
    assert runner.invoke(show, []).output == "alpha\n"
    assert runner.invoke(show, ["--backend", "beta"]).output == "beta\n"
    refused = runner.invoke(show, ["--backend", "gamma"])
    assert refused.exit_code == 2 and "'gamma' is not one of 'alpha', 'beta'" in refused.output
