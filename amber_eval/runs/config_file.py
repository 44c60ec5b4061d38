"""A config file given to ``run --config``: its settings, less those a file may not choose.

A run record or TOML file from elsewhere is data, not a program; this is the policy that
keeps it so, above the run folder's own reading (:func:`read_run_config`), because it needs
the shipped template names.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from amber_eval.errors import InputError
from amber_eval.run_folder.config import RunConfig
from amber_eval.run_folder.record import read_run_config


def load_run_config(path: str | Path, *, from_command_line: Collection[str] = ()) -> RunConfig:
    """The :class:`RunConfig` of a ``run.json`` file, or of a TOML file with its config's
    fields (``captions``, ``llm``, ``answer_mode``, ``limit_images``, ... and a
    ``[judge_options]`` table).

    A config file is data, not a program: a setting that runs code, picks where prompts and
    the key go or which files are read (:meth:`JudgeOptions.command_line_only`, and a template
    that is a file rather than a shipped name) is refused unless its option is also given on
    the command line (``from_command_line`` names those settings), whose value then wins.
    """
    config = read_run_config(Path(path))
    _refuse_command_line_only(config, str(path), set(from_command_line))
    return config


def _refuse_command_line_only(config: RunConfig, where: str, given: set[str]) -> None:
    from amber_eval.judge_options import JudgeOptions
    from amber_eval.prompting import template_names

    chosen = config.judge_options.changed()
    for name in JudgeOptions.command_line_only():
        if name in chosen and name not in given:
            flag = JudgeOptions.flag_of(name)
            raise InputError(
                f"{where}: config field 'judge_options.{name}' is set, and a config file cannot "
                f"choose it by itself (it decides what code runs, where the prompts and the key "
                f"go, or which files are read): give {flag} on the command line as well"
            )
    if config.template not in template_names() and "template" not in given:
        raise InputError(
            f"{where}: config field 'template' names a file ({config.template!r}), and a config "
            "file cannot choose a file to read into the prompts by itself: give --template on "
            f"the command line as well (shipped templates: {', '.join(template_names())})"
        )
