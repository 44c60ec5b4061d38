"""Where amber-eval keeps its on-disk caches (similarity tables, extracted nouns, file digests)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "AMBER_EVAL_CACHE"


def cache_root() -> Path:
    """``$AMBER_EVAL_CACHE``, else the per-user cache folder ``amber-eval``."""
    from_env = os.environ.get(CACHE_ENV)
    if from_env:
        return Path(from_env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("amber-eval"))
