"""``amber-eval data``: fetch, verify and locate AMBER's data files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from amber_eval.cli.options import DATA_DIR_HELP, DATA_DIR_TYPE, data_dir_option, progress_option
from amber_eval.data.manifest import UPSTREAM_BASE_URL


@click.group("data")
def data() -> None:
    """Fetch, verify and locate AMBER's data files."""


@data.command("fetch", short_help="Download AMBER's pinned data files (sha256-verified).")
@click.option(
    "--base-url",
    default=UPSTREAM_BASE_URL,
    show_default=True,
    help="Where the files are served (the pinned upstream commit's data/ folder).",
)
@click.option(
    "--dest",
    "--data-dir",
    "dest",
    type=DATA_DIR_TYPE,
    help="Folder to fill. " + DATA_DIR_HELP,
)
@click.option(
    "--retries", type=click.IntRange(min=0), default=3, show_default=True, help="Retries per file."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds."
)
@progress_option
def fetch(base_url: str, dest: Path | None, retries: int, timeout: float, progress: bool) -> None:
    """Download the pinned AMBER files into the data folder; files already there are kept."""
    from amber_eval.data.fetch import fetch_data

    result = fetch_data(
        dest,
        base_url=base_url,
        retries=retries,
        timeout=timeout,
        progress=progress and sys.stderr.isatty(),
    )
    if result.already_complete:
        click.echo(
            f"AMBER data already present and verified in {result.dest} "
            f"({len(result.present)} files); nothing to download."
        )
        return
    click.echo(
        f"downloaded {len(result.downloaded)} file(s) into {result.dest} "
        f"({len(result.present)} already present); all verified by sha256."
    )


@data.command("verify", short_help="Check every data file's sha256.")
@data_dir_option
def verify(data_dir: Path | None) -> None:
    """Check that every pinned file is present with its sha256 (exit 2 if not)."""
    from amber_eval.data.fetch import check_files
    from amber_eval.data.location import resolve_data_dir

    folder = resolve_data_dir(data_dir)
    statuses = check_files(folder)
    bad = 0
    for status in statuses:
        if status.status == "ok":
            click.echo(f"ok        {status.file.path}")
        elif status.status == "missing":
            bad += 1
            click.echo(f"missing   {status.file.path}")
        else:
            bad += 1
            click.echo(
                f"mismatch  {status.file.path} (sha256 {status.sha256}, "
                f"expected {status.file.sha256})"
            )
    if bad:
        click.echo(
            f"error: {bad} of {len(statuses)} files in {folder} are missing or corrupt; "
            "run `amber-eval data fetch`",
            err=True,
        )
        sys.exit(2)
    click.echo(f"all {len(statuses)} files in {folder} verified")


@data.command("path", short_help="Print the data folder in use.")
@data_dir_option
def path(data_dir: Path | None) -> None:
    """Print the data folder amber-eval reads (--data-dir, $AMBER_EVAL_DATA or the cache)."""
    from amber_eval.data.location import resolve_data_dir

    click.echo(str(resolve_data_dir(data_dir)))
