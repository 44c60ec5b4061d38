"""Runs that lose nothing: the answer store and the ``run`` pipeline (the run folder's files and
records are :mod:`amber_eval.run_folder`).

``run_evaluation(RunConfig(...)) -> RunResult`` is what ``amber-eval run`` calls. Importing this
package imports neither torch nor transformers.
"""

from __future__ import annotations

from amber_eval.run_folder.config import RunConfig
from amber_eval.runs.answer_store import AnswerStore, default_store_path
from amber_eval.runs.pipeline import RunResult, run_evaluation

__all__ = ["AnswerStore", "RunConfig", "RunResult", "default_store_path", "run_evaluation"]
