"""``amber-eval llms`` (list the judge presets) and ``amber-eval ask`` (answer a prompts file)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

import click

from amber_eval.judge.options import JudgeOptions

F = TypeVar("F", bound=Callable[..., Any])

MODE_CHOICES = ("score", "generate")
STRATEGY_CHOICES = ("packed", "cache")


LLM_HELP = "A preset (amber-eval llms), a Hugging Face hub id, a model folder or a .gguf file."


@overload
def judge_options(function: F, /) -> F: ...


@overload
def judge_options(*, llm_required: bool = False) -> Callable[[F], F]: ...


def judge_options(function: F | None = None, /, *, llm_required: bool = False) -> Any:
    """The options that choose and configure a judge (shared by ``ask``, ``bench``, ``run``).

    Use as ``@judge_options`` (``--llm`` defaults to the paper's judge) or
    ``@judge_options(llm_required=True)`` (``--llm`` must be given). The values reach the
    command as keyword arguments: ``llm`` and the :data:`JUDGE_OPTION_NAMES`
    (see :func:`pop_judge_options`).
    """
    if function is None:
        return lambda wrapped: _add_judge_options(wrapped, llm_required=llm_required)
    return _add_judge_options(function, llm_required=llm_required)


def _add_judge_options(function: F, *, llm_required: bool) -> F:
    from amber_eval.judge.presets import DEFAULT_LLM

    llm = (
        click.option("--llm", required=True, metavar="NAME|HUB_ID|PATH", help=LLM_HELP)
        if llm_required
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
            help="score: one forward pass, greedy-exact first token, P(yes); "
            "generate: greedy generate() per question.",
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
        *engine_options(),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def engine_options() -> list[Callable[[F], F]]:
    """The backend choice and the vllm/openai settings (see docs/judge.md, "Serving engines")."""
    from amber_eval.judge.backends import BACKENDS

    return [
        click.option(
            "--backend",
            type=click.Choice(BACKENDS),
            default="hf",
            show_default=True,
            help="hf: the model in this process; vllm: in-process vLLM; openai: an "
            "OpenAI-compatible server (--base-url).",
        ),
        click.option(
            "--top-logprobs",
            type=click.IntRange(min=1),
            default=20,
            show_default=True,
            help="vllm/openai: alternatives returned per token (P(yes) is read from them).",
        ),
        click.option(
            "--tensor-parallel-size",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="vllm: GPUs one model is split over.",
        ),
        click.option(
            "--gpu-memory-utilization",
            type=click.FloatRange(min=0, max=1, min_open=True),
            help="vllm: fraction of GPU memory for vLLM (its default 0.9).",
        ),
        click.option(
            "--max-model-len",
            type=click.IntRange(min=1),
            help="vllm: context length to reserve (default: the model's).",
        ),
        click.option("--enforce-eager", is_flag=True, help="vllm: no CUDA graphs (starts faster)."),
        click.option(
            "--base-url",
            metavar="URL",
            help="openai: the API root, http://HOST:PORT/v1 (default: $OPENAI_BASE_URL).",
        ),
        click.option(
            "--served-model",
            metavar="NAME",
            help="openai: the model name to ask for (default: the only one the server lists).",
        ),
        click.option(
            "--api",
            type=click.Choice(("chat", "completions")),
            default="chat",
            show_default=True,
            help="openai: chat (the server's chat template) or completions (the prompt "
            "rendered here with the model's template, as the hf backend renders it).",
        ),
        click.option(
            "--api-key-env",
            metavar="VAR",
            default="OPENAI_API_KEY",
            show_default=True,
            help="openai: the environment variable that holds the API key (never written).",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1),
            default=8,
            show_default=True,
            help="openai: requests in flight at once.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=60.0,
            show_default=True,
            help="openai: seconds to wait for one response.",
        ),
        click.option(
            "--retries",
            "max_retries",
            type=click.IntRange(min=0),
            default=5,
            show_default=True,
            help="openai: retries after 429, 5xx, a timeout or a dropped connection "
            "(exponential backoff with jitter; Retry-After honoured).",
        ),
        click.option(
            "--tokenizer",
            metavar="HUB_ID|PATH",
            help="openai: the served model's tokenizer (completions API, token counts; "
            "default: what --llm names).",
        ),
    ]


# every JudgeOptions field has its option, except --random-weights (bench only)
JUDGE_OPTION_NAMES = tuple(name for name in JudgeOptions.names() if name != "random_weights")


def pop_judge_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove and return the :func:`judge_options` values (for ``load_judge``)."""
    return {name: kwargs.pop(name) for name in JUDGE_OPTION_NAMES}


def judge_settings(kwargs: dict[str, Any]) -> JudgeOptions:
    """Remove the :func:`judge_options` values from ``kwargs`` as a :class:`JudgeOptions`."""
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
    from amber_eval.judge.engine import describe_requests, judge_requests, token_announcement
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
