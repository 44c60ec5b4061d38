"""Runs that lose nothing: the answer store, run folders and the ``run`` pipeline.

Importing this package imports neither torch nor transformers.
"""

from __future__ import annotations

from amber_eval.runs.answer_store import AnswerStore, default_store_path
from amber_eval.runs.config import RunConfig

__all__ = ["AnswerStore", "RunConfig", "default_store_path"]
