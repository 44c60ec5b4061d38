"""Where the AMBER data files live: ``--data-dir``, else ``AMBER_EVAL_DATA``, else the cache."""

from __future__ import annotations

import os
from pathlib import Path

from amber_eval.data.manifest import UPSTREAM_COMMIT

DATA_ENV = "AMBER_EVAL_DATA"


def default_cache_dir() -> Path:
    """The per-user cache folder (XDG cache on Linux) that ``amber-eval data fetch`` fills."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("amber-eval")) / "amber" / UPSTREAM_COMMIT[:12]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data folder to read: the argument, else ``$AMBER_EVAL_DATA``, else the cache folder."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_cache_dir()
