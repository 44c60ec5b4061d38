"""The progress bar for answering: questions done, questions/s and time left."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from amber_eval.judge.base import Progress
from amber_eval.progress import rate_progress


@contextlib.contextmanager
def answer_progress(
    total: int, description: str = "answering", *, enabled: bool | None = None
) -> Iterator[Progress]:
    """Yield a ``progress(n)`` callable that advances a bar on stderr (off when not a TTY
    unless ``enabled`` is True)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    with rate_progress(total, description, "questions", enabled=enabled) as advance:
        yield advance
