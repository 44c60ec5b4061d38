"""Click options that several commands share, so they read and behave the same everywhere."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from amber_eval.captions.selection import ORDERS, SELECTION_OPTIONS

if TYPE_CHECKING:
    from amber_eval.captions.selection import SelectionSettings

F = TypeVar("F", bound=Callable[..., Any])

DATA_DIR_HELP = "AMBER data folder (default: $AMBER_EVAL_DATA, else the per-user cache)."
DATA_DIR_TYPE = click.Path(file_okay=False, path_type=Path)


def data_dir_option(function: F) -> F:
    """``--data-dir FOLDER`` (passed as ``data_dir``, None for the default lookup)."""
    return click.option("--data-dir", type=DATA_DIR_TYPE, help=DATA_DIR_HELP)(function)


def progress_option(function: F) -> F:
    """``--progress/--no-progress`` (passed as ``progress``, on by default)."""
    return click.option(
        "--progress/--no-progress", default=True, show_default=True, help="Show a progress bar."
    )(function)


def captions_option(function: F) -> F:
    """``--captions FILE|oracle`` (required): the captions a judge run judges."""
    return click.option(
        "--captions",
        required=True,
        metavar="FILE|oracle",
        help="A caption dump (results/<model>/captions.jsonl) or 'oracle' for the oracle captions.",
    )(function)


def run_output_options(function: F) -> F:
    """``--out DIR`` (the results root), ``--store FILE`` and ``--chunk-questions N``: where a
    judge run writes and how its answers are stored (``out``, ``store``, ``chunk_questions``)."""
    options = [
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("results"),
            show_default=True,
            help="Results root: runs go to <out>/<model>/<llm>-<hash>/.",
        ),
        click.option(
            "--store",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Answer store file (default: <out>/.answers.sqlite).",
        ),
        click.option(
            "--chunk-questions",
            type=click.IntRange(min=1),
            help="Questions per judge call (default: about 10 s of work); each call's answers "
            "are stored at once.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def limit_images_option(function: F) -> F:
    """``--limit-images N``: only the first N images by AMBER id (passed as ``limit_images``)."""
    return click.option(
        "--limit-images", type=click.IntRange(min=1), help="Only the first N images by AMBER id."
    )(function)


def caption_selection_options(function: F) -> F:
    """``--top-k``, ``--min-score``, ``--order``, ``--order-seed`` and ``--keep-duplicates``:
    the caption selection of every command that selects captions (:func:`selection_settings`
    turns them into a :class:`~amber_eval.captions.selection.SelectionSettings`)."""
    options = [
        click.option("--top-k", type=click.IntRange(min=1), help="At most K captions per image."),
        click.option(
            "--min-score",
            type=float,
            help="Drop regions scored below S (and regions without a score).",
        ),
        click.option(
            "--order",
            type=click.Choice(ORDERS),
            default="dump",
            show_default=True,
            help="Caption order: the dump's, highest score first, the dump's reversed, or "
            "shuffled per image by --order-seed.",
        ),
        click.option(
            "--order-seed",
            type=int,
            metavar="N",
            help="Seed of --order shuffled (default 0).",
        ),
        click.option(
            "--keep-duplicates", is_flag=True, help="Keep repeated captions (default: drop them)."
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def selection_settings(
    values: dict[str, Any],
    *,
    base: SelectionSettings | None = None,
    given: Collection[str] = (),
) -> SelectionSettings:
    """Remove the :func:`caption_selection_options` values from ``values`` as the selection
    they describe; on top of ``base`` (a config file's), only the options in ``given`` count."""
    from amber_eval.captions.selection import SelectionSettings

    options = {name: values.pop(name) for name in SELECTION_OPTIONS}
    if base is not None:
        options = {**base.to_options(), **{k: v for k, v in options.items() if k in given}}
    return SelectionSettings.from_options(**options)


def keeps_inputs(*, inputs: dict[str, str], outputs: dict[str, str]) -> Callable[[F], F]:
    """Refuse, before the command runs, an output path that is one of its input files.

    ``inputs`` and ``outputs`` map the option as the user writes it (``"--json"``,
    ``"RESPONSES"``) to the command's parameter name; the check is
    :func:`amber_eval.io.refuse_inputs_as_outputs` (same file, symbolic or hard link). Put it
    right above the function, below the click decorators.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            from amber_eval.io import refuse_inputs_as_outputs

            refuse_inputs_as_outputs(
                {label: kwargs.get(name) for label, name in outputs.items()},
                {label: kwargs.get(name) for label, name in inputs.items()},
            )
            return function(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
