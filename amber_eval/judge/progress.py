"""A rich progress bar for answering: questions done, questions/s and time left."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from amber_eval.judge.base import Progress


def _columns() -> list[Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- q/s" if speed is None else f"{speed:,.1f} q/s", style="cyan")

    return [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]


@contextlib.contextmanager
def answer_progress(
    total: int, description: str = "answering", *, enabled: bool | None = None
) -> Iterator[Progress]:
    """Yield a ``progress(n)`` callable that advances a bar on stderr (off when not a TTY
    unless ``enabled`` is True)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import Progress as Bar

    with Bar(*_columns(), console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
