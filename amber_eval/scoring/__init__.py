"""AMBER scoring: the upstream rules (``official`` mode) and their fixed form (``strict`` mode).

>>> from amber_eval.scoring import parse_strict
>>> parse_strict("**Yes**"), parse_strict(" No, there is not."), parse_strict("Maybe")
('yes', 'no', 'unknown')
"""

from __future__ import annotations

from amber_eval.scoring.generative import GenerativeScore, Vocabulary, score_generative
from amber_eval.scoring.records import DescriptionRecord, ItemRecord, QuestionRecord
from amber_eval.scoring.responses import Response, read_responses
from amber_eval.scoring.result import Coverage, ScoreResult, amber_score, format_upstream
from amber_eval.scoring.scorer import EVAL_TYPES, baseline_answers, score_responses
from amber_eval.scoring.similarity import SimilarityTable, load_similarity
from amber_eval.terms import RULES, parse_answer, parse_official, parse_strict

__all__ = [
    "EVAL_TYPES",
    "RULES",
    "Coverage",
    "DescriptionRecord",
    "GenerativeScore",
    "ItemRecord",
    "QuestionRecord",
    "Response",
    "ScoreResult",
    "SimilarityTable",
    "Vocabulary",
    "amber_score",
    "baseline_answers",
    "format_upstream",
    "load_similarity",
    "parse_answer",
    "parse_official",
    "parse_strict",
    "read_responses",
    "score_generative",
    "score_responses",
]
