"""The LLM judge: presets, backends and answer modes (see docs/judge.md).

Importing this package imports neither torch nor transformers.
"""

from __future__ import annotations

from amber_eval.judge.backends import BACKENDS, load_judge
from amber_eval.judge.base import Answer, Judge, parse_answer
from amber_eval.judge.mock import MockJudge
from amber_eval.judge.presets import DEFAULT_LLM, PRESET_LIST, PRESETS, Preset
from amber_eval.judge_options import JudgeOptions

__all__ = [
    "BACKENDS",
    "DEFAULT_LLM",
    "PRESETS",
    "PRESET_LIST",
    "Answer",
    "Judge",
    "JudgeOptions",
    "MockJudge",
    "Preset",
    "load_judge",
    "parse_answer",
]
