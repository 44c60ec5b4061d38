"""``amber-eval run``: captions -> prompts -> judge -> scores, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from amber_eval.cli.judge import judge_options, judge_settings
from amber_eval.cli.options import (
    caption_selection_options,
    data_dir_option,
    limit_images_option,
    progress_option,
    run_output_options,
    selection_settings,
)

# command-line parameter -> RunConfig field (the judge options go to RunConfig.judge_options,
# the caption selection options to RunConfig.selection)
_CONFIG_FIELDS = {
    "captions": "captions",
    "llm": "llm",
    "limit_images": "limit_images",
    "out": "out",
    "model": "model",
    "template": "template",
    "spacy_model": "spacy_model",
    "store": "store",
    "data_dir": "data_dir",
    "chunk_questions": "chunk_questions",
    "progress": "show_progress",
}


@click.command("run")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Run again from a run folder's run.json (or a TOML file with the fields of its "
    "config): the same run folder, and with the store nothing is recomputed. Options given "
    "as well override the file's.",
)
@click.option(
    "--captions",
    metavar="FILE|oracle",
    help="A caption dump (results/<model>/captions.jsonl) or 'oracle' for the oracle captions.",
)
@judge_options(llm_default=False)
@limit_images_option
@run_output_options
@click.option("--model", help="Caption model name for <out>/<model> (default: from --captions).")
@click.option("--template", default="paper", show_default=True, help="Prompt template.")
@caption_selection_options
@click.option("--spacy-model", help="spaCy pipeline for caption-coverage scoring.")
@data_dir_option
@progress_option
@click.pass_context
def run(ctx: click.Context, config_file: Path | None, **values: Any) -> None:
    """Judge captions with an LLM on AMBER's Yes/No questions and score the answers.

    Answers are stored as they are produced; run the same command again after an interruption
    and only the missing questions are asked. --mode is the judge's answer mode here (the
    scoring rules, strict and official, are both computed).
    """
    from amber_eval.runs.pipeline import run_evaluation
    from amber_eval.runs.summary import format_summary

    config = _config(ctx, config_file, values)
    result = run_evaluation(config, echo=lambda line: click.echo(line, err=True))
    if result.metrics:  # the main process: the folder is complete, its tables come next
        from amber_eval.reporting.run_outputs import write_run_outputs

        write_run_outputs(result.folder)
        click.echo(format_summary(result))


def _config(ctx: click.Context, config_file: Path | None, values: dict[str, Any]) -> Any:
    """The RunConfig of the options, on top of ``--config``'s when given."""
    import dataclasses

    from amber_eval.run_folder.config import RunConfig
    from amber_eval.run_folder.record import load_run_config

    given = {
        name
        for name in values
        if ctx.get_parameter_source(name)
        in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    }
    options = judge_settings(values)
    if options.load_in_4bit and options.load_in_8bit:
        raise click.UsageError("give --load-in-4bit or --load-in-8bit, not both")
    if config_file is None:
        for name in ("captions", "llm"):
            if values[name] is None:
                param = next(p for p in ctx.command.params if p.name == name)
                raise click.MissingParameter(ctx=ctx, param=param)
        fields = {field: values[name] for name, field in _CONFIG_FIELDS.items()}
        return RunConfig(judge_options=options, selection=selection_settings(values), **fields)
    base = load_run_config(config_file)
    changed = {field: values[name] for name, field in _CONFIG_FIELDS.items() if name in given}
    judge = {name: getattr(options, name) for name in options.names() if name in given}
    return dataclasses.replace(
        base,
        judge_options=dataclasses.replace(base.judge_options, **judge),
        selection=selection_settings(values, base=base.selection, given=given),
        **changed,
    )
