"""AMBER's annotation and query files: where they are, how they are verified, typed loading."""

from amber_eval.data.benchmark import (
    Benchmark,
    Dimension,
    EvalType,
    GenerativeItem,
    Question,
    load_benchmark,
)
from amber_eval.data.location import resolve_data_dir

__all__ = [
    "Benchmark",
    "Dimension",
    "EvalType",
    "GenerativeItem",
    "Question",
    "load_benchmark",
    "resolve_data_dir",
]
