"""One progress bar for long work: done/total, items per second, elapsed time and ETA.

Used by the judge (questions/s), runs, the segmenter (images/s) and parse-and-filter (pairs/s).
The bar goes to standard error; rich is imported only when a bar is shown.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def rate_progress(
    total: int | None,
    description: str,
    unit: str,
    *,
    enabled: bool = True,
    decimals: int = 1,
    transient: bool = False,
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``, which moves a bar on stderr by ``n`` items.

    The rate is the average since the bar started (``<unit>/s``); ``total=None`` gives a bar
    without an end. When ``enabled`` is false or there is nothing to do, ``advance`` does
    nothing. ``transient`` removes the bar when the work is done.
    """
    if not enabled or total == 0:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} " + unit + "/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=transient) as bar:
        task = bar.add_task(description, total=total, rate="-")
        start = time.monotonic()
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            elapsed = time.monotonic() - start
            rate = f"{done / elapsed:.{decimals}f}" if elapsed > 0 else "-"
            bar.update(task, advance=n, rate=rate)

        yield advance
