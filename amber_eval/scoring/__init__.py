"""AMBER scoring: the upstream rules (``official`` mode) and their fixed form (``strict`` mode)."""

from __future__ import annotations

from amber_eval.scoring.generative import GenerativeScore, score_generative
from amber_eval.scoring.records import DescriptionRecord, QuestionRecord
from amber_eval.scoring.similarity import SimilarityTable, load_similarity

__all__ = [
    "DescriptionRecord",
    "GenerativeScore",
    "QuestionRecord",
    "SimilarityTable",
    "load_similarity",
    "score_generative",
]
