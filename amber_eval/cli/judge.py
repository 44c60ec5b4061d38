"""``amber-eval llms`` (list the judge presets) and ``amber-eval ask`` (answer a prompts file)."""

from __future__ import annotations

import dataclasses
import time
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import click

from amber_eval.cli.options import keeps_inputs

if TYPE_CHECKING:
    from amber_eval.judge_options import JudgeOptions

F = TypeVar("F", bound=Callable[..., Any])

LLM_HELP = "A preset (amber-eval llms), a Hugging Face hub id, a model folder or a .gguf file."


@overload
def judge_options(function: F, /) -> F: ...


@overload
def judge_options(
    *, llm_required: bool = False, llm_default: bool = True, opt_in: tuple[str, ...] = ()
) -> Callable[[F], F]: ...


def judge_options(
    function: F | None = None,
    /,
    *,
    llm_required: bool = False,
    llm_default: bool = True,
    opt_in: tuple[str, ...] = (),
) -> Any:
    """``--llm`` and one option per :class:`~amber_eval.judge.JudgeOptions` field.

    Shared by every command that loads a judge. Use as ``@judge_options`` (``--llm`` defaults
    to the paper's judge), ``@judge_options(llm_required=True)`` (``--llm`` must be given) or
    ``@judge_options(llm_default=False)`` (None when not given: the command decides);
    ``opt_in`` names the opt-in fields this command offers too (``bench``: ``random_weights``).
    The values reach the command as keyword arguments: ``llm`` and the field names
    (:func:`judge_settings` collects them).
    """
    if function is None:
        return lambda wrapped: _add_judge_options(wrapped, llm_required, llm_default, opt_in)
    return _add_judge_options(function, llm_required, llm_default, opt_in)


def judge_option_fields(opt_in: tuple[str, ...] = ()) -> list[dataclasses.Field[Any]]:
    """The :class:`JudgeOptions` fields a judge command offers (opt-in ones if named)."""
    from amber_eval.judge_options import JudgeOptions

    names = JudgeOptions.names()
    unknown = sorted(set(opt_in) - set(names))
    if unknown:
        raise ValueError(f"not JudgeOptions fields: {', '.join(unknown)}")
    return [
        f
        for f in dataclasses.fields(JudgeOptions)
        if not f.metadata.get("opt_in") or f.name in opt_in
    ]


def _field_option(spec: dataclasses.Field[Any], annotation: Any) -> Callable[[F], F]:
    """The click option that :func:`amber_eval.judge_options.setting` describes."""
    meta = spec.metadata
    flag = meta.get("flag") or "--" + spec.name.replace("_", "-")
    kinds = {a for a in typing.get_args(annotation) if a is not type(None)} or {annotation}
    kwargs: dict[str, Any] = {"help": meta.get("help")}
    if meta.get("metavar"):
        kwargs["metavar"] = meta["metavar"]
    if kinds == {bool}:
        return click.option(flag, spec.name, is_flag=True, default=spec.default, **kwargs)
    choices = meta.get("choices")
    if callable(choices):
        choices = choices()
    if choices:
        kwargs["type"] = click.Choice(tuple(choices))
    elif kinds == {int}:
        kwargs["type"] = click.IntRange(min=meta.get("minimum"))
    elif kinds == {float}:
        kwargs["type"] = click.FloatRange(min=meta.get("minimum"))
    elif kinds != {str}:
        raise TypeError(f"JudgeOptions.{spec.name}: no command-line form for {annotation!r}")
    if spec.default is not None:
        kwargs.update(default=spec.default, show_default=True)
    return click.option(flag, spec.name, **kwargs)


def _add_judge_options(
    function: F, llm_required: bool, llm_default: bool, opt_in: tuple[str, ...]
) -> F:
    from amber_eval.judge.presets import DEFAULT_LLM
    from amber_eval.judge_options import JudgeOptions

    llm = (
        click.option("--llm", required=llm_required, metavar="NAME|HUB_ID|PATH", help=LLM_HELP)
        if llm_required or not llm_default
        else click.option(
            "--llm",
            default=DEFAULT_LLM,
            show_default=True,
            metavar="NAME|HUB_ID|PATH",
            help=LLM_HELP,
        )
    )
    hints = typing.get_type_hints(JudgeOptions)
    options = [llm] + [_field_option(f, hints[f.name]) for f in judge_option_fields(opt_in)]
    for option in reversed(options):
        function = option(function)
    return function


def judge_settings(kwargs: dict[str, Any]) -> JudgeOptions:
    """Remove the :func:`judge_options` values from ``kwargs`` as a :class:`JudgeOptions`."""
    from amber_eval.judge_options import JudgeOptions

    names = [name for name in JudgeOptions.names() if name in kwargs]
    return JudgeOptions(**{name: kwargs.pop(name) for name in names})


@click.command("llms")
@click.option("--json", "as_json", is_flag=True, help="Print the presets as JSON.")
def llms(as_json: bool) -> None:
    """List the LLM judge presets. Any hub id, model folder or .gguf file works too."""
    import json

    from amber_eval.judge.presets import DEFAULT_LLM, PRESET_LIST

    rows: list[dict[str, Any]] = []
    for preset in PRESET_LIST:
        bundled = preset.bundled_file()
        if preset.test_double:
            source = "no model (test double)"
        elif bundled is not None:
            source = f"{bundled} (installed)"
        else:
            source = preset.hub_id + (
                " (gated: accept the license, log in)" if preset.gated else ""
            )
        rows.append(
            {
                "name": preset.name,
                "default": preset.name == DEFAULT_LLM,
                "source": source,
                "hub_id": None if preset.test_double else preset.hub_id,
                "gated": preset.gated,
                "test_double": preset.test_double,
                "description": preset.description,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column("preset", no_wrap=True)
    table.add_column("loads", overflow="fold")
    table.add_column("about")
    for row in rows:
        name = str(row["name"]) + (" (default of ask, bench)" if row["default"] else "")
        table.add_row(name, str(row["source"]), str(row["description"]))
    Console().print(table)


@click.command("ask")
@judge_options
@click.option(
    "--prompts",
    "prompts_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="prompts.jsonl from `amber-eval prompts` (id, image, dimension, truth, prompt).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="answers.jsonl to write: each prompt line plus the answer fields (atomic).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Answer only the first N prompts.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@keeps_inputs(inputs={"--prompts": "prompts_path"}, outputs={"--out": "out"})
def ask(
    llm: str,
    prompts_path: Path,
    out: Path,
    limit: int | None,
    progress: bool | None,
    **kwargs: Any,
) -> None:
    """Answer a prompts file with an LLM judge."""
    from collections import Counter

    from amber_eval.judge.ask import answer_records, write_answers
    from amber_eval.judge.backends import load_judge
    from amber_eval.judge.engine import describe_requests, judge_requests, token_announcement
    from amber_eval.judge.progress import answer_progress
    from amber_eval.prompting import read_prompts

    options = judge_settings(kwargs)
    records = read_prompts(prompts_path)
    if limit is not None:
        records = records[:limit]
    if not records:
        from amber_eval.errors import InputError

        raise InputError(f"{prompts_path}: no prompts to answer")
    start = time.perf_counter()
    judge = load_judge(llm, options=options)
    loaded = time.perf_counter()
    announcement = token_announcement(judge, [r.prompt for r in records])
    if announcement:
        click.echo(announcement, err=True)
    with answer_progress(len(records), f"{llm}", enabled=progress) as advance:
        answers = answer_records(judge, records, progress=advance)
    done = time.perf_counter()
    write_answers(out, records, answers)
    counts = Counter(a.parsed for a in answers)
    flagged = sum(a.flagged for a in answers)
    rate = len(records) / max(done - loaded, 1e-9)
    click.echo(
        f"{len(records)} answers -> {out} (yes {counts['yes']}, no {counts['no']}, "
        f"unknown {counts['unknown']}, flagged {flagged}); load {loaded - start:.1f} s, "
        f"answer {done - loaded:.1f} s ({rate:.1f} questions/s)"
    )
    requests = judge_requests(judge)
    if requests is not None:
        click.echo(describe_requests(requests))
