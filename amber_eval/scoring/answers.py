"""Reading a Yes/No answer: exact in official mode, the first word in strict mode."""

from __future__ import annotations

import re

from amber_eval.scoring.records import Parsed

# Strict grammar: the first word decides, case-insensitively, after any non-word characters.
STRICT_ANSWER = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def parse_official(raw: object) -> Parsed:
    """Exactly ``Yes`` or exactly ``No`` (case-sensitive, no stripping); anything else unknown.

    Takes any value, so a missing or non-string answer of a stored record reads as unknown.
    """
    if raw == "Yes":
        return "yes"
    if raw == "No":
        return "no"
    return "unknown"


def parse_strict(raw: str) -> Parsed:
    """``^\\W*(yes|no)\\b`` case-insensitive: ``yes.``, ``**Yes**``, `` No, there is not``."""
    match = STRICT_ANSWER.match(raw)
    if match is None:
        return "unknown"
    return "yes" if match.group(1).lower() == "yes" else "no"


def parse_answer(raw: str, mode: str) -> Parsed:
    return parse_official(raw) if mode == "official" else parse_strict(raw)
