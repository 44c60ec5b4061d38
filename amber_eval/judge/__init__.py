"""The LLM judge: presets, backends and answer modes (see docs/judge.md).

Importing this package imports neither torch nor transformers.
"""

from __future__ import annotations

from amber_eval.judge.base import Answer, Judge, parse_answer
from amber_eval.judge.mock import MockJudge

__all__ = ["Answer", "Judge", "MockJudge", "parse_answer"]
