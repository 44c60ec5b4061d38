"""``amber-eval llms`` (list the judge presets) and ``amber-eval ask`` (answer a prompts file)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import click

if TYPE_CHECKING:
    from amber_eval.judge.options import JudgeOptions

F = TypeVar("F", bound=Callable[..., Any])

MODE_CHOICES = ("score", "generate")
STRATEGY_CHOICES = ("packed", "cache")


LLM_HELP = "A preset (amber-eval llms), a Hugging Face hub id, a model folder or a .gguf file."


@overload
def judge_options(function: F, /) -> F: ...


@overload
def judge_options(*, llm_required: bool = False, llm_default: bool = True) -> Callable[[F], F]: ...


def judge_options(
    function: F | None = None, /, *, llm_required: bool = False, llm_default: bool = True
) -> Any:
    """The options that choose and configure a judge (shared by ``ask``, ``bench``, ``run``).

    Use as ``@judge_options`` (``--llm`` defaults to the paper's judge),
    ``@judge_options(llm_required=True)`` (``--llm`` must be given) or
    ``@judge_options(llm_default=False)`` (no default: None when not given, the command
    decides). The values reach the command as keyword arguments: ``llm`` and the
    :data:`JUDGE_OPTION_NAMES` (see :func:`pop_judge_options`).
    """

    def add(wrapped: F) -> F:
        return _add_judge_options(wrapped, llm_required=llm_required, llm_default=llm_default)

    return add if function is None else add(function)


def _add_judge_options(function: F, *, llm_required: bool, llm_default: bool) -> F:
    from amber_eval.judge.presets import DEFAULT_LLM

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
    options = [
        llm,
        click.option(
            "--mode",
            type=click.Choice(MODE_CHOICES),
            default="score",
            show_default=True,
            help="The judge's answer mode: score: one forward pass, greedy-exact first "
            "token, P(yes); generate: greedy generate() per question.",
        ),
        click.option("--dtype", help="float32, bfloat16 or float16 (default: fp32 CPU, bf16 GPU)."),
        click.option("--device", help="cpu, cuda or cuda:N (default: cuda when available)."),
        click.option("--load-in-4bit", is_flag=True, help="NF4 weights (bitsandbytes, CUDA only)."),
        click.option("--load-in-8bit", is_flag=True, help="LLM.int8 weights (CUDA only; slow)."),
        click.option(
            "--attn-implementation",
            help="sdpa (default), eager or flash_attention_2 (flash uses the cache strategy).",
        ),
        click.option("--raw-prompt", is_flag=True, help="Send prompts without the chat template."),
        click.option("--system-prompt", help="A system message for the chat template."),
        click.option(
            "--max-new-tokens",
            type=click.IntRange(min=1),
            default=5,
            show_default=True,
            help="Tokens generated per answer (generate mode; score mode's whitespace limit).",
        ),
        click.option(
            "--batch-tokens",
            type=click.IntRange(min=1),
            help="Token budget of one batch (default: 4096 on CPU, 32768 on GPU, 16384 on GPU "
            "with quantized weights).",
        ),
        click.option(
            "--strategy",
            type=click.Choice(STRATEGY_CHOICES),
            help="Prefix sharing: an expanded prefix cache (default), or packed rows with a 4D "
            "mask (default with --load-in-4bit/8bit: less memory).",
        ),
        click.option(
            "--revision", help="Hub revision (branch, tag or commit) of the model to load."
        ),
        click.option(
            "--trust-remote-code",
            is_flag=True,
            help="Run the model repository's own Python code (off by default: only for "
            "repositories you trust).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


JUDGE_OPTION_NAMES = (
    "mode",
    "dtype",
    "device",
    "load_in_4bit",
    "load_in_8bit",
    "attn_implementation",
    "raw_prompt",
    "system_prompt",
    "max_new_tokens",
    "batch_tokens",
    "strategy",
    "revision",
    "trust_remote_code",
)


def pop_judge_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove and return the :func:`judge_options` values (for ``load_judge``)."""
    return {name: kwargs.pop(name) for name in JUDGE_OPTION_NAMES}


def judge_settings(kwargs: dict[str, Any]) -> JudgeOptions:
    """Remove the :func:`judge_options` values from ``kwargs`` as a :class:`JudgeOptions`."""
    from amber_eval.judge.options import JudgeOptions

    return JudgeOptions(**pop_judge_options(kwargs))


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
        name = str(row["name"]) + (" (default)" if row["default"] else "")
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
    from amber_eval.judge.presets import load_judge
    from amber_eval.judge.progress import answer_progress
    from amber_eval.prompting import read_prompts

    options = pop_judge_options(kwargs)
    records = read_prompts(prompts_path)
    if limit is not None:
        records = records[:limit]
    if not records:
        from amber_eval.errors import InputError

        raise InputError(f"{prompts_path}: no prompts to answer")
    start = time.perf_counter()
    judge = load_judge(llm, **options)
    loaded = time.perf_counter()
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
